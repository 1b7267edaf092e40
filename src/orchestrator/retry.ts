import type { RetryPolicy } from './definition.js';
import type { FailureReason } from './errors.js';

/** Whether an attempt that failed for `reason` is retried under `policy`. */
export function shouldRetry(
  policy: RetryPolicy | undefined,
  attempt: number,
  reason: FailureReason,
  exitCode?: number,
): boolean {
  if (!policy || attempt > policy.max) return false;
  if (!policy.on.includes(reason)) return false;
  if (policy.exit_codes && reason === 'error' && exitCode !== undefined)
    return policy.exit_codes.includes(exitCode);
  return true;
}

/**
 * The delay before retry number `attempt` (1 for the first retry): `initial` times 2^(n-1)
 * for exponential backoff, capped at `max_delay`, then spread by ±25 % jitter.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base =
    policy.backoff === 'exponential' ? policy.initial * 2 ** Math.max(0, attempt - 1) : policy.initial;
  const capped = Math.min(base, policy.max_delay);
  if (!policy.jitter) return capped;
  return Math.max(0, Math.round(capped * (0.75 + random() * 0.5)));
}
