/** The stream parameters shared by the low-level and the subscription API, checked as Nakadi does. */
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

/** Read a number parameter (query string or JSON body). @throws UnprocessableError */
export function numberParam(raw: unknown, name: string, fallback: number, min = 0): number {
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isFinite(n) || n < min)
    throw new UnprocessableError(`${name} must be a number ≥ ${min}, found ${JSON.stringify(raw)}`);
  return n;
}

/**
 * The stream parameters of a request.
 * @throws UnprocessableError for invalid values or stream_limit < batch_limit.
 */
export function streamParams(get: (name: string) => unknown): StreamParams {
  const batchLimit = Math.floor(numberParam(get('batch_limit'), 'batch_limit', 1, 1));
  const streamLimit = Math.floor(numberParam(get('stream_limit'), 'stream_limit', 0));
  const flush = numberParam(get('batch_flush_timeout'), 'batch_flush_timeout', 30);
  let timeout = numberParam(get('stream_timeout'), 'stream_timeout', 0);
  const keepAliveLimit = Math.floor(
    numberParam(get('stream_keep_alive_limit'), 'stream_keep_alive_limit', 0),
  );
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
