/**
 * The scheduler: creates runs for cron schedules (with catch-up and max active runs) and
 * event triggers, and sweeps for work nobody else will do: tasks whose queue job died
 * (out of attempts after lost workers), tasks waiting for pool slots, runs that missed
 * their SLA. Any number of schedulers may run: a logical date gets one run because runs
 * are unique per (pipeline, run key), and every change is a guarded transaction.
 */
import { type SqlRunner, TRIGGER_CHANNEL, type TriggerEvent } from '../metastore/index.js';
import type { Logger } from '../observe/index.js';
import type { ObjectStore } from '../storage/index.js';
import { errorMessage } from '../util/index.js';
import { ALERT_QUEUE, queueAlerts } from './alerts.js';
import {
  advanceRun,
  createRun,
  type EngineContext,
  lockRun,
  notifyAdvance,
  runsWithWaitingTasks,
} from './engine.js';
import { endAttempt } from './history.js';
import type { LoadedPipeline } from './load.js';
import { dueIntervals, tickAtOrAfter, tickAtOrBefore } from './schedule.js';
import { getRun, RUNS_CHANNEL, runFromRow, TASK_QUEUE } from './state.js';
import { pendingTriggers, pollFiles, type TriggeredRun, triggerRun } from './triggers.js';

const PURGE_EVERY_MS = 10 * 60_000;
const KEEP_FINISHED_JOBS_MS = 24 * 3_600_000;

export { TRIGGER_CHANNEL, type TriggerEvent };

/** Options of a scheduler. */
export interface SchedulerOptions {
  engine: EngineContext;
  pipelines: () => ReadonlyMap<string, LoadedPipeline>;
  intervalMs: number;
  log: Logger;
  /** The object store `on: { files }` prefixes are listed in (no file triggers without it). */
  store?: ObjectStore;
}

/** Creates scheduled and triggered runs and sweeps; `tick()` is one pass (tests call it with a fake clock). */
export class Scheduler {
  readonly #o: SchedulerOptions;
  #timer: NodeJS.Timeout | undefined;
  #unlisten: (() => Promise<void>) | undefined;
  #busy: Promise<unknown> = Promise.resolve();
  #lastPurge = 0;

  constructor(o: SchedulerOptions) {
    this.#o = o;
  }

  /** Tick now and then every intervalMs; listen for trigger events. */
  async start(): Promise<this> {
    this.#unlisten = await this.#o.engine.meta.listen(TRIGGER_CHANNEL, (payload) => {
      void this.#serial(() => this.onEvent(JSON.parse(payload) as TriggerEvent)).catch((err) =>
        this.#o.log.warn({ err: errorMessage(err) }, 'trigger event failed'),
      );
    });
    const unlistenRuns = await this.#o.engine.meta.listen(RUNS_CHANNEL, () => {
      void this.#serial(() => this.startPending()).catch((err) =>
        this.#o.log.warn({ err: errorMessage(err) }, 'starting coalesced trigger runs failed'),
      );
    });
    const unlistenTrigger = this.#unlisten;
    this.#unlisten = async () => {
      await unlistenTrigger?.();
      await unlistenRuns();
    };
    const loop = () => {
      void this.#serial(() => this.tick())
        .catch((err) => this.#o.log.warn({ err: errorMessage(err) }, 'scheduler tick failed'))
        .finally(() => {
          if (this.#unlisten) this.#timer = setTimeout(loop, this.#o.intervalMs);
        });
    };
    loop();
    return this;
  }

  async stop(): Promise<void> {
    const unlisten = this.#unlisten;
    this.#unlisten = undefined;
    clearTimeout(this.#timer);
    await unlisten?.();
    await this.#busy.catch(() => undefined);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#busy.then(fn, fn);
    this.#busy = next.catch(() => undefined);
    return next;
  }

  /** One pass: schedules, coalesced triggers, file landings, then the sweep. Returns the ids of runs created. */
  async tick(): Promise<string[]> {
    const created: string[] = [];
    for (const p of this.#o.pipelines().values()) {
      if (!p.def.schedule || p.def.paused) continue;
      created.push(...(await this.#schedule(p)));
    }
    created.push(...(await this.startPending()));
    if (this.#o.store) {
      // A storage outage must not stop the sweep: the listing is tried again next tick.
      const store = this.#o.store;
      const fire = (event: TriggerEvent, tx: SqlRunner) => this.#fireAll(event, tx);
      await pollFiles(this.#o.engine, store, this.#o.pipelines(), fire).then(
        (runs) => created.push(...runs),
        (err) => this.#o.log.warn({ err: errorMessage(err) }, 'listing on: { files } prefixes failed'),
      );
    }
    await this.sweep();
    return created;
  }

  async #schedule(p: LoadedPipeline): Promise<string[]> {
    const { engine } = this.#o;
    const { meta } = engine;
    const expr = p.def.schedule!;
    const tz = p.def.timezone;
    const now = new Date(engine.now());
    let [state] = await meta.query<{ paused: number; last_interval_end: number | null }>(
      'SELECT paused, last_interval_end FROM sluice_pipelines WHERE pipeline = ?',
      [p.name],
    );
    if (!state) {
      // First sight: start at `start`, else at the latest tick (nothing before now is due).
      const first = p.def.start
        ? tickAtOrAfter(expr, tz, new Date(p.def.start))
        : tickAtOrBefore(expr, tz, now);
      await meta.execute(
        `INSERT INTO sluice_pipelines (pipeline, paused, last_interval_end, updated_at) VALUES (?, 0, ?, ?)
         ON CONFLICT (pipeline) DO NOTHING`,
        [p.name, first?.getTime() ?? now.getTime(), now.getTime()],
      );
      [state] = await meta.query<{ paused: number; last_interval_end: number | null }>(
        'SELECT paused, last_interval_end FROM sluice_pipelines WHERE pipeline = ?',
        [p.name],
      );
    }
    if (!state || Number(state.paused) === 1) return [];
    const cursor = new Date(Number(state.last_interval_end ?? now.getTime()));
    const due = dueIntervals(expr, tz, cursor, now, p.def.catchup);
    if (due.length === 0) return [];
    const [active] = await meta.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM sluice_runs WHERE pipeline = ? AND state IN ('queued', 'running')",
      [p.name],
    );
    const room = p.def.max_active_runs - Number(active?.n ?? 0);
    const created: string[] = [];
    for (const interval of due.slice(0, Math.max(0, room))) {
      const made = await meta.transaction(async (tx) => {
        const run = await createRun(engine, tx, {
          pipeline: p,
          trigger: 'schedule',
          runKey: `interval:${interval.start.getTime()}`,
          interval,
        });
        await tx.execute(
          'UPDATE sluice_pipelines SET last_interval_end = ?, updated_at = ? WHERE pipeline = ? AND last_interval_end < ?',
          [interval.end.getTime(), engine.now(), p.name, interval.end.getTime()],
        );
        return run;
      });
      if (made) {
        created.push(made.runId);
        await notifyAdvance(engine, made.runId, made.advance);
      }
    }
    return created;
  }

  /**
   * Start runs of pipelines whose `on:` matches the event; a pipeline at max_active_runs
   * keeps the event as its one pending trigger instead. Returns the runs created.
   */
  async onEvent(event: TriggerEvent): Promise<string[]> {
    return this.#o.engine.meta
      .transaction((tx) => this.#fireAll(event, tx))
      .then(async (made) => {
        for (const m of made) await notifyAdvance(this.#o.engine, m.runId, m.advance);
        return made.map((m) => m.runId);
      });
  }

  /** Handle an event for every matching pipeline in `tx`; the caller notifies after commit. */
  async #fireAll(event: TriggerEvent, tx: SqlRunner): Promise<TriggeredRun[]> {
    const made: TriggeredRun[] = [];
    for (const p of this.#o.pipelines().values()) {
      const on = p.def.on;
      if (!on || p.def.paused) continue;
      const match =
        (event.kind === 'table' && on.table === event.name) ||
        (event.kind === 'events' && on.events === event.name) ||
        (event.kind === 'files' && on.files !== undefined && event.name.startsWith(on.files));
      if (!match) continue;
      const run = await triggerRun(this.#o.engine, tx, p, { ...event, count: 1 });
      if (run) made.push(run);
    }
    return made;
  }

  /** Start the pending (coalesced) trigger of each pipeline that has room again. */
  async startPending(): Promise<string[]> {
    const { engine } = this.#o;
    const created: string[] = [];
    const pending = await pendingTriggers(engine.meta);
    for (const [name, event] of pending) {
      const p = this.#o.pipelines().get(name);
      if (!p?.def.on || p.def.paused) continue;
      const made = await engine.meta.transaction((tx) => triggerRun(engine, tx, p, event));
      if (made) {
        created.push(made.runId);
        await notifyAdvance(engine, made.runId, made.advance);
      }
    }
    return created;
  }

  /** Fail tasks whose job died, re-admit waiting tasks, advance queued runs, raise SLA alerts. */
  async sweep(): Promise<void> {
    const { engine } = this.#o;
    const { meta } = engine;
    const dead = await meta.query<{
      run_id: string;
      task_id: string;
      tries: number;
      last_error: string | null;
    }>(
      `SELECT t.run_id, t.task_id, t.tries, j.last_error FROM sluice_task_runs t JOIN sluice_jobs j ON j.id = t.job_id
       WHERE t.state IN ('queued', 'running', 'retry') AND j.status = 'dead' LIMIT 100`,
    );
    for (const d of dead) {
      const r = await meta.transaction(async (tx) => {
        await lockRun(tx, d.run_id);
        const now = engine.now();
        const error = `crash: the task was lost ${d.tries} time(s) (${d.last_error ?? 'worker stopped'})`;
        const running = await tx.query<{ attempt: number }>(
          `SELECT attempt FROM sluice_task_attempts WHERE run_id = ? AND task_id = ? AND state = 'running'`,
          [d.run_id, d.task_id],
        );
        for (const a of running)
          await endAttempt(tx, now, d.run_id, d.task_id, Number(a.attempt), 'lost', error);
        await tx.execute(
          `UPDATE sluice_task_runs SET state = 'failed', error = ?, ended_at = ?
           WHERE run_id = ? AND task_id = ? AND state IN ('queued', 'running', 'retry')`,
          [error, now, d.run_id, d.task_id],
        );
        return advanceRun(engine, tx, d.run_id);
      });
      await notifyAdvance(engine, d.run_id, r);
    }
    const queued = await meta.query<{ run_id: string }>(
      "SELECT run_id FROM sluice_runs WHERE state = 'queued' LIMIT 100",
    );
    for (const id of new Set([...queued.map((r) => r.run_id), ...(await runsWithWaitingTasks(meta))])) {
      const r = await meta.transaction((tx) => advanceRun(engine, tx, id));
      await notifyAdvance(engine, id, r);
    }
    await this.#slaMisses();
    await this.#purge();
  }

  /** Finished queue jobs are kept a day for inspection, then deleted (run history stays). */
  async #purge(): Promise<void> {
    const now = this.#o.engine.now();
    if (now - this.#lastPurge < PURGE_EVERY_MS) return;
    this.#lastPurge = now;
    const before = new Date(now - KEEP_FINISHED_JOBS_MS);
    for (const queue of [TASK_QUEUE, ALERT_QUEUE]) await this.#o.engine.meta.purgeJobs(queue, before);
  }

  async #slaMisses(): Promise<void> {
    const { engine } = this.#o;
    const running = await engine.meta.query(
      "SELECT * FROM sluice_runs WHERE state IN ('queued', 'running') AND sla_missed = 0 ORDER BY created_at LIMIT 500",
    );
    for (const row of running) {
      const run = runFromRow(row);
      const version = await engine.versions.get(run.pipeline, run.versionHash).catch(() => undefined);
      const sla = version?.def.sla;
      if (!version || sla === undefined || run.createdAt.getTime() + sla > engine.now()) continue;
      await engine.meta.transaction(async (tx) => {
        const { rowCount } = await tx.execute(
          'UPDATE sluice_runs SET sla_missed = 1 WHERE run_id = ? AND sla_missed = 0',
          [run.runId],
        );
        if (rowCount === 1) {
          await queueAlerts(engine.meta, tx, version.def.alerts, {
            event: 'sla_miss',
            run: await getRun(tx, run.runId),
          });
        }
      });
    }
  }
}
