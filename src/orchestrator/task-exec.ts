/**
 * One attempt of one task instance on a worker: start it (a new attempt row), run the
 * kind with templates and `${VAR}` resolved, heartbeat the lease, enforce the timeout,
 * capture logs and progress, then record success, retry or failure and advance the run,
 * all guarded by the attempt number so a worker that lost its lease cannot overwrite.
 */
import type { Job, SqlRunner } from '../metastore/index.js';
import type { Runtime } from '../runtime/index.js';
import type { TaskContext, TaskProgress } from '../runtime/tasks.js';
import { errorMessage, redactText, withActor } from '../util/index.js';
import { queueAlerts } from './alerts.js';
import { kindOf } from './definition.js';
import { advanceRun, type EngineContext, lockRun, notifyAdvance, runsWithWaitingTasks } from './engine.js';
import { type FailureReason, TaskFailedError } from './errors.js';
import { endAttempt } from './history.js';
import { AttemptLog } from './logs.js';
import type { OrchestratorMetrics } from './metrics.js';
import type { TaskKindRegistry } from './registry.js';
import { retryDelayMs, shouldRetry } from './retry.js';
import { getRun, RUN_CHANGES_CHANNEL, type RunInfo } from './state.js';
import { expandEnv, renderTemplates } from './template.js';

/** What one execution needs. */
export interface ExecuteOptions {
  engine: EngineContext;
  runtime: Runtime;
  kinds: TaskKindRegistry;
  metrics?: OrchestratorMetrics;
  leaseMs: number;
  workerId: string;
  job: Job;
  abort: AbortController;
}

class TimeoutError extends Error {
  override name = 'TimeoutError';
}
class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

const PROGRESS_WRITE_MS = 1000;
/** How long a kind may take to stop after its signal aborts before its attempt is recorded anyway. */
const ABORT_WAIT_MS = 15_000;

/** Run one claimed job to its recorded outcome. */
export async function executeTask(o: ExecuteOptions): Promise<void> {
  const { engine, job, workerId } = o;
  const { meta } = engine;
  // Heartbeat from the claim until the outcome is recorded: starting and finishing may wait for the run's lock.
  const beat = setInterval(
    () => {
      void meta.heartbeat(job.id, workerId, o.leaseMs).then(
        (held) => held || o.abort.abort(new LeaseLostError('the lease was lost')),
        () => undefined,
      );
    },
    Math.max(100, Math.floor(o.leaseMs / 3)),
  );
  try {
    await runAttempt(o);
  } finally {
    clearInterval(beat);
  }
}

async function runAttempt(o: ExecuteOptions): Promise<void> {
  const { engine, job, workerId } = o;
  const { meta } = engine;
  const { runId, taskId, gen } = job.payload as { runId: string; taskId: string; gen: number };
  const signal = o.abort.signal;
  const timers: NodeJS.Timeout[] = [];
  const started = await meta.transaction((tx) =>
    startAttempt(tx, engine.now(), job.id, runId, taskId, gen, workerId),
  );
  if (!started) {
    await meta.complete(job.id, workerId);
    return;
  }
  const { attempt, run } = started;
  await meta.notify(RUN_CHANGES_CHANNEL, runId).catch(() => undefined);
  const version = await engine.versions.get(run.pipeline, run.versionHash);
  const task = version.tasks.get(taskId);
  const log = new AttemptLog(meta, runId, taskId, attempt);
  const t0 = performance.now();
  let kindName = 'unknown';
  let progress: TaskProgress | undefined;
  let progressWritten = 0;
  try {
    if (!task)
      throw new TaskFailedError(
        'error',
        `task "${taskId}" is not in version ${run.versionHash} of ${run.pipeline}`,
      );
    kindName = kindOf(task, o.kinds);
    const kind = o.kinds.get(kindName);
    const timeoutMs = task.timeout ?? version.def.timeout;
    if (timeoutMs !== undefined) {
      timers.push(
        setTimeout(() => o.abort.abort(new TimeoutError(`timed out after ${timeoutMs} ms`)), timeoutMs),
      );
    }
    const templates = { runId, pipeline: run.pipeline, taskId, ...interval(run), params: run.params };
    const raw = version.rawTasks.get(taskId)?.[kindName];
    const spec = kind.schema.parse(renderTemplates(expandEnv(raw ?? null, process.env), templates));
    const ctx: TaskContext = {
      runtime: o.runtime,
      log: log.logger,
      pipeline: run.pipeline,
      taskId,
      runId,
      attempt,
      dataIntervalStart: run.dataIntervalStart,
      dataIntervalEnd: run.dataIntervalEnd,
      params: run.params,
      options: taskOptions(run.params),
      signal,
      progress(p) {
        progress = p;
        const now = Date.now();
        if (now - progressWritten < PROGRESS_WRITE_MS) return;
        progressWritten = now;
        void meta
          .execute(
            'UPDATE sluice_task_runs SET progress = ? WHERE run_id = ? AND task_id = ? AND tries = ?',
            [JSON.stringify(p), runId, taskId, attempt],
          )
          .catch(() => undefined);
      },
    };
    // Commits the task makes are audited as the pipeline's, with the run and task.
    const actor = {
      name: `pipeline:${run.pipeline}`,
      via: 'pipeline',
      surface: 'pipeline',
      detail: { run_id: runId, task_id: taskId, attempt },
    };
    const result = await raceAbort(
      withActor(actor, () => kind.run(ctx, spec)),
      signal,
    );
    for (const t of timers) clearInterval(t);
    await log.close();
    o.metrics?.taskDuration
      .labels(run.pipeline, kindName, 'success')
      .observe((performance.now() - t0) / 1000);
    const recorded = await meta.transaction(async (tx) => {
      const done = await tx.execute(
        `UPDATE sluice_task_runs SET state = 'success', ended_at = ?, error = NULL, summary = ?, progress = ?
         WHERE run_id = ? AND task_id = ? AND state = 'running' AND tries = ?`,
        [
          engine.now(),
          result.summary ? JSON.stringify(result.summary) : null,
          progress ? JSON.stringify(progress) : null,
          runId,
          taskId,
          attempt,
        ],
      );
      if (done.rowCount === 0) return false;
      await endAttempt(tx, engine.now(), runId, taskId, attempt, 'success', null);
      return true;
    });
    await meta.complete(job.id, workerId);
    // A separate transaction, so it sees every outcome committed before it (see engine.ts).
    if (recorded) {
      const advance = await meta.transaction((tx) => advanceRun(engine, tx, runId, taskId));
      await afterAdvance(engine, runId, advance);
    }
  } catch (err) {
    for (const t of timers) clearInterval(t);
    const reason = signal.aborted ? signal.reason : err;
    const message = redactText(errorMessage(reason));
    log.add('error', message);
    await log.close();
    await recordFailure(o, { run, taskId, attempt, reason, message, kindName, t0, pool: task?.pool });
  }
}

async function recordFailure(
  o: ExecuteOptions,
  f: {
    run: RunInfo;
    taskId: string;
    attempt: number;
    reason: unknown;
    message: string;
    kindName: string;
    t0: number;
    pool?: string;
  },
): Promise<void> {
  const { engine, job, workerId } = o;
  const { meta } = engine;
  const { run, taskId, attempt } = f;
  const name = (f.reason as Error)?.name;
  if (name === 'LeaseLostError') return;
  if (name === 'ShutdownError') {
    await meta.transaction(async (tx) => {
      await lockRun(tx, run.runId);
      await endAttempt(tx, engine.now(), run.runId, taskId, attempt, 'interrupted', f.message);
      await tx.execute(
        `UPDATE sluice_task_runs SET state = 'queued', worker_id = NULL WHERE run_id = ? AND task_id = ? AND state = 'running' AND tries = ?`,
        [run.runId, taskId, attempt],
      );
    });
    await meta.fail(job.id, workerId, { error: 'worker shut down' });
    return;
  }
  if (name === 'CancelledError') {
    await meta.transaction((tx) =>
      endAttempt(tx, engine.now(), run.runId, taskId, attempt, 'cancelled', f.message),
    );
    await meta.complete(job.id, workerId);
    return;
  }
  const reason: FailureReason =
    name === 'TimeoutError' ? 'timeout' : f.reason instanceof TaskFailedError ? f.reason.reason : 'error';
  const exitCode = f.reason instanceof TaskFailedError ? f.reason.exitCode : undefined;
  const version = await engine.versions.get(run.pipeline, run.versionHash);
  const policy = version.tasks.get(taskId)?.retries ?? version.def.retries;
  const retry = shouldRetry(policy, attempt, reason, exitCode);
  const delay = retry && policy ? retryDelayMs(policy, attempt) : undefined;
  // The delay counts from the attempt's recorded end, not from before the transaction below.
  let retryAt: number | undefined;
  o.metrics?.taskDuration
    .labels(run.pipeline, f.kindName, 'failed')
    .observe((performance.now() - f.t0) / 1000);
  o.metrics?.taskFailures.labels(run.pipeline, f.kindName, reason).inc();
  const recorded = await meta.transaction(async (tx) => {
    const now = engine.now();
    retryAt = delay === undefined ? undefined : now + delay;
    const { rowCount } = await tx.execute(
      `UPDATE sluice_task_runs SET state = ?, error = ?, next_try_at = ?, ended_at = ?
       WHERE run_id = ? AND task_id = ? AND state = 'running' AND tries = ?`,
      [
        retry ? 'retry' : 'failed',
        `${reason}: ${f.message}`,
        retryAt ?? null,
        retry ? null : now,
        run.runId,
        taskId,
        attempt,
      ],
    );
    if (rowCount === 0) return undefined;
    await endAttempt(
      tx,
      now,
      run.runId,
      taskId,
      attempt,
      reason === 'timeout' ? 'timeout' : 'failed',
      f.message,
    );
    await queueAlerts(meta, tx, version.def.alerts, {
      event: retry ? 'retry' : 'failure',
      run,
      taskId,
      attempt,
      error: f.message,
    });
    return true;
  });
  if (retry && recorded) await meta.fail(job.id, workerId, { retryAt: new Date(retryAt!), error: f.message });
  else await meta.complete(job.id, workerId);
  if (recorded && !retry) {
    const advance = await meta.transaction((tx) => advanceRun(engine, tx, run.runId));
    await afterAdvance(engine, run.runId, advance);
  }
}

/** Notify, and give freed slots to runs whose tasks wait for them. */
async function afterAdvance(
  engine: EngineContext,
  runId: string,
  advance: { enqueued: number; finished?: string },
): Promise<void> {
  await notifyAdvance(engine, runId, advance as never);
  for (const waiting of await runsWithWaitingTasks(engine.meta)) {
    const r = await engine.meta.transaction((tx) => advanceRun(engine, tx, waiting));
    await notifyAdvance(engine, waiting, r);
  }
}

async function startAttempt(
  tx: SqlRunner,
  now: number,
  jobId: string,
  runId: string,
  taskId: string,
  gen: number,
  workerId: string,
): Promise<{ attempt: number; run: RunInfo } | undefined> {
  // No run lock here (only the task row is changed): a start never waits for other tasks' completions.
  const held = await tx.query(
    'SELECT 1 AS held FROM sluice_jobs WHERE id = ? AND lease_owner = ? AND status = ?',
    [jobId, workerId, 'running'],
  );
  if (held.length === 0) return undefined;
  const run = await getRun(tx, runId).catch(() => undefined);
  if (run?.state !== 'running') return undefined;
  const [row] = await tx.query<{ state: string; tries: number }>(
    'SELECT state, tries FROM sluice_task_runs WHERE run_id = ? AND task_id = ? AND gen = ?',
    [runId, taskId, gen],
  );
  if (!row || !['queued', 'retry', 'running'].includes(row.state)) return undefined;
  const tries = Number(row.tries);
  const attempt = tries + 1;
  // Guarded by the state read: an outcome the previous holder committed meanwhile wins.
  const taken = await tx.execute(
    `UPDATE sluice_task_runs SET state = 'running', tries = ?, worker_id = ?, started_at = ?, ended_at = NULL, next_try_at = NULL
     WHERE run_id = ? AND task_id = ? AND tries = ? AND state = ?`,
    [attempt, workerId, now, runId, taskId, tries, row.state],
  );
  if (taken.rowCount === 0) return undefined;
  if (row.state === 'running') {
    // The previous holder stopped heartbeating: its attempt is lost, this one replaces it.
    await endAttempt(
      tx,
      now,
      runId,
      taskId,
      tries,
      'lost',
      'the worker stopped heartbeating (lease expired)',
    );
  }
  await tx.execute(
    `INSERT INTO sluice_task_attempts (run_id, task_id, attempt, worker_id, state, started_at) VALUES (?, ?, ?, ?, 'running', ?)`,
    [runId, taskId, attempt, workerId, now],
  );
  return { attempt, run };
}

function interval(run: RunInfo): { dataIntervalStart: Date; dataIntervalEnd: Date } {
  return { dataIntervalStart: run.dataIntervalStart, dataIntervalEnd: run.dataIntervalEnd };
}

/** Settle once the kind stops after an abort, or at most ABORT_WAIT_MS later if it ignores the signal. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      timer = setTimeout(() => reject(signal.reason), ABORT_WAIT_MS);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => (signal.aborted ? reject(signal.reason) : resolve(v)),
      (e) => reject(signal.aborted ? signal.reason : e),
    ).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    });
  });
}

/** Run parameters that ask tasks to rebuild from the raw zone (`sluice run P --reprocess --from D`). */
export const REPROCESS_PARAM = 'sluice.reprocess';
export const REPROCESS_FROM_PARAM = 'sluice.reprocess_from';

/** Task options carried by a run's parameters. */
function taskOptions(params: Record<string, string>): Record<string, unknown> | undefined {
  if (params[REPROCESS_PARAM] !== 'true') return undefined;
  return { reprocess: true, from: params[REPROCESS_FROM_PARAM] || undefined };
}
