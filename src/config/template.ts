/**
 * Project templates and their upgrades. Every file `init` writes (sluice.yaml, READMEs and the
 * template's files) is recorded with a checksum in `.sluice-template.json` at the project
 * root, next to the files it describes (so it travels with them, and survives deleting the
 * `.sluice/` data directory). An upgrade renders the files of the installed template again
 * and replaces each file whose text still has the recorded checksum; a file the user edited
 * is left alone and reported.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../util/index.js';
import { CONFIG_FILE } from './project.js';
import { pipelinesReadme, projectReadme, sluiceYaml } from './scaffold-files.js';

/** Templates shipped in the package's templates/ directory. */
export const TEMPLATES = ['marketplace'] as const;

/** The record of the template files of a project, relative to its directory. */
export const TEMPLATE_RECORD = '.sluice-template.json';

/** The package's templates/ directory (next to dist/ in the installed package). */
const TEMPLATE_ROOT = fileURLToPath(new URL('../../../templates/', import.meta.url));

/** What `.sluice-template.json` holds. */
export interface TemplateRecord {
  /** The template's name, e.g. `marketplace`. */
  template: string;
  /** The project name the files were rendered with. */
  name: string;
  /** Checksum of every file of the template version that wrote the project. */
  version: string;
  /** Each written file (relative path) → SHA-256 of the text written. */
  files: Record<string, string>;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The directory of a shipped template. @throws InvalidInputError for an unknown one */
export function templateDir(name: string): string {
  if (!(TEMPLATES as readonly string[]).includes(name))
    throw new InvalidInputError(`unknown template "${name}"`, `templates: ${TEMPLATES.join(', ')}`);
  return join(TEMPLATE_ROOT, name);
}

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

/**
 * The files `init` gives a project named `name` (relative path → text), from `template`'s
 * directory when one is given; `.gitignore` aside (it is merged, never replaced).
 */
export async function projectFiles(name: string, template?: string): Promise<Map<string, string>> {
  const bus = template ? await readIfExists(join(template, 'bus.yaml')) : undefined;
  const files = new Map<string, string>([
    [CONFIG_FILE, withTemplateConfig(sluiceYaml(name), bus)],
    [join('pipelines', 'README.md'), pipelinesReadme()],
    [join('models', '.gitkeep'), ''],
    [join('events', '.gitkeep'), ''],
    ['README.md', projectReadme(name)],
  ]);
  if (template)
    for (const file of await templateFiles(template))
      if (file !== 'bus.yaml') files.set(file, await readFile(join(template, file), 'utf8'));
  return files;
}

/** One checksum over every file of a rendered template. */
function versionOf(files: Map<string, string>): string {
  return sha256(
    [...files]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([path, text]) => `${path}\0${sha256(text)}\n`)
      .join(''),
  );
}

/** The project's template record, if it has one. @throws InvalidInputError when it is not valid JSON */
export async function readTemplateRecord(dir: string): Promise<TemplateRecord | undefined> {
  const path = join(resolve(dir), TEMPLATE_RECORD);
  const text = await readIfExists(path);
  if (text === undefined) return undefined;
  try {
    const record = JSON.parse(text) as TemplateRecord;
    if (typeof record.template !== 'string' || typeof record.files !== 'object') throw new Error('fields');
    return record;
  } catch {
    throw new InvalidInputError(
      `${path} is not a template record`,
      `delete it: files that differ from the template are then treated as edited`,
    );
  }
}

/** The name a project was rendered with: its record's, else `name:` of sluice.yaml, else the directory's. */
async function renderedName(root: string, record: TemplateRecord | undefined): Promise<string> {
  if (record) return record.name;
  const config = (await readIfExists(join(root, CONFIG_FILE))) ?? '';
  const name = /^name:[ \t]*(.+?)[ \t]*$/m.exec(config)?.[1]?.replace(/^(['"])(.*)\1$/, '$2');
  return name || basename(root);
}

async function writeRecord(root: string, record: TemplateRecord): Promise<void> {
  const files = Object.fromEntries(Object.entries(record.files).sort(([a], [b]) => (a < b ? -1 : 1)));
  await writeFile(join(root, TEMPLATE_RECORD), `${JSON.stringify({ ...record, files }, null, 2)}\n`);
}

/**
 * Record, after `init`, the files of `rendered` whose text on disk is what the template gave
 * (files that existed before and differ are not the template's, and are not recorded).
 */
export async function recordTemplate(
  root: string,
  template: string,
  name: string,
  rendered: Map<string, string>,
): Promise<void> {
  const files: Record<string, string> = {};
  for (const [path, text] of rendered)
    if ((await readIfExists(join(root, path))) === text) files[path] = sha256(text);
  await writeRecord(root, { template, name, version: versionOf(rendered), files });
}

/** Where a project stands against the installed version of its template. */
export interface TemplateStatus {
  template: string;
  /** Whether `.sluice-template.json` exists (projects made before it was written have none). */
  recorded: boolean;
  /** Whether the project's files come from the installed template version. */
  current: boolean;
}

/**
 * Compare a project with the installed `template`: by the recorded version, or without a
 * record, by whether every template file on disk reads as the template has it now.
 */
export async function templateStatus(dir: string, template: string): Promise<TemplateStatus> {
  const root = resolve(dir);
  const record = await readTemplateRecord(root);
  const name = await renderedName(root, record);
  const rendered = await projectFiles(name, templateDir(record?.template ?? template));
  if (record)
    return { template: record.template, recorded: true, current: record.version === versionOf(rendered) };
  for (const [path, text] of rendered) {
    const now = await readIfExists(join(root, path));
    if (now !== undefined && now !== text) return { template, recorded: false, current: false };
  }
  return { template, recorded: false, current: true };
}

/** What an upgrade did, by file (paths relative to the project). */
export interface UpgradeReport {
  template: string;
  /** New in the template, or missing from the project: written. */
  created: string[];
  /** Unedited since the template wrote them: replaced by the new version. */
  updated: string[];
  /** Already what the template has now. */
  unchanged: string[];
  /** Edited (or of unknown origin) and different from the template: left as they are. */
  kept: string[];
  /** No longer in the template and unedited: deleted. */
  removed: string[];
  /** No longer in the template but edited: left as they are. */
  orphaned: string[];
}

/**
 * Bring a project made from a template up to the installed version of it: update the files
 * the user has not edited, create new ones, delete unedited ones the template dropped, and
 * keep (and report) every edited file.
 * @throws InvalidInputError when `dir` is no project, or the template is unknown
 */
export async function upgradeProject(dir: string, o: { template?: string } = {}): Promise<UpgradeReport> {
  const root = resolve(dir);
  const record = await readTemplateRecord(root);
  if (!record && (await readIfExists(join(root, CONFIG_FILE))) === undefined)
    throw new InvalidInputError(
      `${root} is not a Sluice project (no ${CONFIG_FILE})`,
      'create it with: sluice init DIR --template NAME',
    );
  const template = o.template ?? record?.template;
  if (!template)
    throw new InvalidInputError(
      `${root} has no ${TEMPLATE_RECORD}: name the template it was made from`,
      `sluice init ${dir} --template ${TEMPLATES[0]} --upgrade`,
    );
  const source = templateDir(template);
  if (record && record.template !== template)
    throw new InvalidInputError(
      `${root} was made from the template "${record.template}", not "${template}"`,
      `upgrade it with --template ${record.template}`,
    );
  const name = await renderedName(root, record);
  const rendered = await projectFiles(name, source);
  const before = record?.files ?? {};
  const files: Record<string, string> = {};
  const report: UpgradeReport = {
    template,
    created: [],
    updated: [],
    unchanged: [],
    kept: [],
    removed: [],
    orphaned: [],
  };
  for (const [path, text] of rendered) {
    const target = join(root, path);
    const now = await readIfExists(target);
    if (now === text) {
      report.unchanged.push(path);
      files[path] = sha256(text);
    } else if (now === undefined || sha256(now) === before[path]) {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, text);
      report[now === undefined ? 'created' : 'updated'].push(path);
      files[path] = sha256(text);
    } else {
      report.kept.push(path);
      const recorded = before[path];
      if (recorded) files[path] = recorded;
    }
  }
  for (const [path, hash] of Object.entries(before)) {
    if (rendered.has(path)) continue;
    const now = await readIfExists(join(root, path));
    if (now === undefined) continue;
    if (sha256(now) === hash) {
      await rm(join(root, path));
      report.removed.push(path);
    } else report.orphaned.push(path);
  }
  await writeRecord(root, { template, name, version: versionOf(rendered), files });
  return report;
}
