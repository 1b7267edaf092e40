import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InvalidInputError } from '../util/index.js';
import { CONFIG_FILE } from './project.js';
import { GITIGNORE_LINE, gitignore } from './scaffold-files.js';
import { projectFiles, readIfExists, recordTemplate, TEMPLATE_RECORD, templateDir } from './template.js';
import { displayPath } from './yaml-source.js';

/** Options of scaffoldProject. */
export interface ScaffoldOptions {
  /** Project name (default: the directory's name). */
  name?: string;
  /** Overwrite an existing sluice.yaml. */
  force?: boolean;
  /** A project template shipped with Sluice (`templates/<name>/`), e.g. `marketplace`. */
  template?: string;
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

  const rendered = await projectFiles(
    name,
    options.template === undefined ? undefined : templateDir(options.template),
  );
  const configText = rendered.get(CONFIG_FILE) ?? '';
  const config = join(root, CONFIG_FILE);
  if (options.force) {
    await writeFile(config, configText);
    created.push(config);
  } else if (await writeNew(config, configText)) {
    created.push(config);
  } else {
    throw new InvalidInputError(
      `${displayPath(config)} already exists: ${root} is already a Sluice project`,
      options.template === undefined
        ? 'pick another directory, or pass --force to overwrite sluice.yaml (other files are kept)'
        : `pick another directory, pass --upgrade to update the files of the template you have not edited, or --force to overwrite sluice.yaml (other files are kept)`,
    );
  }

  for (const sub of ['pipelines', 'models', 'events']) await mkdir(join(root, sub), { recursive: true });
  for (const [file, text] of rendered) {
    if (file === CONFIG_FILE) continue;
    const target = join(root, file);
    await mkdir(dirname(target), { recursive: true });
    if (await writeNew(target, text)) created.push(target);
  }
  if (options.template !== undefined) {
    await recordTemplate(root, options.template, name, rendered);
    created.push(join(root, TEMPLATE_RECORD));
  }

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
