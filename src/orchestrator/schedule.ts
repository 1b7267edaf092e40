/**
 * Cron arithmetic of the scheduler, pure so it can be tested with any clock. A run covers
 * the data interval between two consecutive ticks and is due once its end has passed;
 * its logical date (`{{ ds }}`) is the interval's start.
 */
import { Cron } from 'croner';

/** A data interval [start, end). */
export interface Interval {
  start: Date;
  end: Date;
}

/** Most intervals returned by one call (a catch-up continues on the next tick). */
export const MAX_INTERVALS = 1000;

function cronOf(expr: string, timezone: string): Cron {
  return new Cron(expr, { timezone, paused: true });
}

/** The first tick at or after `at`. */
export function tickAtOrAfter(expr: string, timezone: string, at: Date): Date | undefined {
  return cronOf(expr, timezone).nextRun(new Date(at.getTime() - 1)) ?? undefined;
}

/** The latest tick at or before `at`. */
export function tickAtOrBefore(expr: string, timezone: string, at: Date): Date | undefined {
  const next = tickAtOrAfter(expr, timezone, at);
  if (next && next.getTime() === at.getTime()) return next;
  return cronOf(expr, timezone).previousRuns(1, at)[0];
}

/**
 * Intervals that became due after `cursor` (the end of the last scheduled interval) up to
 * `now`. Without catch-up only the latest due interval is returned.
 */
export function dueIntervals(
  expr: string,
  timezone: string,
  cursor: Date,
  now: Date,
  catchup: boolean,
): Interval[] {
  const cron = cronOf(expr, timezone);
  if (!catchup) {
    const end = tickAtOrBefore(expr, timezone, now);
    if (!end || end.getTime() <= cursor.getTime()) return [];
    const start = cron.previousRuns(1, end)[0];
    return [{ start: start && start.getTime() >= cursor.getTime() ? start : cursor, end }];
  }
  const out: Interval[] = [];
  let start = cursor;
  while (out.length < MAX_INTERVALS) {
    const end = cron.nextRun(start);
    if (!end || end.getTime() > now.getTime()) break;
    out.push({ start, end });
    start = end;
  }
  return out;
}

/** Intervals whose start lies in [from, to] (a backfill); daily when there is no schedule. */
export function intervalsBetween(
  expr: string | undefined,
  timezone: string,
  from: Date,
  to: Date,
): Interval[] {
  const cron = cronOf(expr ?? '0 0 * * *', expr ? timezone : 'UTC');
  const out: Interval[] = [];
  let start = tickAtOrAfter(expr ?? '0 0 * * *', expr ? timezone : 'UTC', from);
  while (start && start.getTime() <= to.getTime() && out.length < 100_000) {
    const end = cron.nextRun(start);
    if (!end) break;
    out.push({ start, end });
    start = end;
  }
  return out;
}

/** The interval a manual run covers: the latest complete interval, or the day before `now`. */
export function manualInterval(expr: string | undefined, timezone: string, now: Date): Interval {
  if (expr) {
    const end = tickAtOrBefore(expr, timezone, now);
    const start = end ? cronOf(expr, timezone).previousRuns(1, end)[0] : undefined;
    if (start && end) return { start, end };
  }
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  return { start: new Date(end.getTime() - 86_400_000), end };
}
