import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { httpStatus, s3Code } from './s3-errors.js';

/** Bodies up to this size go in one PutObject; larger ones in parts of (at least) this size. */
export const PART_BYTES = 8 * 1024 * 1024;
/** Parts uploaded at once: bounds memory to about PART_BYTES × (this + 1). */
const PARTS_IN_FLIGHT = 4;
/** S3 allows 10,000 parts; part size grows every 1,000 parts so that bodies up to ~440 GB fit. */
const PARTS_PER_SIZE_STEP = 1000;

/** Where and how to upload. */
export interface UploadTarget {
  client: S3Client;
  bucket: string;
  key: string;
  /** Create-only: the write fails with 412 when the key exists (`If-None-Match: *`). */
  ifAbsent: boolean;
  signal?: AbortSignal;
  partBytes?: number;
}

/** Whether a write happened, or an object already existed under the key (create-only). */
export type UploadResult = 'written' | 'exists';

/**
 * Upload a stream of chunks: one PutObject when it fits in one part, else a multipart upload
 * whose parts are buffered and sent a few at a time. The object appears atomically when
 * the upload completes; a failed multipart upload is aborted.
 */
export async function uploadObject(
  t: UploadTarget,
  chunks: AsyncIterable<Uint8Array>,
): Promise<UploadResult> {
  const base = t.partBytes ?? PART_BYTES;
  const reader = new PartReader(chunks[Symbol.asyncIterator]());
  const first = await reader.next(base);
  if (first.last) {
    return conditional(() =>
      t.client.send(
        new PutObjectCommand({
          Bucket: t.bucket,
          Key: t.key,
          Body: first.bytes,
          ContentLength: first.bytes.length,
          IfNoneMatch: t.ifAbsent ? '*' : undefined,
        }),
        { abortSignal: t.signal },
      ),
    );
  }
  // Create-only and too big for one request: skip uploading every part when the key already exists.
  if (t.ifAbsent && (await exists(t))) return 'exists';
  const created = await t.client.send(new CreateMultipartUploadCommand({ Bucket: t.bucket, Key: t.key }), {
    abortSignal: t.signal,
  });
  const uploadId = created.UploadId!;
  const ids = { Bucket: t.bucket, Key: t.key, UploadId: uploadId };
  try {
    const parts: CompletedPart[] = [];
    const inflight = new Set<Promise<void>>();
    let part = first;
    for (let n = 1; ; n++) {
      const body = part.bytes;
      const sent = t.client
        .send(new UploadPartCommand({ ...ids, PartNumber: n, Body: body, ContentLength: body.length }), {
          abortSignal: t.signal,
        })
        .then((r) => {
          parts.push({ PartNumber: n, ETag: r.ETag });
        });
      sent.catch(() => {}); // observed below through Promise.race/all
      inflight.add(sent);
      sent.then(() => inflight.delete(sent)).catch(() => {});
      if (inflight.size >= PARTS_IN_FLIGHT) await Promise.race(inflight);
      if (part.last) break;
      part = await reader.next(base * (1 + Math.floor(n / PARTS_PER_SIZE_STEP)));
      if (part.last && part.bytes.length === 0) break;
    }
    await Promise.all(inflight);
    parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
    const result = await conditional(() =>
      t.client.send(
        new CompleteMultipartUploadCommand({
          ...ids,
          MultipartUpload: { Parts: parts },
          IfNoneMatch: t.ifAbsent ? '*' : undefined,
        }),
        { abortSignal: t.signal },
      ),
    );
    if (result === 'exists') await abort(t, uploadId);
    return result;
  } catch (err) {
    await abort(t, uploadId);
    throw err;
  }
}

/** 412 on a create-only write means the key exists; a 409 conflicting conditional write is retried. */
async function conditional(send: () => Promise<unknown>): Promise<UploadResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      await send();
      return 'written';
    } catch (err) {
      const code = s3Code(err);
      if (code === 'PreconditionFailed' || httpStatus(err) === 412) return 'exists';
      if ((code === 'ConditionalRequestConflict' || httpStatus(err) === 409) && attempt < 4) {
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt * Math.random()));
        continue;
      }
      throw err;
    }
  }
}

async function exists(t: UploadTarget): Promise<boolean> {
  try {
    await t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: t.key }), { abortSignal: t.signal });
    return true;
  } catch (err) {
    if (httpStatus(err) === 404) return false;
    throw err;
  }
}

async function abort(t: UploadTarget, uploadId: string): Promise<void> {
  // Best effort, without the caller's signal (it may be what aborted us); leftovers expire by lifecycle rules.
  await t.client
    .send(new AbortMultipartUploadCommand({ Bucket: t.bucket, Key: t.key, UploadId: uploadId }))
    .catch(() => {});
}

/** Cuts a stream of chunks into parts of a requested size (the last one may be smaller). */
class PartReader {
  readonly #it: AsyncIterator<Uint8Array>;
  #rest: Uint8Array | undefined;
  #done = false;

  constructor(it: AsyncIterator<Uint8Array>) {
    this.#it = it;
  }

  /** The next part; `last` is true when the stream has no more bytes after it. */
  async next(size: number): Promise<{ bytes: Buffer; last: boolean }> {
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (this.#rest) {
      chunks.push(this.#rest);
      total = this.#rest.byteLength;
      this.#rest = undefined;
    }
    while (total < size && !this.#done) {
      const r = await this.#it.next();
      if (r.done) this.#done = true;
      else if (r.value.byteLength > 0) {
        chunks.push(r.value);
        total += r.value.byteLength;
      }
    }
    if (total > size) {
      const lastChunk = chunks.pop()!;
      const keep = lastChunk.byteLength - (total - size);
      chunks.push(lastChunk.subarray(0, keep));
      this.#rest = lastChunk.subarray(keep);
      total = size;
    }
    if (total === size && !this.#done && !this.#rest) {
      // Exactly full: peek so that a body of exactly one part stays a single PutObject.
      const r = await this.#it.next();
      if (r.done) this.#done = true;
      else if (r.value.byteLength > 0) this.#rest = r.value;
    }
    return { bytes: Buffer.concat(chunks, total), last: this.#done && !this.#rest };
  }
}
