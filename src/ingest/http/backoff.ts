/** Retry timing: exponential backoff with full jitter, and the HTTP `Retry-After` header. */
import { setTimeout as sleep } from 'node:timers/promises';

/** Backoff settings. */
export interface BackoffOptions {
  /** Delay before the second attempt (before jitter). */
  initialMs: number;
  /** Upper bound of any delay. */
  maxMs: number;
}

/** The delay before attempt `attempt + 1` (attempt counts from 1): random in [d/2, d], d = initial·2^(attempt-1). */
export function backoffDelayMs(
  attempt: number,
  o: BackoffOptions,
  random: () => number = Math.random,
): number {
  const d = Math.min(o.maxMs, o.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(d / 2 + (random() * d) / 2);
}

/** Milliseconds a `Retry-After` value asks to wait (seconds or an HTTP date), or undefined. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Sleep that ends early (rejecting) when `signal` aborts. */
export function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal });
}
