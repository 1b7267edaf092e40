import { basename, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DeepPartial } from './overlay.js';
import type {
  EnvironmentConfig,
  LogConfig,
  MetastoreConfig,
  ParsedSluiceConfig,
  SluiceConfig,
  StorageConfig,
} from './schema.js';

type Plain = Record<string, unknown>;

/** The selected environment: the explicit option, else SLUICE_ENV, else none. */
export function selectedEnvironment(options: {
  env?: Readonly<Record<string, string | undefined>>;
  environment?: string;
}): string | undefined {
  const env = options.env ?? process.env;
  return options.environment || env.SLUICE_ENV || undefined;
}

function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `overlay` deep-merged over `base`: mappings merge, anything else replaces. */
export function deepMerge(base: unknown, overlay: unknown): unknown {
  if (!isPlain(base) || !isPlain(overlay)) return overlay === undefined ? base : overlay;
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(overlay)) out[key] = deepMerge(base[key], value);
  return out;
}

/**
 * Drop keys written without a value (`key:`), so they take their default; an environment
 * written without a value is an empty override.
 */
export function dropEmptyValues(value: unknown, depth = 0): unknown {
  if (Array.isArray(value)) return value.map((v) => dropEmptyValues(v, depth + 1));
  if (!isPlain(value)) return value;
  const out: Plain = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === null) continue;
    out[key] = key === 'environments' && depth === 0 ? dropEnvironments(v) : dropEmptyValues(v, depth + 1);
  }
  return out;
}

function dropEnvironments(value: unknown): unknown {
  if (!isPlain(value)) return value;
  const out: Plain = {};
  for (const [name, overlay] of Object.entries(value))
    out[name] = overlay === null ? {} : dropEmptyValues(overlay, 1);
  return out;
}

/** A path from the config made absolute against the project directory. */
export function projectPath(dir: string, path: string): string {
  return isAbsolute(path) ? resolve(path) : resolve(dir, path);
}

function fileUrl(dir: string, url: string): string {
  let path = url.slice('file://'.length);
  try {
    path = decodeURIComponent(path);
  } catch {
    // Not percent-encoded: the path is used as written.
  }
  return pathToFileURL(projectPath(dir, path)).href;
}

function sqliteUrl(dir: string, url: string): string {
  const rest = url.slice('sqlite://'.length);
  if (rest === ':memory:') return url;
  const [path = '', query] = rest.split('?', 2);
  return `sqlite://${projectPath(dir, path)}${query === undefined ? '' : `?${query}`}`;
}

function resolveStorage<T extends DeepPartial<StorageConfig>>(dir: string, storage: T): T {
  const out = { ...storage };
  if (out.url?.startsWith('file://')) out.url = fileUrl(dir, out.url);
  if (out.cache?.dir) out.cache = { ...out.cache, dir: projectPath(dir, out.cache.dir) };
  return out;
}

function resolveMetastore<T extends DeepPartial<MetastoreConfig>>(dir: string, metastore: T): T {
  return metastore.url?.startsWith('sqlite://')
    ? { ...metastore, url: sqliteUrl(dir, metastore.url) }
    : metastore;
}

function resolveLog<T extends DeepPartial<LogConfig>>(dir: string, log: T): T {
  return log.file ? { ...log, file: projectPath(dir, log.file) } : log;
}

function resolveEnvironment(dir: string, env: EnvironmentConfig): EnvironmentConfig {
  const out = { ...env };
  if (out.storage) out.storage = resolveStorage(dir, out.storage);
  if (out.metastore) out.metastore = resolveMetastore(dir, out.metastore);
  if (out.log) out.log = resolveLog(dir, out.log);
  return out;
}

/** Relative `file://`, `sqlite://`, cache and log paths made absolute; the name defaulted. */
export function resolveConfig(config: ParsedSluiceConfig, dir: string): SluiceConfig {
  const environments: Record<string, EnvironmentConfig> = {};
  for (const [name, env] of Object.entries(config.environments))
    environments[name] = resolveEnvironment(dir, env);
  return {
    ...config,
    name: config.name ?? basename(dir),
    storage: resolveStorage(dir, config.storage),
    metastore: resolveMetastore(dir, config.metastore),
    log: resolveLog(dir, config.log),
    environments,
  };
}
