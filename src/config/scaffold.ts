import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  /** A project template shipped with Sluice (`templates/<name>/`), e.g. `marketplace`. */
  template?: string;
}

/** Templates shipped in the package's templates/ directory. */
export const TEMPLATES = ['marketplace'] as const;

/** The package's templates/ directory (next to dist/ in the installed package). */
const TEMPLATE_ROOT = fileURLToPath(new URL('../../../templates/', import.meta.url));

/** Every file of a template directory, as paths relative to it. */
async function templateFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** sluice.yaml with a template's bus settings (its `bus.yaml`: lines indented under `bus:`). */
function withTemplateConfig(base: string, bus: string | undefined): string {
  if (!bus) return base;
  return base.replace('bus:\n  log: embedded\n', `bus:\n  log: embedded\n${bus.trimEnd()}\n`);
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

  let template: string | undefined;
  if (options.template !== undefined) {
    if (!(TEMPLATES as readonly string[]).includes(options.template))
      throw new InvalidInputError(
        `unknown template "${options.template}"`,
        `templates: ${TEMPLATES.join(', ')}`,
      );
    template = join(TEMPLATE_ROOT, options.template);
  }
  const extra = template ? await readIfExists(join(template, 'bus.yaml')) : undefined;
  const configText = withTemplateConfig(sluiceYaml(name), extra);
  const config = join(root, CONFIG_FILE);
  if (options.force) {
    await writeFile(config, configText);
    created.push(config);
  } else if (await writeNew(config, configText)) {
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
  if (template) {
    for (const file of await templateFiles(template)) {
      if (file === 'bus.yaml') continue;
      const target = join(root, file);
      await mkdir(dirname(target), { recursive: true });
      if (await writeNew(target, await readFile(join(template, file), 'utf8'))) created.push(target);
    }
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
