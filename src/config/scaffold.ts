import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { InvalidInputError } from '../util/index.js';
import { CONFIG_FILE } from './project.js';
import { GITIGNORE_LINE, gitignore, pipelinesReadme, projectReadme, sluiceYaml } from './scaffold-files.js';
import { displayPath } from './yaml-source.js';

/** Options of scaffoldProject. */
export interface ScaffoldOptions {
  /** Project name (default: the directory's name). */
  name?: string;
  /** Overwrite an existing sluice.yaml. */
  force?: boolean;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Write `text` unless the file exists; true when written. */
async function writeNew(path: string, text: string): Promise<boolean> {
  try {
    await writeFile(path, text, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/**
 * Create a project in `dir`: sluice.yaml, pipelines/, models/, events/, .gitignore, README.md.
 * Existing files other than sluice.yaml are kept. @throws InvalidInputError when sluice.yaml exists and not `force`
 */
export async function scaffoldProject(
  dir: string,
  options: ScaffoldOptions = {},
): Promise<{ created: string[] }> {
  const root = resolve(dir);
  const name = options.name?.trim() || basename(root);
  const created: string[] = [];
  await mkdir(root, { recursive: true });

  const config = join(root, CONFIG_FILE);
  if (options.force) {
    await writeFile(config, sluiceYaml(name));
    created.push(config);
  } else if (await writeNew(config, sluiceYaml(name))) {
    created.push(config);
  } else {
    throw new InvalidInputError(
      `${displayPath(config)} already exists: ${root} is already a Sluice project`,
      'pick another directory, or pass --force to overwrite sluice.yaml (other files are kept)',
    );
  }

  for (const sub of ['pipelines', 'models', 'events']) await mkdir(join(root, sub), { recursive: true });
  const files: [string, string][] = [
    [join(root, 'pipelines', 'README.md'), pipelinesReadme()],
    [join(root, 'models', '.gitkeep'), ''],
    [join(root, 'events', '.gitkeep'), ''],
    [join(root, 'README.md'), projectReadme(name)],
  ];
  for (const [path, text] of files) if (await writeNew(path, text)) created.push(path);

  const ignore = join(root, '.gitignore');
  const current = await readIfExists(ignore);
  if (current === undefined) {
    await writeFile(ignore, gitignore());
    created.push(ignore);
  } else if (
    !current.split(/\r?\n/).some((line) => line.trim() === GITIGNORE_LINE || line.trim() === '.sluice')
  ) {
    await writeFile(
      ignore,
      `${current}${current.endsWith('\n') || current === '' ? '' : '\n'}${gitignore()}`,
    );
  }
  return { created };
}
