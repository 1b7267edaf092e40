import { z } from 'zod';
import { parseDuration as parseConfigDuration } from '../config/index.js';

/**
 * Milliseconds in a duration such as `500ms`, `10s`, `5m`, `1h30m`, `2d`; a bare number is
 * seconds. Undefined when the text is not a duration.
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  return parseConfigDuration(value, { bareUnit: 's' });
}

const EXPECTED = 'expected a duration such as "30s", "5m", "1h" or a number of seconds';

/** A zod field for durations, giving milliseconds. */
export const durationMs = z.union([z.string(), z.number()], { error: EXPECTED }).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `${EXPECTED}, found ${JSON.stringify(value)}`, input: value });
    return z.NEVER;
  }
  return ms;
});

/** A duration for people: `1.2s`, `3m04s`, `250ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  if (minutes < 60) return `${minutes}m${String(seconds).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
