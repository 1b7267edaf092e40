import { close, createReadStream, fstat, open as openCallback, type Stats } from 'node:fs';
import {
  type FileHandle,
  link,
  mkdir,
  mkdtemp,
  open,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
} from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { BackendError, ConflictError, InvalidInputError, NotFoundError } from '../util/index.js';
import { checkRange } from './body.js';
import { validateKey, validatePrefix } from './keys.js';
import {
  DirectorySyncs,
  errCode,
  mkdirDurably,
  removeStaleTemp,
  TEMP_DIR,
  tempPath,
  writeDurably,
} from './local-fs.js';
import { walkKeys } from './local-list.js';
import type { OpenStoreOptions, StorageLogger, StorageOptions } from './options.js';
import type { Body, GetOptions, ListOptions, ObjectInfo, ObjectStore, SignalOptions } from './types.js';

/** Temp files older than this are leftovers of crashed writes, removed when a store opens. */
const STALE_TEMP_MS = 24 * 3600_000;
const DEFAULT_PAGE_SIZE = 1000;
const DELETE_CONCURRENCY = 16;
/** How often a write retries when a concurrent delete removes the directory it writes into. */
const PLACE_ATTEMPTS = 5;
const openFd = promisify(openCallback);
const fstatFd = promisify(fstat);
const closeFd = promisify(close);

/** Open the local-directory store of a `file:///absolute/dir` URL, creating the directory. */
export async function openLocalStore(
  url: URL,
  _config: StorageOptions,
  o: OpenStoreOptions,
): Promise<ObjectStore> {
  const root = localRoot(url);
  try {
    await mkdir(join(root, TEMP_DIR), { recursive: true });
  } catch (err) {
    throw new BackendError(
      `cannot create the storage directory ${root}: ${errCode(err) ?? err}`,
      'check storage.url and the permissions of its parent directory',
      { cause: err },
    );
  }
  await removeStaleTemp(root, STALE_TEMP_MS).catch((err: unknown) =>
    o.log?.warn({ err, root }, 'temp cleanup failed'),
  );
  return new LocalStore(root, o.log);
}

/** The directory of a `file:` URL. @throws InvalidInputError unless the URL is absolute. */
export function localRoot(url: URL): string {
  if (url.protocol !== 'file:' || (url.host !== '' && url.host !== 'localhost') || url.search || url.hash) {
    throw new InvalidInputError(
      `storage url ${JSON.stringify(url.href)} is not an absolute file URL`,
      'write file:///absolute/dir (relative paths are resolved against the project directory first)',
    );
  }
  const path = fileURLToPath(url);
  if (!isAbsolute(path)) throw new InvalidInputError(`storage url ${url.href} is not absolute`);
  return resolve(path);
}

/** Objects as files under a root directory; writes are atomic (temp file, fsync, rename). */
export class LocalStore implements ObjectStore {
  readonly url: string;
  readonly #root: string;
  readonly #dirSyncs = new DirectorySyncs();
  /** The device of the root, once known (imports from the same device are renamed in). */
  #rootDevice: number | undefined;
  readonly #log: StorageLogger | undefined;

  constructor(root: string, log?: StorageLogger) {
    this.#root = root;
    this.#log = log;
    this.url = pathToFileURL(root).href;
  }

  async get(key: string, o: GetOptions = {}): Promise<Readable> {
    const range = checkRange(o.range);
    // A plain fd (not a FileHandle) keeps fs.ReadStream on its fastest path for small objects.
    const path = this.#path(key);
    o.signal?.throwIfAborted();
    let fd: number;
    let isFile = false;
    try {
      fd = await openFd(path, 'r');
      isFile = await fstatFd(fd).then(
        (st) => st.isFile(),
        () => false,
      );
    } catch (err) {
      throw this.#readError(key, path, err);
    }
    if (!isFile) {
      await closeFd(fd);
      throw this.#notFound(key);
    }
    const stream = createReadStream('', { fd, start: range?.start, end: range?.end });
    return o.signal ? addAbortSignal(o.signal, stream) : stream;
  }

  async getBytes(key: string, o: GetOptions = {}): Promise<Buffer> {
    const range = checkRange(o.range);
    const { fh, stats } = await this.#openFile(key, o.signal);
    try {
      const start = range?.start ?? 0;
      const end = Math.min(stats.size, range?.end === undefined ? stats.size : range.end + 1);
      const buf = Buffer.allocUnsafe(Math.max(0, end - start));
      let filled = 0;
      while (filled < buf.length) {
        const { bytesRead } = await fh.read(buf, filled, buf.length - filled, start + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === buf.length ? buf : buf.subarray(0, filled);
    } finally {
      await fh.close();
    }
  }

  async put(key: string, body: Body, o: SignalOptions = {}): Promise<void> {
    const target = this.#path(key);
    await this.#write(key, target, body, 'replace', o.signal);
  }

  async putIfAbsent(key: string, body: Body, o: SignalOptions = {}): Promise<boolean> {
    const target = this.#path(key);
    if ((await this.#stat(target))?.isFile()) return false;
    return this.#write(key, target, body, 'create', o.signal);
  }

  async head(key: string, o: SignalOptions = {}): Promise<ObjectInfo | undefined> {
    const path = this.#path(key);
    o.signal?.throwIfAborted();
    const stats = await this.#stat(path);
    return stats?.isFile() ? infoOf(key, stats) : undefined;
  }

  async *list(prefix: string, o: ListOptions = {}): AsyncIterable<ObjectInfo> {
    validatePrefix(prefix);
    const pageSize = Math.max(1, o.pageSize ?? DEFAULT_PAGE_SIZE);
    let page: { key: string; path: string }[] = [];
    const flush = async () => {
      const stats = await Promise.all(page.map((f) => this.#stat(f.path)));
      const infos = page.flatMap((f, i) => (stats[i]?.isFile() ? [infoOf(f.key, stats[i])] : []));
      page = [];
      return infos;
    };
    for await (const found of walkKeys(this.#root, prefix, o.startAfter, o.signal)) {
      page.push(found);
      if (page.length >= pageSize) yield* await flush();
    }
    if (page.length > 0) yield* await flush();
  }

  async delete(keys: string[], o: SignalOptions = {}): Promise<void> {
    const paths = keys.map((k) => this.#path(k));
    for (let i = 0; i < paths.length; i += DELETE_CONCURRENCY) {
      o.signal?.throwIfAborted();
      await Promise.all(paths.slice(i, i + DELETE_CONCURRENCY).map((p, j) => this.#remove(keys[i + j]!, p)));
    }
  }

  async localPath(key: string, o: SignalOptions = {}): Promise<string> {
    const path = this.#path(key);
    o.signal?.throwIfAborted();
    if (!(await this.#stat(path))?.isFile()) throw this.#notFound(key);
    return path;
  }

  async stagingDir(o: SignalOptions = {}): Promise<string> {
    o.signal?.throwIfAborted();
    const parent = join(this.#root, TEMP_DIR);
    try {
      return await mkdtemp(join(parent, 'stage-')).catch(async (err: unknown) => {
        if (errCode(err) !== 'ENOENT') throw err;
        await mkdir(parent, { recursive: true });
        return mkdtemp(join(parent, 'stage-'));
      });
    } catch (err) {
      throw this.#fsError('create staging directory', parent, err);
    }
  }

  async importFile(key: string, localPath: string, o: SignalOptions = {}): Promise<void> {
    const target = this.#path(key);
    o.signal?.throwIfAborted();
    let sameDevice: boolean;
    try {
      const [src, rootDevice] = await Promise.all([stat(localPath), this.#device()]);
      if (!src.isFile()) throw new InvalidInputError(`cannot import ${localPath}: not a file`);
      sameDevice = src.dev === rootDevice;
      if (sameDevice) await syncFile(localPath);
    } catch (err) {
      if (errCode(err) === undefined) throw err;
      throw this.#fsError('import', localPath, err);
    }
    if (!sameDevice) {
      await this.#write(key, target, createReadStream(localPath), 'replace', o.signal);
      await rm(localPath, { force: true });
      return;
    }
    await this.#place(key, localPath, target, 'replace');
  }

  async health(o: SignalOptions = {}): Promise<{ ok: boolean; detail: string }> {
    const probe = tempPath(this.#root);
    try {
      await writeDurably(probe, 'ok', o.signal);
      await unlink(probe);
      return { ok: true, detail: `${this.#root} is writable` };
    } catch (err) {
      return { ok: false, detail: `${this.#root} is not writable: ${errCode(err) ?? String(err)}` };
    }
  }

  async close(): Promise<void> {}

  /** Remove temp files of crashed writes older than `olderThanMs`; returns how many. */
  cleanTemp(olderThanMs = STALE_TEMP_MS): Promise<number> {
    return removeStaleTemp(this.#root, olderThanMs);
  }

  async #device(): Promise<number> {
    this.#rootDevice ??= (await stat(this.#root)).dev;
    return this.#rootDevice;
  }

  #path(key: string): string {
    validateKey(key);
    if (key === TEMP_DIR || key.startsWith(`${TEMP_DIR}/`)) {
      throw new InvalidInputError(`invalid object key ${JSON.stringify(key)}: "${TEMP_DIR}" is reserved`);
    }
    return join(this.#root, ...key.split('/'));
  }

  async #stat(path: string): Promise<Stats | undefined> {
    try {
      return await stat(path);
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw this.#fsError('stat', path, err);
    }
  }

  async #openFile(key: string, signal?: AbortSignal): Promise<{ fh: FileHandle; stats: Stats }> {
    const path = this.#path(key);
    signal?.throwIfAborted();
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      throw this.#readError(key, path, err);
    }
    const stats = await fh.stat();
    if (!stats.isFile()) {
      await fh.close();
      throw this.#notFound(key);
    }
    return { fh, stats };
  }

  /** Write to a temp file, fsync, then rename (replace) or hard-link (create) it into place. */
  async #write(key: string, target: string, body: Body, mode: 'replace' | 'create', signal?: AbortSignal) {
    const tmp = tempPath(this.#root);
    try {
      await writeDurably(tmp, body, signal).catch(async (err: unknown) => {
        if (errCode(err) !== 'ENOENT') throw err;
        await mkdir(dirname(tmp), { recursive: true }); // the temp directory was removed behind our back
        await writeDurably(tmp, body, signal);
      });
    } catch (err) {
      // Aborts and bad bodies pass through; only system errors need context.
      if (errCode(err) === undefined) throw err;
      throw this.#fsError('write', key, err);
    }
    try {
      return await this.#place(key, tmp, target, mode);
    } finally {
      if (mode === 'create') await rm(tmp, { force: true });
    }
  }

  async #place(key: string, tmp: string, target: string, mode: 'replace' | 'create'): Promise<boolean> {
    const dir = dirname(target);
    for (let attempt = 1; ; attempt++) {
      try {
        if (mode === 'replace') await rename(tmp, target);
        else await link(tmp, target);
        break;
      } catch (err) {
        const code = errCode(err);
        if (code === 'ENOENT' && attempt < PLACE_ATTEMPTS) {
          await this.#mkdirs(key, dir);
          continue;
        }
        if (code === 'EEXIST' && mode === 'create' && (await this.#stat(target))?.isFile()) return false;
        if (mode === 'replace') await rm(tmp, { force: true });
        if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') {
          throw this.#shapeConflict(key, err);
        }
        throw this.#fsError('write', key, err);
      }
    }
    await this.#dirSyncs.sync(dir);
    return true;
  }

  async #mkdirs(key: string, dir: string): Promise<void> {
    try {
      await mkdirDurably(dir);
    } catch (err) {
      const code = errCode(err);
      if (code === 'EEXIST' || code === 'ENOTDIR') throw this.#shapeConflict(key, err);
      throw this.#fsError('write', key, err);
    }
  }

  async #remove(key: string, path: string): Promise<void> {
    try {
      await unlink(path);
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'EPERM') return;
      throw this.#fsError('delete', key, err);
    }
    // Drop directories left empty, so that deleted tables leave no trace; stop at the first non-empty one.
    for (let dir = dirname(path); dir.length > this.#root.length; dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        break;
      }
    }
  }

  #readError(key: string, path: string, err: unknown): Error {
    const code = errCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return this.#notFound(key);
    return this.#fsError('read', path, err);
  }

  #notFound(key: string): NotFoundError {
    return new NotFoundError(`object ${JSON.stringify(key)} not found in ${this.url}`);
  }

  #shapeConflict(key: string, err: unknown): ConflictError {
    return new ConflictError(
      `cannot store ${JSON.stringify(key)} in ${this.url}: a key is both an object and a folder of other keys`,
      'a local store cannot hold "a" and "a/b" at once; choose keys that are only leaves',
      { cause: err },
    );
  }

  #fsError(op: string, what: string, err: unknown): BackendError {
    this.#log?.debug({ err, op, store: this.url }, 'local store error');
    const code = errCode(err) ?? (err instanceof Error ? err.message : String(err));
    return new BackendError(
      `local store ${this.url}: ${op} of ${JSON.stringify(what)} failed (${code})`,
      code === 'ENOSPC'
        ? 'the disk is full'
        : 'check the permissions and free space of the storage directory',
      { cause: err },
    );
  }
}

/** fsync a file written by someone else (DuckDB) before it is renamed into place. */
async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function infoOf(key: string, stats: Stats): ObjectInfo {
  const etag = `${stats.size.toString(16)}-${Math.round(stats.mtimeMs * 1000).toString(16)}`;
  return { key, size: stats.size, lastModified: stats.mtime, etag };
}
