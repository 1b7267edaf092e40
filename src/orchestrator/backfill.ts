/**
 * Backfill: one run per data interval between two dates, at most `parallel` active at
 * once. Intervals share the scheduler's run key (`interval:<start>`), so a date that
 * already has a scheduled or backfilled run is not run twice.
 */
import { InvalidInputError } from '../util/index.js';
import { createRun, notifyAdvance } from './engine.js';
import type { LoadedPipeline } from './load.js';
import type { Orchestrator } from './orchestrator.js';
import { type Interval, intervalsBetween } from './schedule.js';
import { RUNS_CHANNEL, type RunInfo } from './state.js';

export interface BackfillOptions {
  from: Date;
  to: Date;
  /** Runs active at once (default 1). */
  parallel?: number;
  params?: Record<string, string>;
  /** Only list the intervals and which of them already have a run. */
  dryRun?: boolean;
  signal?: AbortSignal;
  /** Called when a run is created or an interval is skipped. */
  onRun?: (e: { interval: Interval; runId?: string; existing: boolean }) => void;
}

export interface BackfillResult {
  intervals: { start: string; end: string; runId?: string; existing: boolean; state?: string }[];
}

const MAX_BACKFILL = 10_000;

export async function runBackfill(
  orch: Orchestrator,
  p: LoadedPipeline,
  o: BackfillOptions,
): Promise<BackfillResult> {
  if (Number.isNaN(o.from.getTime()) || Number.isNaN(o.to.getTime()) || o.from > o.to) {
    throw new InvalidInputError(
      'backfill needs --from and --to dates with from ≤ to, e.g. --from 2026-01-01 --to 2026-01-31',
    );
  }
  const intervals = intervalsBetween(p.def.schedule, p.def.timezone, o.from, o.to);
  if (intervals.length > MAX_BACKFILL) {
    throw new InvalidInputError(
      `the backfill covers ${intervals.length} intervals; at most ${MAX_BACKFILL} at once`,
    );
  }
  const meta = orch.runtime.meta;
  const existing = new Map<number, { run_id: string; state: string }>();
  for (const row of await meta.query<{ run_key: string; run_id: string; state: string }>(
    `SELECT run_key, run_id, state FROM sluice_runs WHERE pipeline = ? AND run_key LIKE 'interval:%'`,
    [p.name],
  )) {
    existing.set(Number(row.run_key.slice('interval:'.length)), row);
  }
  const result: BackfillResult = {
    intervals: intervals.map((i) => {
      const e = existing.get(i.start.getTime());
      return {
        start: i.start.toISOString(),
        end: i.end.toISOString(),
        runId: e?.run_id,
        existing: !!e,
        state: e?.state,
      };
    }),
  };
  if (o.dryRun) return result;

  const parallel = Math.max(1, o.parallel ?? 1);
  const active = new Set<string>();
  let wake: (() => void) | undefined;
  const stop = await meta.listen(RUNS_CHANNEL, (id) => active.has(id) && wake?.());
  try {
    for (const [i, interval] of intervals.entries()) {
      const entry = result.intervals[i]!;
      if (entry.existing) {
        o.onRun?.({ interval, runId: entry.runId, existing: true });
        continue;
      }
      while (active.size >= parallel) await waitForSlot();
      const made = await meta.transaction((tx) =>
        createRun(orch.engine, tx, {
          pipeline: p,
          trigger: 'backfill',
          runKey: `interval:${interval.start.getTime()}`,
          interval,
          params: o.params,
        }),
      );
      if (!made) {
        entry.existing = true;
        o.onRun?.({ interval, existing: true });
        continue;
      }
      entry.runId = made.runId;
      active.add(made.runId);
      await notifyAdvance(orch.engine, made.runId, made.advance);
      o.onRun?.({ interval, runId: made.runId, existing: false });
    }
    while (active.size > 0) await waitForSlot();
  } finally {
    await stop();
  }
  for (const entry of result.intervals) {
    if (entry.runId && !entry.state) entry.state = (await orch.getRun(entry.runId)).state;
  }
  return result;

  async function waitForSlot(): Promise<void> {
    o.signal?.throwIfAborted();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 500);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    for (const id of [...active]) {
      const run: RunInfo = await orch.getRun(id);
      if (run.state === 'success' || run.state === 'failed' || run.state === 'cancelled') active.delete(id);
    }
  }
}
