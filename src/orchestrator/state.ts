/**
 * Runs and task instances as rows of the metastore (tables sluice_runs, sluice_task_runs,
 * sluice_task_attempts, sluice_task_logs), and the names of their states.
 */
import type { SqlRunner } from '../metastore/index.js';
import { NotFoundError } from '../util/index.js';

/** The queue task instances are claimed from. */
export const TASK_QUEUE = 'sluice.tasks';
/** Channel that wakes workers when tasks are queued. */
export const TASKS_CHANNEL = 'sluice.tasks';
/** Channel carrying a run id whenever a run changes state or is cancelled. */
export const RUNS_CHANNEL = 'sluice.runs';
/** Channel carrying a run id whenever the run or one of its tasks moved (for live views). */
export const RUN_CHANGES_CHANNEL = 'sluice.run_changes';

export const RUN_STATES = ['queued', 'running', 'success', 'failed', 'cancelled'] as const;
export type RunState = (typeof RUN_STATES)[number];

export const TASK_STATES = [
  'pending',
  'waiting',
  'queued',
  'running',
  'retry',
  'success',
  'failed',
  'upstream_failed',
  'skipped',
  'cancelled',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** States a task does not leave by itself. */
export const FINISHED_TASK_STATES: ReadonlySet<string> = new Set([
  'success',
  'failed',
  'upstream_failed',
  'skipped',
  'cancelled',
]);
/** States that hold a slot of a pool. */
export const ACTIVE_TASK_STATES = ['queued', 'running', 'retry'] as const;

/** What started a run. */
export type TriggerKind = 'schedule' | 'manual' | 'backfill' | 'event';

/** One run of a pipeline. */
export interface RunInfo {
  runId: string;
  pipeline: string;
  /** Hash of the pipeline definition the run is pinned to. */
  versionHash: string;
  trigger: TriggerKind;
  runKey: string | null;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  params: Record<string, string>;
  state: RunState;
  createdAt: Date;
  startedAt: Date | null;
  endedAt: Date | null;
}

/** One task instance of a run. */
export interface TaskRunInfo {
  runId: string;
  taskId: string;
  state: TaskState;
  /** Attempts started. */
  tries: number;
  pool: string | null;
  priority: number;
  workerId: string | null;
  queuedAt: Date | null;
  startedAt: Date | null;
  endedAt: Date | null;
  nextTryAt: Date | null;
  error: string | null;
  progress: Record<string, unknown> | null;
  summary: Record<string, unknown> | null;
}

/** One attempt of a task instance. */
export interface AttemptInfo {
  runId: string;
  taskId: string;
  attempt: number;
  workerId: string;
  state: string;
  startedAt: Date;
  endedAt: Date | null;
  error: string | null;
}

type Raw = Record<string, unknown>;

const date = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(Number(v)));
const json = (v: unknown): Record<string, unknown> | null =>
  typeof v === 'string' && v ? (JSON.parse(v) as Record<string, unknown>) : null;

export function runFromRow(r: Raw): RunInfo {
  return {
    runId: String(r.run_id),
    pipeline: String(r.pipeline),
    versionHash: String(r.version_hash),
    trigger: r.trigger_kind as TriggerKind,
    runKey: (r.run_key as string | null) ?? null,
    dataIntervalStart: new Date(Number(r.data_interval_start)),
    dataIntervalEnd: new Date(Number(r.data_interval_end)),
    params: json(r.params) as Record<string, string>,
    state: r.state as RunState,
    createdAt: new Date(Number(r.created_at)),
    startedAt: date(r.started_at),
    endedAt: date(r.ended_at),
  };
}

export function taskRunFromRow(r: Raw): TaskRunInfo {
  return {
    runId: String(r.run_id),
    taskId: String(r.task_id),
    state: r.state as TaskState,
    tries: Number(r.tries),
    pool: (r.pool as string | null) ?? null,
    priority: Number(r.priority),
    workerId: (r.worker_id as string | null) ?? null,
    queuedAt: date(r.queued_at),
    startedAt: date(r.started_at),
    endedAt: date(r.ended_at),
    nextTryAt: date(r.next_try_at),
    error: (r.error as string | null) ?? null,
    progress: json(r.progress),
    summary: json(r.summary),
  };
}

export function attemptFromRow(r: Raw): AttemptInfo {
  return {
    runId: String(r.run_id),
    taskId: String(r.task_id),
    attempt: Number(r.attempt),
    workerId: String(r.worker_id),
    state: String(r.state),
    startedAt: new Date(Number(r.started_at)),
    endedAt: date(r.ended_at),
    error: (r.error as string | null) ?? null,
  };
}

/** A run by id. @throws NotFoundError */
export async function getRun(db: SqlRunner, runId: string): Promise<RunInfo> {
  const [row] = await db.query('SELECT * FROM sluice_runs WHERE run_id = ?', [runId]);
  if (!row) throw new NotFoundError(`no run "${runId}"`, 'list runs with: sluice runs list');
  return runFromRow(row);
}

/** The task instances of a run, in insertion order of the definition. */
export async function getTaskRuns(db: SqlRunner, runId: string): Promise<TaskRunInfo[]> {
  const rows = await db.query('SELECT * FROM sluice_task_runs WHERE run_id = ? ORDER BY task_id', [runId]);
  return rows.map(taskRunFromRow);
}

/** Runs, newest first, optionally of one pipeline and/or in one state. */
export async function listRuns(
  db: SqlRunner,
  o: { pipeline?: string; state?: RunState; limit?: number; before?: Date } = {},
): Promise<RunInfo[]> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (o.pipeline) {
    where.push('pipeline = ?');
    params.push(o.pipeline);
  }
  if (o.state) {
    where.push('state = ?');
    params.push(o.state);
  }
  if (o.before) {
    where.push('created_at < ?');
    params.push(o.before.getTime());
  }
  params.push(Math.min(Math.max(o.limit ?? 50, 1), 10_000));
  const rows = await db.query(
    `SELECT * FROM sluice_runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at DESC, run_id DESC LIMIT ?`,
    params,
  );
  return rows.map(runFromRow);
}

/** The attempts of one task instance (or of every task of the run). */
export async function getAttempts(db: SqlRunner, runId: string, taskId?: string): Promise<AttemptInfo[]> {
  const rows = await db.query(
    `SELECT * FROM sluice_task_attempts WHERE run_id = ?${taskId ? ' AND task_id = ?' : ''} ORDER BY task_id, attempt`,
    taskId ? [runId, taskId] : [runId],
  );
  return rows.map(attemptFromRow);
}

/** One captured log line of an attempt. */
export interface LogLine {
  taskId: string;
  attempt: number;
  stream: string;
  at: Date;
  text: string;
}

/** Captured log lines of a run, optionally of one task and attempt, in order. */
export async function getLogs(
  db: SqlRunner,
  runId: string,
  o: { taskId?: string; attempt?: number; limit?: number } = {},
): Promise<LogLine[]> {
  const where = ['run_id = ?'];
  const params: (string | number)[] = [runId];
  if (o.taskId) {
    where.push('task_id = ?');
    params.push(o.taskId);
  }
  if (o.attempt !== undefined) {
    where.push('attempt = ?');
    params.push(o.attempt);
  }
  params.push(Math.min(Math.max(o.limit ?? 10_000, 1), 100_000));
  const rows = await db.query(
    `SELECT task_id, attempt, stream, at, text FROM sluice_task_logs WHERE ${where.join(' AND ')}
     ORDER BY task_id, attempt, seq LIMIT ?`,
    params,
  );
  return rows.map((r) => ({
    taskId: String(r.task_id),
    attempt: Number(r.attempt),
    stream: String(r.stream),
    at: new Date(Number(r.at)),
    text: String(r.text),
  }));
}
