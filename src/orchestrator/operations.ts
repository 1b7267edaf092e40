/**
 * Operations on existing runs: resume (failed and not-run tasks, or one task and
 * everything downstream of it), cancel, and marking runs or tasks success/failed.
 * Resume uses the pipeline as it is now, so a fix to the pipeline applies to the re-run;
 * the run is re-pinned to the new version's hash.
 */
import type { SqlRunner } from '../metastore/index.js';
import { ConflictError, InvalidInputError } from '../util/index.js';
import { advanceRun, type EngineContext, insertTasks, lockRun, notifyAdvance } from './engine.js';
import { recordRunEnd } from './history.js';
import type { LoadedPipeline } from './load.js';
import { getRun, RUNS_CHANNEL, type RunInfo } from './state.js';

/** What a resume runs again. */
export interface ResumePlan {
  runId: string;
  pipeline: string;
  /** Task ids reset to pending, in dependency order. */
  rerun: string[];
  /** Tasks kept as they are. */
  kept: string[];
  /** Tasks of the new definition the run did not have. */
  added: string[];
  /** Tasks the run had that the pipeline no longer has (kept in history, not run). */
  removed: string[];
  versionHash: string;
}

/** Work out a resume; with `apply`, perform it in `tx`. */
export async function planResume(
  ctx: EngineContext,
  tx: SqlRunner,
  run: RunInfo,
  p: LoadedPipeline,
  o: { fromTask?: string; apply: boolean },
): Promise<ResumePlan> {
  if (run.state === 'running' || run.state === 'queued') {
    throw new ConflictError(
      `run ${run.runId} is still ${run.state}; expected failed, cancelled or success`,
      'cancel it first: sluice runs cancel RUN_ID',
    );
  }
  if (o.fromTask !== undefined && !p.graph.has(o.fromTask)) {
    throw new InvalidInputError(`pipeline "${p.name}" has no task "${o.fromTask}"`);
  }
  if (o.fromTask === undefined && run.state === 'success') {
    throw new ConflictError(
      `run ${run.runId} succeeded: nothing to resume`,
      'use --from-task TASK to re-run part of it',
    );
  }
  const rows = await tx.query<{ task_id: string; state: string; gen: number }>(
    'SELECT task_id, state, gen FROM sluice_task_runs WHERE run_id = ?',
    [run.runId],
  );
  const have = new Map(rows.map((r) => [r.task_id, r]));
  const target = o.fromTask !== undefined ? p.graph.withDescendants(o.fromTask) : undefined;
  const plan: ResumePlan = {
    runId: run.runId,
    pipeline: p.name,
    rerun: [],
    kept: [],
    added: [],
    removed: rows.filter((r) => !p.graph.has(r.task_id) && r.state !== 'skipped').map((r) => r.task_id),
    versionHash: p.hash,
  };
  for (const id of p.graph.order) {
    const row = have.get(id);
    if (!row) plan.added.push(id);
    else if (target ? target.has(id) : row.state !== 'success' && row.state !== 'skipped')
      plan.rerun.push(id);
    else plan.kept.push(id);
  }
  if (!o.apply) return plan;

  await lockRun(tx, run.runId);
  await ctx.versions.save(tx, p);
  const gen = Math.max(0, ...rows.map((r) => Number(r.gen))) + 1;
  for (let i = 0; i < plan.rerun.length; i += 200) {
    const chunk = plan.rerun.slice(i, i + 200);
    await tx.execute(
      `UPDATE sluice_task_runs SET state = 'pending', gen = ?, error = NULL, ended_at = NULL, next_try_at = NULL,
         worker_id = NULL, progress = NULL, summary = NULL
       WHERE run_id = ? AND task_id IN (${chunk.map(() => '?').join(', ')})`,
      [gen, run.runId, ...chunk],
    );
  }
  const tasks = new Map(p.def.tasks.map((t) => [t.id, t]));
  await insertTasks(
    tx,
    run.runId,
    plan.added.map((id) => tasks.get(id)!),
    gen,
  );
  for (const id of plan.removed) {
    await tx.execute(
      `UPDATE sluice_task_runs SET state = 'skipped', error = 'removed from the pipeline' WHERE run_id = ? AND task_id = ?`,
      [run.runId, id],
    );
  }
  await tx.execute(
    `UPDATE sluice_runs SET state = 'running', version_hash = ?, ended_at = NULL, sla_missed = 0 WHERE run_id = ?`,
    [p.hash, run.runId],
  );
  await advanceRun(ctx, tx, run.runId);
  return plan;
}

/** Cancel a queued or running run: unfinished tasks become cancelled, running ones are stopped. */
export async function cancelRun(ctx: EngineContext, runId: string): Promise<RunInfo> {
  const run = await ctx.meta.transaction(async (tx) => {
    await lockRun(tx, runId);
    const now = ctx.now();
    const { rowCount } = await tx.execute(
      `UPDATE sluice_runs SET state = 'cancelled', ended_at = ? WHERE run_id = ? AND state IN ('queued', 'running')`,
      [now, runId],
    );
    const current = await getRun(tx, runId);
    if (rowCount === 0) {
      throw new ConflictError(
        `run ${runId} is already ${current.state}; only queued or running runs can be cancelled`,
      );
    }
    await tx.execute(
      `UPDATE sluice_task_runs SET state = 'cancelled', ended_at = ?
       WHERE run_id = ? AND state IN ('pending', 'waiting', 'queued', 'running', 'retry')`,
      [now, runId],
    );
    await recordRunEnd(tx, runId);
    return current;
  });
  await ctx.meta.notify('sluice.cancel', runId).catch(() => undefined);
  await ctx.meta.notify(RUNS_CHANNEL, runId).catch(() => undefined);
  return run;
}

/** Mark a whole run success or failed; its unfinished tasks follow (success, or cancelled). */
export async function markRun(
  ctx: EngineContext,
  runId: string,
  state: 'success' | 'failed',
): Promise<RunInfo> {
  const run = await ctx.meta.transaction(async (tx) => {
    await lockRun(tx, runId);
    const now = ctx.now();
    const before = await getRun(tx, runId);
    await tx.execute(
      `UPDATE sluice_task_runs SET state = ?, ended_at = ?
       WHERE run_id = ? AND state IN ('pending', 'waiting', 'queued', 'running', 'retry')`,
      [state === 'success' ? 'success' : 'cancelled', now, runId],
    );
    await tx.execute('UPDATE sluice_runs SET state = ?, ended_at = ? WHERE run_id = ?', [state, now, runId]);
    if (before.state !== state) await recordRunEnd(tx, runId);
    return getRun(tx, runId);
  });
  await ctx.meta.notify('sluice.cancel', runId).catch(() => undefined);
  await ctx.meta.notify(RUNS_CHANNEL, runId).catch(() => undefined);
  return run;
}

/**
 * Mark one task success or failed. In a running run, downstream tasks then proceed (or
 * are marked upstream_failed); a running attempt of the task is stopped.
 */
export async function markTask(
  ctx: EngineContext,
  runId: string,
  taskId: string,
  state: 'success' | 'failed',
): Promise<void> {
  const result = await ctx.meta.transaction(async (tx) => {
    await lockRun(tx, runId);
    const { rowCount } = await tx.execute(
      `UPDATE sluice_task_runs SET state = ?, ended_at = ?, error = ? WHERE run_id = ? AND task_id = ?`,
      [state, ctx.now(), state === 'failed' ? 'marked failed' : null, runId, taskId],
    );
    if (rowCount === 0) throw new InvalidInputError(`run ${runId} has no task "${taskId}"`);
    return advanceRun(ctx, tx, runId);
  });
  await ctx.meta.notify('sluice.cancel', `${runId}/${taskId}`).catch(() => undefined);
  await notifyAdvance(ctx, runId, result);
}
