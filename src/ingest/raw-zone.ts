/**
 * The raw zone: every payload is kept byte-for-byte in the object store under
 * `raw/<source>/<date>/<run>-<seq>.<ext>`, with its size and sha256 measured while it is written.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { ObjectStore } from '../storage/index.js';
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

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/**
 * Store bytes (in memory, or a local file streamed without loading it) under `key`.
 * The write is atomic: a crash leaves no partial object under the key.
 */
export async function storeRaw(
  store: ObjectStore,
  key: string,
  body: Uint8Array | { file: string },
  signal?: AbortSignal,
): Promise<StoredBytes> {
  const m = { size: 0, hash: createHash('sha256') };
  const chunks =
    body instanceof Uint8Array
      ? once(body)
      : (createReadStream(body.file, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>);
  await store.put(key, measured(chunks, m), { signal });
  return { key, size: m.size, checksum: m.hash.digest('hex') };
}
