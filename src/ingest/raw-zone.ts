/**
 * The raw zone: every payload is kept byte-for-byte in the object store under
 * `raw/<source>/<date>/<run>-<seq>.<ext>`, with its size and sha256 measured while it is written.
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { copyFile, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObjectStore } from '../storage/index.js';
import { ConflictError } from '../util/index.js';
import type { PayloadFormat } from './spec-common.js';

/** What was stored. */
export interface StoredBytes {
  key: string;
  size: number;
  checksum: string;
}

/** The file extension of a payload: `json`, `csv.gz`, `ndjson.zst`. */
export function payloadExtension(format: PayloadFormat, compression?: 'gzip' | 'zstd'): string {
  return compression === 'gzip' ? `${format}.gz` : compression === 'zstd' ? `${format}.zst` : format;
}

/** A key segment from free text (task names, stream values). */
export function keySegment(text: string): string {
  return text.replace(/[^A-Za-z0-9._=-]+/g, '_').slice(0, 120) || '_';
}

/** The raw-zone key of a payload. */
export function rawKey(source: string, fetchedAt: Date, runId: string, seq: number, ext: string): string {
  const date = fetchedAt.toISOString().slice(0, 10);
  return `raw/${keySegment(source)}/${date}/${keySegment(runId)}-${String(seq).padStart(6, '0')}.${ext}`;
}

async function* measured(
  chunks: AsyncIterable<Uint8Array>,
  into: { size: number; hash: ReturnType<typeof createHash> },
): AsyncIterable<Uint8Array> {
  for await (const chunk of chunks) {
    into.size += chunk.byteLength;
    into.hash.update(chunk);
    yield chunk;
  }
}

/** Bytes read per call while hashing a local file. */
const HASH_READ_BYTES = 1 << 20;

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** What identifies a file's content without reading it: a write changes at least one. */
async function fingerprint(file: string): Promise<string> {
  const s = await stat(file, { bigint: true });
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

/** Size and sha256 of a file, read through one reused buffer (no allocation per chunk). */
async function hashFile(file: string, into: { size: number; hash: ReturnType<typeof createHash> }) {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(HASH_READ_BYTES);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length);
      if (bytesRead === 0) break;
      into.size += bytesRead;
      into.hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
}

/**
 * Store bytes (in memory, or a local file streamed without loading it) under `key`.
 * The write is atomic: a crash leaves no partial object under the key. A file is stored only if
 * it did not change while it was read: one still being written is refused, not stored half-way.
 *
 * On a local store, a file is copied by the kernel (a reflink where the filesystem has them)
 * while its checksum is computed from a second read, and then moved into place.
 */
export async function storeRaw(
  store: ObjectStore,
  key: string,
  body: Uint8Array | { file: string },
  signal?: AbortSignal,
): Promise<StoredBytes> {
  const m = { size: 0, hash: createHash('sha256') };
  if (body instanceof Uint8Array) {
    await store.put(key, once(body), { signal });
    return { key, size: body.byteLength, checksum: m.hash.update(body).digest('hex') };
  }
  const before = await fingerprint(body.file);
  const unchanged = async () => {
    if ((await fingerprint(body.file)) !== before)
      throw new ConflictError(
        `${body.file} changed while it was being stored in the raw zone`,
        'write files under a temporary name and rename them into place when complete; the file is loaded by the next run',
      );
  };
  if (!store.url.startsWith('file:')) {
    const chunks = createReadStream(body.file, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>;
    await store.put(key, measured(chunks, m), { signal });
    // A refused file leaves nothing under its key (it was never recorded in the ledger).
    await unchanged().catch(async (err: unknown) => {
      await store.delete([key]);
      throw err;
    });
    return { key, size: m.size, checksum: m.hash.digest('hex') };
  }
  const dir = await store.stagingDir({ signal });
  try {
    const copy = join(dir, 'payload');
    await Promise.all([copyFile(body.file, copy, constants.COPYFILE_FICLONE), hashFile(body.file, m)]);
    await unchanged();
    signal?.throwIfAborted();
    await store.importFile(key, copy, { signal });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { key, size: m.size, checksum: m.hash.digest('hex') };
}
