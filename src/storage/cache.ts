import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { BackendError } from '../util/index.js';
import { errCode } from './local-fs.js';
import type { StorageLogger } from './options.js';

/** Default bound of a read cache: 10 GiB. */
export const DEFAULT_CACHE_MAX_BYTES = 10 * 1024 ** 3;
const TEMP_DIR = '.tmp';
/** Temp downloads older than this belong to no live process and are removed at startup. */
const STALE_TEMP_MS = 3600_000;

/** Identifies one immutable version of a remote object. */
export interface CachedObject {
  /** Store URL, key, etag and size: any change gives a different cache entry. */
  id: string;
  /** The object key; its extension is kept so that readers can sniff the format (`.parquet`, `.csv.gz`). */
  key: string;
  size: number;
}

/** Writes the object's bytes to the given path (a temp file the cache then moves into place). */
export type Download = (tmpPath: string) => Promise<void>;

/** Counters for status pages and tests. */
export interface ReadCacheStats {
  hits: number;
  misses: number;
  downloads: number;
  evictions: number;
  bytes: number;
  entries: number;
}

interface Entry {
  path: string;
  size: number;
}

/**
 * A size-bounded directory of local copies of remote objects, evicting the least recently
 * used. The index lives in memory (Map order = recency), rebuilt from file mtimes at startup;
 * hits touch the mtime so recency survives restarts. Concurrent requests for one object share
 * one download; downloads land in a temp file renamed into place, so no partial file is ever
 * visible under an entry's name.
 */
export class ReadCache {
  readonly dir: string;
  readonly maxBytes: number;
  readonly #log: StorageLogger | undefined;
  readonly #entries = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<string>>();
  #bytes = 0;
  #ready: Promise<void> | undefined;
  readonly #stats = { hits: 0, misses: 0, downloads: 0, evictions: 0 };

  constructor(o: { dir: string; maxBytes?: number; log?: StorageLogger }) {
    this.dir = resolve(o.dir);
    this.maxBytes = o.maxBytes ?? DEFAULT_CACHE_MAX_BYTES;
    this.#log = o.log;
  }

  /** The path of a local copy of `obj`, downloading it with `download` on a miss. */
  async localPath(obj: CachedObject, download: Download): Promise<string> {
    await this.#load();
    const name = entryName(obj);
    const hit = this.#entries.get(name);
    if (hit && (await this.#touch(name, hit))) {
      this.#stats.hits++;
      return hit.path;
    }
    const pending = this.#inflight.get(name);
    if (pending) {
      this.#stats.hits++;
      return pending;
    }
    this.#stats.misses++;
    const p = this.#fetch(name, obj, download).finally(() => this.#inflight.delete(name));
    this.#inflight.set(name, p);
    return p;
  }

  stats(): ReadCacheStats {
    return { ...this.#stats, bytes: this.#bytes, entries: this.#entries.size };
  }

  async #fetch(name: string, obj: CachedObject, download: Download): Promise<string> {
    const tmp = join(this.dir, TEMP_DIR, `${randomBytes(9).toString('base64url')}.part`);
    const final = join(this.dir, name.slice(0, 2), name);
    try {
      await mkdir(join(this.dir, TEMP_DIR), { recursive: true });
      this.#stats.downloads++;
      await download(tmp);
      const fh = await open(tmp, 'r+');
      try {
        const { size } = await fh.stat();
        if (size !== obj.size) {
          throw new BackendError(
            `download of ${JSON.stringify(obj.key)} into the read cache got ${size} bytes, expected ${obj.size}`,
            'the object changed while it was read; retry',
          );
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      // Recency is the mtime, set from the same clock as hits (the kernel stamps writes with a
      // coarser clock, which could order a new file before an entry hit just before it).
      const now = new Date();
      await utimes(tmp, now, now);
      await mkdir(join(this.dir, name.slice(0, 2)), { recursive: true });
      await rename(tmp, final);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    this.#add(name, { path: final, size: obj.size });
    await this.#evict(name);
    return final;
  }

  #add(name: string, entry: Entry): void {
    const old = this.#entries.get(name);
    if (old) {
      this.#bytes -= old.size;
      this.#entries.delete(name);
    }
    this.#entries.set(name, entry);
    this.#bytes += entry.size;
  }

  /** Mark an entry most recently used; false if its file vanished (removed by another process). */
  async #touch(name: string, entry: Entry): Promise<boolean> {
    const now = new Date();
    try {
      await utimes(entry.path, now, now);
    } catch (err) {
      if (errCode(err) !== 'ENOENT') throw err;
      this.#entries.delete(name);
      this.#bytes -= entry.size;
      return false;
    }
    this.#entries.delete(name);
    this.#entries.set(name, entry);
    return true;
  }

  /** Remove least recently used entries until under maxBytes; `keep` (just added) stays. */
  async #evict(keep: string): Promise<void> {
    for (const [name, entry] of this.#entries) {
      if (this.#bytes <= this.maxBytes) return;
      if (name === keep) continue;
      this.#entries.delete(name);
      this.#bytes -= entry.size;
      this.#stats.evictions++;
      await rm(entry.path, { force: true });
      this.#log?.debug({ path: entry.path, size: entry.size }, 'read cache eviction');
    }
  }

  #load(): Promise<void> {
    this.#ready ??= this.#scan().catch((err: unknown) => {
      this.#ready = undefined;
      throw new BackendError(
        `cannot use the read cache directory ${this.dir}: ${errCode(err) ?? err}`,
        undefined,
        {
          cause: err,
        },
      );
    });
    return this.#ready;
  }

  async #scan(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const found: { name: string; entry: Entry; mtimeMs: number }[] = [];
    for (const sub of await readdir(this.dir, { withFileTypes: true })) {
      if (!sub.isDirectory()) continue;
      const subDir = join(this.dir, sub.name);
      const staleBefore = Date.now() - STALE_TEMP_MS;
      for (const name of await readdir(subDir)) {
        const path = join(subDir, name);
        const st = await stat(path).catch(() => undefined);
        if (!st?.isFile()) continue;
        if (sub.name === TEMP_DIR) {
          if (st.mtimeMs < staleBefore) await rm(path, { force: true });
          continue;
        }
        found.push({ name, entry: { path, size: st.size }, mtimeMs: st.mtimeMs });
      }
    }
    found.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const f of found) this.#add(f.name, f.entry);
    const newest = found.at(-1);
    if (newest) await this.#evict(newest.name);
  }
}

/** `<sha256 of id><extension of the key>`: stable across processes, safe as a file name. */
function entryName(obj: CachedObject): string {
  const hash = createHash('sha256').update(obj.id).digest('hex');
  const base = basename(obj.key);
  const dot = base.indexOf('.', 1);
  const ext = dot > 0 ? base.slice(dot) : '';
  return /^[A-Za-z0-9._-]{1,32}$/.test(ext) ? hash + ext : hash;
}

const shared = new Map<string, ReadCache>();

/** One cache per directory in a process, so that stores sharing a directory share its bound. */
export function sharedReadCache(o: { dir: string; maxBytes?: number; log?: StorageLogger }): ReadCache {
  const dir = resolve(o.dir);
  let cache = shared.get(dir);
  if (!cache) {
    cache = new ReadCache({ ...o, dir });
    shared.set(dir, cache);
  }
  return cache;
}
