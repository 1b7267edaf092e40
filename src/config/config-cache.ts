/**
 * The validated configuration of a project, kept in `.sluice/config-cache.json` so that
 * commands started often (`sluice sql`) skip parsing and validating sluice.yaml and so never
 * load the YAML parser or the schemas. The key is a hash of everything the result depends
 * on: the text of sluice.yaml and of the project files whose YAML is checked, the project
 * directory, the environment, and the build of the config code (name, size and mtime of each
 * of its compiled files). A configuration whose values reference `${VAR}` is never cached:
 * it depends on, and the cache would write out, the variables. A missing, unreadable or
 * corrupt cache file, or one with another key, means a full validation, as does any config
 * with a problem (only valid configurations are written), so errors keep their file:line.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SluiceConfig } from './schema.js';

/** The cache file inside the project's data directory. */
export const CONFIG_CACHE_FILE = 'config-cache.json';

let codeStamp: string | undefined;

/** Names, sizes and mtimes of the config code's files: a new build invalidates the cache. */
function configCodeStamp(): string {
  if (codeStamp === undefined) {
    const dir = dirname(fileURLToPath(import.meta.url));
    codeStamp = readdirSync(dir)
      .filter((name) => name.endsWith('.js'))
      .sort()
      .map((name) => {
        const info = statSync(join(dir, name));
        return `${name}:${info.size}:${info.mtimeMs}`;
      })
      .join('\n');
  }
  return codeStamp;
}

/** The cache key of these inputs (each part is length-prefixed, so parts cannot run together). */
export function configCacheKey(parts: readonly string[]): string {
  const hash = createHash('sha256').update(configCodeStamp());
  for (const part of parts) hash.update(`\u0000${part.length}:`).update(part);
  return hash.digest('hex');
}

/** The cached configuration stored under `key`, else undefined. */
export async function readCachedConfig(dataDir: string, key: string): Promise<SluiceConfig | undefined> {
  let cached: unknown;
  try {
    cached = JSON.parse(await readFile(join(dataDir, CONFIG_CACHE_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  const entry = cached as { key?: unknown; config?: unknown } | null;
  if (entry?.key !== key || typeof entry.config !== 'object' || entry.config === null) return undefined;
  return entry.config as SluiceConfig;
}

/**
 * Store `config` under `key` when the data directory exists (it is never created here);
 * written to a temporary file and renamed, so readers see the old or the new file whole.
 */
export async function writeCachedConfig(dataDir: string, key: string, config: SluiceConfig): Promise<void> {
  const tmp = join(dataDir, `${CONFIG_CACHE_FILE}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, JSON.stringify({ key, config }), { mode: 0o600 });
    await rename(tmp, join(dataDir, CONFIG_CACHE_FILE));
  } catch {
    // No data directory yet, or not writable: the next start validates again.
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}
