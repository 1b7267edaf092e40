import type { Readable } from 'node:stream';
import { InvalidInputError } from '../util/index.js';
import type { Body, GetOptions } from './types.js';

/** A put body as a stream of byte chunks (strings are UTF-8 encoded). */
export async function* chunksOf(body: Body): AsyncIterable<Uint8Array> {
  if (typeof body === 'string') {
    yield Buffer.from(body, 'utf8');
    return;
  }
  if (body instanceof Uint8Array) {
    yield body;
    return;
  }
  if (!body || typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') {
    throw new InvalidInputError('put body must be a Uint8Array, a string or an async iterable of Uint8Array');
  }
  for await (const chunk of body as AsyncIterable<unknown>) {
    if (chunk instanceof Uint8Array) yield chunk;
    else if (typeof chunk === 'string') yield Buffer.from(chunk, 'utf8');
    else throw new InvalidInputError(`put body yielded a ${typeof chunk}, expected Uint8Array chunks`);
  }
}

/** Read a whole stream into one buffer. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * Check a byte range: integers, `0 <= start`, `start <= end` when `end` is given.
 * @throws InvalidInputError
 */
export function checkRange(range: GetOptions['range']): { start: number; end?: number } | undefined {
  if (!range) return undefined;
  const { start, end } = range;
  const ok =
    Number.isSafeInteger(start) &&
    start >= 0 &&
    (end === undefined || (Number.isSafeInteger(end) && end >= start));
  if (!ok) {
    throw new InvalidInputError(
      `invalid byte range ${JSON.stringify(range)}`,
      'use { start, end? } with integers 0 <= start <= end (end inclusive)',
    );
  }
  return end === undefined ? { start } : { start, end };
}
