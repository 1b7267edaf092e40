/**
 * The stream parameters shared by the low-level and the subscription API, checked as Nakadi
 * does: every one is an int32 (a fraction is a 400, not rounded), ranges are 422.
 */
import { BadRequestError } from './http.js';
import { UnprocessableError } from './problem.js';

export interface StreamParams {
  batchLimit: number;
  /** 0 = unlimited. */
  streamLimit: number;
  flushTimeoutMs: number;
  /** 0 = the default of one hour. */
  streamTimeoutMs: number;
  /** 0 = unlimited. */
  keepAliveLimit: number;
}

const HOUR_MS = 3_600_000;
const MAX_STREAM_TIMEOUT_S = 4200;

const INT32_MAX = 2 ** 31 - 1;

/**
 * Read an integer parameter (query string or JSON body). Nakadi declares the stream
 * parameters int32 and answers a value that is no such integer (`0.5`, `1e3`, `abc`) with
 * 400, a number out of range with 422.
 * @throws BadRequestError when not an int32; UnprocessableError when below `min`
 */
export function intParam(raw: unknown, name: string, fallback: number, min = 0): number {
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n =
    typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || Math.abs(n) > INT32_MAX)
    throw new BadRequestError(`${name} must be an integer, found ${JSON.stringify(raw)}`);
  if (n < min) throw new UnprocessableError(`${name} must be an integer ≥ ${min}, found ${n}`);
  return n;
}

/**
 * The stream parameters of a request.
 * @throws UnprocessableError for invalid values or stream_limit < batch_limit.
 */
export function streamParams(get: (name: string) => unknown): StreamParams {
  const batchLimit = intParam(get('batch_limit'), 'batch_limit', 1, 1);
  const streamLimit = intParam(get('stream_limit'), 'stream_limit', 0);
  const flush = intParam(get('batch_flush_timeout'), 'batch_flush_timeout', 30);
  let timeout = intParam(get('stream_timeout'), 'stream_timeout', 0);
  const keepAliveLimit = intParam(get('stream_keep_alive_limit'), 'stream_keep_alive_limit', 0);
  if (timeout > MAX_STREAM_TIMEOUT_S) timeout = 0;
  if (streamLimit !== 0 && streamLimit < batchLimit) {
    throw new UnprocessableError("stream_limit can't be lower than batch_limit");
  }
  const flushTimeoutMs = (flush === 0 ? 30 : flush) * 1000;
  if (timeout !== 0 && timeout * 1000 < flushTimeoutMs) {
    throw new UnprocessableError("stream_timeout can't be lower than batch_flush_timeout");
  }
  return {
    batchLimit,
    streamLimit,
    flushTimeoutMs,
    streamTimeoutMs: timeout === 0 ? HOUR_MS : timeout * 1000,
    keepAliveLimit,
  };
}
