/**
 * Per-caller rate limiting of the HTTP API: a token bucket per principal (or per client
 * address for anonymous callers). Over the limit, requests get 429 with Retry-After.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { SluiceError } from '../util/index.js';
import { remoteAddressOf } from './auth.js';

export interface RateLimitOptions {
  /** Sustained requests per second per caller. */
  perSecond: number;
  /** Requests allowed in a burst above the sustained rate. */
  burst: number;
  /** Callers tracked at most; the least recently seen are forgotten first. */
  maxKeys?: number;
  now?: () => number;
}

/** Too many requests from one caller (HTTP 429). */
export class RateLimitedError extends SluiceError {
  constructor(readonly retryAfterSeconds: number) {
    super('rate_limited', `too many requests: retry in ${retryAfterSeconds} s`);
  }
}

function callerKey(c: Context): string {
  const principal = c.get('principal') as { name: string } | undefined;
  return principal ? `p:${principal.name}` : `a:${remoteAddressOf(c) ?? 'unknown'}`;
}

/** The middleware; mount it after authentication so limits follow the principal. */
export function rateLimit(o: RateLimitOptions): MiddlewareHandler {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const now = o.now ?? Date.now;
  const maxKeys = o.maxKeys ?? 10_000;
  return async (c, next) => {
    const key = callerKey(c);
    const t = now();
    const bucket = buckets.get(key) ?? { tokens: o.burst, at: t };
    bucket.tokens = Math.min(o.burst, bucket.tokens + ((t - bucket.at) / 1000) * o.perSecond);
    bucket.at = t;
    buckets.delete(key);
    buckets.set(key, bucket);
    if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value as string);
    if (bucket.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - bucket.tokens) / o.perSecond));
      c.header('retry-after', String(wait));
      throw new RateLimitedError(wait);
    }
    bucket.tokens -= 1;
    await next();
  };
}
