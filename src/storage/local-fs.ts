import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { chunksOf } from './body.js';
import type { Body } from './types.js';

/** Directory under a local store's root holding in-progress writes; never listed. */
export const TEMP_DIR = '.sluice-tmp';

/** Writes are coalesced into batches of this size before hitting the disk. */
const WRITE_BATCH_BYTES = 1 << 20;

/** The `code` of a Node.js system error, if any. */
export function errCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A fresh temp file name under `<root>/.sluice-tmp/`. */
export function tempPath(root: string): string {
  return join(root, TEMP_DIR, `${randomBytes(9).toString('base64url')}.tmp`);
}

/**
 * Write a body to a new file and fsync it; the file is removed if anything fails.
 * Returns the number of bytes written.
 */
export async function writeDurably(path: string, body: Body, signal?: AbortSignal): Promise<number> {
  signal?.throwIfAborted();
  const fh = await open(path, 'wx', 0o666);
  let ok = false;
  let total = 0;
  try {
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    const flush = async () => {
      let buffers = batch;
      while (buffers.length > 0) {
        const { bytesWritten } = await fh.writev(buffers);
        buffers = dropWritten(buffers, bytesWritten);
      }
      batch = [];
      batchBytes = 0;
    };
    for await (const chunk of chunksOf(body)) {
      signal?.throwIfAborted();
      if (chunk.byteLength === 0) continue;
      batch.push(chunk);
      batchBytes += chunk.byteLength;
      total += chunk.byteLength;
      if (batchBytes >= WRITE_BATCH_BYTES) await flush();
    }
    await flush();
    await fh.sync();
    ok = true;
  } finally {
    await fh.close();
    if (!ok) await rm(path, { force: true });
  }
  return total;
}

function dropWritten(buffers: Uint8Array[], written: number): Uint8Array[] {
  const rest: Uint8Array[] = [];
  let skip = written;
  for (const b of buffers) {
    if (skip >= b.byteLength) {
      skip -= b.byteLength;
      continue;
    }
    rest.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return rest;
}

/** fsync a directory so that entries created or renamed in it survive a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Directory fsyncs shared by concurrent writers (group commit): a writer whose rename is done
 * joins a sync of that directory that has not started yet, else queues one that starts when
 * the running one ends. A sync started after a rename covers it, so writes that land together
 * (a commit's manifests, manifest list and metadata file) cost one or two syncs, not one each.
 */
export class DirectorySyncs {
  readonly #dirs = new Map<string, { queued?: Promise<void>; running?: Promise<void> }>();
  readonly #fsync: (dir: string) => Promise<void>;

  constructor(fsync: (dir: string) => Promise<void> = fsyncDir) {
    this.#fsync = fsync;
  }

  /** Resolves once an fsync of `dir` begun after this call has finished. */
  sync(dir: string): Promise<void> {
    let state = this.#dirs.get(dir);
    if (!state) {
      state = {};
      this.#dirs.set(dir, state);
    }
    if (state.queued) return state.queued;
    const s = state;
    const run = async () => {
      await s.running?.catch(() => {});
      s.queued = undefined;
      const running = this.#fsync(dir);
      s.running = running;
      try {
        await running;
      } finally {
        if (s.running === running) s.running = undefined;
        if (!s.running && !s.queued) this.#dirs.delete(dir);
      }
    };
    s.queued = run();
    return s.queued;
  }
}

/** `mkdir -p`, then fsync the parents of the directories it created. */
export async function mkdirDurably(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  const chain: string[] = [];
  for (let d = dir; d.length >= first.length; d = dirname(d)) chain.push(d);
  chain.push(dirname(first));
  for (const d of chain.reverse()) await fsyncDir(d);
}

/** Remove temp files of a local store older than `olderThanMs`; returns how many were removed. */
export async function removeStaleTemp(root: string, olderThanMs: number): Promise<number> {
  const dir = join(root, TEMP_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return 0;
    throw err;
  }
  const cutoff = Date.now() - olderThanMs;
  let removed = 0;
  for (const name of names) {
    const path = join(dir, name);
    try {
      if ((await stat(path)).mtimeMs > cutoff) continue;
      await rm(path, { force: true, recursive: true });
      removed++;
    } catch (err) {
      if (errCode(err) !== 'ENOENT') throw err;
    }
  }
  return removed;
}
