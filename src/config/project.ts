import { type Dirent, existsSync } from 'node:fs';
import { access, readdir } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { ConfigError } from '../util/index.js';
import { configCacheKey, readCachedConfig, writeCachedConfig } from './config-cache.js';
import type { ConfigOptions } from './config-file.js';
import type { Env } from './interpolate.js';
import type { ConfigIssue } from './issues.js';
import { displayPath, readConfigText } from './read-text.js';
import { selectedEnvironment } from './resolve.js';
import type { SluiceConfig } from './schema.js';

/** The project file every project directory holds. */
export const CONFIG_FILE = 'sluice.yaml';

/** A loaded project: its resolved configuration and the files it defines. */
export interface Project {
  /** Absolute project directory. */
  dir: string;
  /** Absolute path of sluice.yaml. */
  file: string;
  config: SluiceConfig;
  /** `<dir>/.sluice`: the data directory of the embedded backends. */
  dataDir: string;
  /** The environment merged into `config`, if any. */
  environment?: string;
  /** Absolute paths, sorted: pipelines/*.yaml|yml|ts, models/**\/*.sql, events/*.yaml|yml. */
  files: { pipelines: string[]; models: string[]; events: string[] };
}

/** Options of loadProject. */
export interface LoadProjectOptions {
  /** Variables for `${VAR}` interpolation and SLUICE_ENV; defaults to process.env. */
  env?: Env;
  /** Environment to merge over the base configuration (else SLUICE_ENV). */
  environment?: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** The nearest directory at or above `start` holding a sluice.yaml, else undefined. */
export function findProjectDir(start: string = process.cwd()): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, CONFIG_FILE))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Load the project in `dir`: sluice.yaml validated and resolved, the environment merged,
 * project files listed and their YAML checked. @throws ConfigError
 */
export async function loadProject(dir: string, options: LoadProjectOptions = {}): Promise<Project> {
  const root = resolve(dir);
  const file = join(root, CONFIG_FILE);
  if (!(await exists(file))) throw await missingConfig(root, file);
  const environment = selectedEnvironment(options);
  const dataDir = join(root, '.sluice');
  const configOptions: ConfigOptions = { file: displayPath(file), dir: root, env: options.env, environment };
  const text = await readConfigText(file, configOptions.file);
  const files = {
    pipelines: (await listFiles(join(root, 'pipelines'), ['.yaml', '.yml', '.ts'], false)).filter(
      (f) => !f.endsWith('.d.ts'),
    ),
    models: await listFiles(join(root, 'models'), ['.sql'], true),
    events: await listFiles(join(root, 'events'), ['.yaml', '.yml'], false),
  };
  const mappings = [...files.pipelines.filter((f) => !f.endsWith('.ts')), ...files.events];
  const texts = await Promise.all(mappings.map((path) => readConfigText(path, displayPath(path))));
  const key = configCacheKey([
    root,
    environment ?? '',
    text,
    ...mappings.flatMap((m, i) => [m, texts[i] ?? '']),
  ]);
  let config = await readCachedConfig(dataDir, key);
  if (!config) {
    // Parsing and validating load the YAML parser and the schemas: only on a cache miss.
    const { parseConfigChecked } = await import('./config-file.js');
    const checked = parseConfigChecked(text, configOptions);
    await checkMappings(mappings, texts);
    config = checked.config;
    if (!checked.referencesVariables) await writeCachedConfig(dataDir, key, config);
  }
  return { dir: root, file, config, dataDir, environment, files };
}

async function missingConfig(root: string, file: string): Promise<ConfigError> {
  if (await exists(join(root, 'sluice.yml'))) {
    return new ConfigError(
      displayPath(file),
      undefined,
      undefined,
      'no sluice.yaml, but a sluice.yml',
      'rename sluice.yml to sluice.yaml',
    );
  }
  return new ConfigError(
    displayPath(file),
    undefined,
    undefined,
    `no ${CONFIG_FILE} in ${root}: not a Sluice project`,
    `run "sluice init DIR" to create a project, or pass --project DIR`,
  );
}

async function listFiles(dir: string, extensions: string[], recursive: boolean): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code === 'ENOENT' ||
      (err as NodeJS.ErrnoException).code === 'ENOTDIR'
    ) {
      return [];
    }
    throw err;
  }
  const found: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory() && recursive) found.push(...(await listFiles(path, extensions, true)));
    else if (entry.isFile() && extensions.includes(extname(entry.name).toLowerCase())) found.push(path);
  }
  return found.sort();
}

/** Each file must be YAML whose top level is a mapping; their own schemas are checked by their areas. */
async function checkMappings(paths: string[], texts: string[]): Promise<void> {
  const [{ z }, { checkYamlText }, { issuesError }] = await Promise.all([
    import('zod'),
    import('./load-yaml.js'),
    import('./issues.js'),
  ]);
  const anyMapping = z.record(z.string(), z.unknown(), {
    error: 'expected a mapping at the top of the file',
  });
  const issues: ConfigIssue[] = [];
  for (const [i, path] of paths.entries()) {
    issues.push(
      ...checkYamlText(texts[i] ?? '', displayPath(path), anyMapping, { interpolate: false }).issues,
    );
  }
  if (issues.length > 0) throw issuesError(issues);
}
