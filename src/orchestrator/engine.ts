/**
 * The DAG state machine, run inside metastore transactions so any number of schedulers and
 * workers can drive the same run. A task's outcome is committed before the run is advanced
 * in a second transaction, so of two tasks finishing at once, the later advance sees both
 * and enqueues their common successor; every change is a guarded update (pending →
 * queued, running → finished) and jobs carry a dedupe key, so concurrent advances never
 * enqueue a task twice. Ready tasks are admitted within pool and pipeline limits (those
 * admissions are serialised per pool); finished runs get their final state and alerts.
 */
import { randomUUID } from 'node:crypto';
import { type AuditSurface, recordAudit } from '../auth/index.js';
import type { MetaStore, SqlRunner } from '../metastore/index.js';
import type { Logger } from '../observe/index.js';
import { currentActor } from '../util/index.js';
import { queueAlerts } from './alerts.js';
import { recordRunEnd } from './history.js';
import type { LoadedPipeline } from './load.js';
import {
  ACTIVE_TASK_STATES,
  FINISHED_TASK_STATES,
  RUN_CHANGES_CHANNEL,
  type RunState,
  runFromRow,
  TASK_QUEUE,
  type TriggerKind,
} from './state.js';
import type { PipelineVersion, VersionCache } from './versions.js';

/** What the engine needs, shared by scheduler, workers and API. */
export interface EngineContext {
  meta: MetaStore;
  versions: VersionCache;
  /** Slots per named pool (orchestrator.pools). */
  pools: Readonly<Record<string, number>>;
  log: Logger;
  /** Epoch ms; replaced by tests. */
  now(): number;
}

/** What an advance changed, for notifications after commit. */
export interface AdvanceResult {
  enqueued: number;
  /** The run's state when it finished in this advance. */
  finished?: RunState;
}

const FAILED = new Set(['failed', 'upstream_failed', 'cancelled']);
const DONE_OK = new Set(['success', 'skipped']);
const ACTIVE_LIST = ACTIVE_TASK_STATES.map((s) => `'${s}'`).join(', ');
const FINISHED_LIST = [...FINISHED_TASK_STATES].map((s) => `'${s}'`).join(', ');

/** Options of a new run. */
export interface NewRun {
  pipeline: LoadedPipeline;
  trigger: TriggerKind;
  /** At most one run per pipeline and key (e.g. `interval:<ms>`); undefined for manual runs. */
  runKey?: string;
  interval: { start: Date; end: Date };
  params?: Record<string, string>;
}

/**
 * Create a run with its task instances and enqueue its first tasks. Returns undefined when
 * a run with the same key exists.
 */
export async function createRun(
  ctx: EngineContext,
  tx: SqlRunner,
  o: NewRun,
): Promise<{ runId: string; advance: AdvanceResult } | undefined> {
  const now = ctx.now();
  const runId = randomUUID();
  await ctx.versions.save(tx, o.pipeline);
  const params = { ...o.pipeline.def.params, ...o.params };
  const { rowCount } = await tx.execute(
    `INSERT INTO sluice_runs (run_id, pipeline, version_hash, trigger_kind, run_key, data_interval_start,
       data_interval_end, params, state, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?) ON CONFLICT (pipeline, run_key) DO NOTHING`,
    [
      runId,
      o.pipeline.name,
      o.pipeline.hash,
      o.trigger,
      o.runKey ?? null,
      o.interval.start.getTime(),
      o.interval.end.getTime(),
      JSON.stringify(params),
      now,
    ],
  );
  if (rowCount === 0) return undefined;
  // Runs nobody asked for by hand are the scheduler's doing. Manual runs and backfills are the
  // caller's: the CLI's local user here; HTTP requests are audited by the API itself.
  const byHand = o.trigger === 'manual' || o.trigger === 'backfill';
  const actor = byHand ? currentActor() : { name: 'scheduler', via: 'scheduler', surface: 'scheduler' };
  if (actor.surface !== 'http' && actor.surface !== 'iceberg')
    await recordAudit(tx, [
      {
        principal: actor,
        surface: actor.surface as AuditSurface,
        action: 'trigger',
        resource: `pipeline:${o.pipeline.name}`,
        outcome: 'ok',
        detail: { run: runId, trigger: o.trigger, runKey: o.runKey ?? null },
      },
    ]);
  await insertTasks(tx, runId, o.pipeline.def.tasks, 0);
  const advance = await advanceRun(ctx, tx, runId);
  return { runId, advance };
}

/** Insert task instances in `pending`, a few hundred rows per statement. */
export async function insertTasks(
  tx: SqlRunner,
  runId: string,
  tasks: readonly { id: string; pool?: string; priority: number }[],
  gen: number,
): Promise<void> {
  for (let i = 0; i < tasks.length; i += 200) {
    const chunk = tasks.slice(i, i + 200);
    await tx.execute(
      `INSERT INTO sluice_task_runs (run_id, task_id, state, gen, pool, priority)
       VALUES ${chunk.map(() => "(?, ?, 'pending', ?, ?, ?)").join(', ')}`,
      chunk.flatMap((t) => [runId, t.id, gen, t.pool ?? null, t.priority]),
    );
  }
}

type TaskRow = {
  task_id: string;
  state: string;
  pool: string | null;
  priority: number;
  gen: number;
};

/**
 * Move a run forward: fail tasks whose upstream failed, admit and enqueue ready tasks,
 * and finish the run when every task is finished. After a task succeeded, pass it as
 * `succeeded`: only its direct downstream tasks are looked at.
 */
export async function advanceRun(
  ctx: EngineContext,
  tx: SqlRunner,
  runId: string,
  succeeded?: string,
): Promise<AdvanceResult> {
  const now = ctx.now();
  const [runRow] = await tx.query('SELECT * FROM sluice_runs WHERE run_id = ?', [runId]);
  if (!runRow || (runRow.state !== 'queued' && runRow.state !== 'running')) return { enqueued: 0 };
  if (runRow.state === 'queued') {
    await tx.execute(
      `UPDATE sluice_runs SET state = 'running', started_at = ? WHERE run_id = ? AND state = 'queued'`,
      [now, runId],
    );
  }
  const run = runFromRow({ ...runRow, state: 'running' });
  const version = await ctx.versions.get(run.pipeline, run.versionHash, tx);
  const graph = version.graph;
  let candidates: string[] = graph.order;
  let rows: TaskRow[];
  if (succeeded !== undefined && graph.has(succeeded)) {
    candidates = [...graph.downstream(succeeded)];
    const needed = [...new Set([...candidates, ...candidates.flatMap((c) => graph.upstream(c))])];
    rows = [];
    for (let i = 0; i < needed.length; i += 500) {
      const chunk = needed.slice(i, i + 500);
      if (chunk.length === 0) continue;
      rows.push(
        ...(await tx.query<TaskRow>(
          `SELECT task_id, state, pool, priority, gen FROM sluice_task_runs WHERE run_id = ? AND task_id IN (${chunk.map(() => '?').join(', ')})`,
          [runId, ...chunk],
        )),
      );
    }
  } else {
    rows = await tx.query<TaskRow>(
      'SELECT task_id, state, pool, priority, gen FROM sluice_task_runs WHERE run_id = ?',
      [runId],
    );
  }
  const byId = new Map(rows.map((r) => [r.task_id, r]));
  const ready: TaskRow[] = [];
  const upstreamFailed: string[] = [];
  for (const id of candidates) {
    const row = byId.get(id);
    if (!row) continue;
    if (row.state === 'waiting') ready.push(row);
    if (row.state !== 'pending') continue;
    const deps = graph.upstream(id).map((d) => byId.get(d)?.state ?? 'success');
    if (deps.some((s) => FAILED.has(s))) {
      row.state = 'upstream_failed';
      upstreamFailed.push(id);
    } else if (deps.every((s) => DONE_OK.has(s))) {
      ready.push(row);
    }
  }
  for (let i = 0; i < upstreamFailed.length; i += 200) {
    const chunk = upstreamFailed.slice(i, i + 200);
    await tx.execute(
      `UPDATE sluice_task_runs SET state = 'upstream_failed', ended_at = ?
       WHERE run_id = ? AND state = 'pending' AND task_id IN (${chunk.map(() => '?').join(', ')})`,
      [now, runId, ...chunk],
    );
  }
  const enqueued = await admit(ctx, tx, run.pipeline, runId, version, ready);
  if (enqueued > 0) return { enqueued };
  const [counts] = await tx.query<{ open: number; failed: number }>(
    `SELECT SUM(CASE WHEN state IN (${FINISHED_LIST}) THEN 0 ELSE 1 END) AS open,
            SUM(CASE WHEN state IN ('failed', 'upstream_failed') THEN 1 ELSE 0 END) AS failed
     FROM sluice_task_runs WHERE run_id = ?`,
    [runId],
  );
  if (Number(counts?.open ?? 0) > 0) return { enqueued };
  const failed = Number(counts?.failed ?? 0) > 0;
  const state: RunState = failed ? 'failed' : 'success';
  const ended = await tx.execute(
    `UPDATE sluice_runs SET state = ?, ended_at = ? WHERE run_id = ? AND state = 'running'`,
    [state, now, runId],
  );
  if (ended.rowCount === 0) return { enqueued };
  await recordRunEnd(tx, runId);
  // Failures alert per failed task, when they happen; success once per run.
  if (!failed)
    await queueAlerts(ctx.meta, tx, version.def.alerts, { event: 'success', run: { ...run, state } });
  return { enqueued, finished: state };
}

/** Enqueue ready tasks within the pipeline's and the pools' limits; the rest wait. */
async function admit(
  ctx: EngineContext,
  tx: SqlRunner,
  pipeline: string,
  runId: string,
  version: PipelineVersion,
  ready: TaskRow[],
): Promise<number> {
  if (ready.length === 0) return 0;
  ready.sort((a, b) => b.priority - a.priority);
  let pipelineRoom = Number.POSITIVE_INFINITY;
  if (version.def.max_active_tasks !== undefined) {
    await lockScope(tx, 'pipeline', pipeline);
    const [row] = await tx.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM sluice_task_runs t JOIN sluice_runs r ON r.run_id = t.run_id
       WHERE r.pipeline = ? AND t.state IN (${ACTIVE_LIST})`,
      [pipeline],
    );
    pipelineRoom = version.def.max_active_tasks - Number(row?.n ?? 0);
  }
  const poolRoom = new Map<string, number>();
  for (const pool of [...new Set(ready.map((r) => r.pool).filter((p): p is string => p !== null))].sort()) {
    const slots = ctx.pools[pool];
    if (slots === undefined) continue;
    await lockScope(tx, 'pool', pool);
    const [row] = await tx.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM sluice_task_runs WHERE pool = ? AND state IN (${ACTIVE_LIST})`,
      [pool],
    );
    poolRoom.set(pool, slots - Number(row?.n ?? 0));
  }
  const now = ctx.now();
  let enqueued = 0;
  for (const row of ready) {
    const pool = row.pool;
    const room = pool === null ? Number.POSITIVE_INFINITY : (poolRoom.get(pool) ?? Number.POSITIVE_INFINITY);
    if (pipelineRoom <= 0 || room <= 0) {
      const why =
        pipelineRoom <= 0
          ? `pipeline max_active_tasks (${version.def.max_active_tasks}) reached`
          : `pool "${pool}" is full (${ctx.pools[pool ?? '']} slots)`;
      await tx.execute(
        `UPDATE sluice_task_runs SET state = 'waiting', error = ? WHERE run_id = ? AND task_id = ? AND state IN ('pending', 'waiting')`,
        [why, runId, row.task_id],
      );
      continue;
    }
    const task = version.tasks.get(row.task_id);
    const maxRetries = (task?.retries ?? version.def.retries)?.max ?? 0;
    const jobId = await ctx.meta.enqueue(
      TASK_QUEUE,
      { runId, taskId: row.task_id, gen: row.gen },
      {
        tx,
        dedupeKey: `${runId}/${row.task_id}/${row.gen}`,
        priority: row.priority,
        // Retries plus two lost leases (a worker killed twice) before the task is given up.
        maxAttempts: maxRetries + 3,
      },
    );
    await tx.execute(
      `UPDATE sluice_task_runs SET state = 'queued', queued_at = ?, job_id = ?, error = NULL
       WHERE run_id = ? AND task_id = ? AND state IN ('pending', 'waiting')`,
      [now, jobId, runId, row.task_id],
    );
    row.state = 'queued';
    enqueued += 1;
    pipelineRoom -= 1;
    if (pool !== null && poolRoom.has(pool)) poolRoom.set(pool, room - 1);
  }
  return enqueued;
}

/** Serialise admissions into one pool or pipeline across processes (a row lock on PostgreSQL). */
export async function lockScope(tx: SqlRunner, scope: string, key: string): Promise<void> {
  await tx.execute(
    `INSERT INTO sluice_state (scope, key, value, version) VALUES (?, ?, NULL, 0) ON CONFLICT (scope, key) DO NOTHING`,
    [`orchestrator.${scope}`, key],
  );
  await tx.execute('UPDATE sluice_state SET version = version + 1 WHERE scope = ? AND key = ?', [
    `orchestrator.${scope}`,
    key,
  ]);
}

/** Take the run's row lock first, so every transaction on a run locks in the same order. */
export async function lockRun(tx: SqlRunner, runId: string): Promise<void> {
  await tx.execute('UPDATE sluice_runs SET lock_version = lock_version + 1 WHERE run_id = ?', [runId]);
}

/** Runs that have tasks waiting for a slot (to re-admit when slots free up). */
export async function runsWithWaitingTasks(db: SqlRunner, limit = 50): Promise<string[]> {
  const rows = await db.query<{ run_id: string }>(
    `SELECT DISTINCT run_id FROM sluice_task_runs WHERE state = 'waiting' LIMIT ?`,
    [limit],
  );
  return rows.map((r) => r.run_id);
}

/** Advance a run in its own transaction and notify workers and waiters afterwards. */
export async function advanceAndNotify(ctx: EngineContext, runId: string): Promise<AdvanceResult> {
  const result = await ctx.meta.transaction((tx) => advanceRun(ctx, tx, runId));
  await notifyAdvance(ctx, runId, result);
  return result;
}

/** Wake workers for new tasks and waiters for a finished run; tell live views the run moved. */
export async function notifyAdvance(ctx: EngineContext, runId: string, r: AdvanceResult): Promise<void> {
  if (r.enqueued > 0) await ctx.meta.notify('sluice.tasks').catch(() => undefined);
  if (r.finished) await ctx.meta.notify('sluice.runs', runId).catch(() => undefined);
  await ctx.meta.notify(RUN_CHANGES_CHANNEL, runId).catch(() => undefined);
}
