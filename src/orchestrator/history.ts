/**
 * Run history as system tables: `sluice_system.runs` (a row each time a run reaches a final
 * state), `task_runs` (a row per finished attempt) and `task_logs` (the log lines of each
 * finished attempt, bounded). Rows are recorded in the metastore transaction that moves
 * the run or attempt to its final state, guarded by that state change, so history lands
 * exactly once even when a process dies at any point.
 */
import type { SqlRunner } from '../metastore/index.js';
import { defineSystemTable, recordSystemRows } from '../system/index.js';

/** A row of sluice_system.runs. */
export interface RunRow {
  run_id: string;
  pipeline: string;
  version_hash: string;
  trigger: string;
  run_key: string | null;
  state: string;
  logical_date: Date;
  data_interval_end: Date;
  params: string;
  created_at: Date;
  started_at: Date | null;
  ended_at: Date;
  queued_ms: number | null;
  duration_ms: number | null;
  tasks: number;
  tasks_failed: number;
  error: string | null;
  resumes: number;
}

/** A row of sluice_system.task_runs (one per finished attempt). */
export interface TaskRunRow {
  run_id: string;
  pipeline: string;
  task_id: string;
  attempt: number;
  state: string;
  worker_id: string;
  logical_date: Date;
  started_at: Date;
  ended_at: Date;
  duration_ms: number;
  error: string | null;
}

/** A row of sluice_system.task_logs. */
export interface TaskLogRow {
  run_id: string;
  pipeline: string;
  task_id: string;
  attempt: number;
  seq: number;
  stream: string;
  at: Date;
  text: string;
}

/** Log lines copied per attempt: the first and the last half of this many. */
export const HISTORY_LOG_LINES = 1000;
/** Characters kept of one copied log line. */
export const HISTORY_LOG_TEXT = 2000;
/** Characters kept of an error message. */
const ERROR_TEXT = 4000;

export const RUNS_TABLE = defineSystemTable<RunRow>({
  name: 'runs',
  columns: [
    { name: 'run_id', type: 'string', required: true, doc: 'run identifier' },
    { name: 'pipeline', type: 'string', required: true },
    { name: 'version_hash', type: 'string', required: true, doc: 'pipeline definition the run used' },
    { name: 'trigger', type: 'string', required: true, doc: 'schedule, manual, backfill or event' },
    { name: 'run_key', type: 'string', doc: 'interval:<ms> or event:<kind>:<id>; null for manual runs' },
    { name: 'state', type: 'string', required: true, doc: 'success, failed or cancelled' },
    { name: 'logical_date', type: 'timestamptz', required: true, doc: 'start of the data interval' },
    { name: 'data_interval_end', type: 'timestamptz', required: true },
    { name: 'params', type: 'string', required: true, doc: 'JSON object of the run parameters' },
    { name: 'created_at', type: 'timestamptz', required: true },
    { name: 'started_at', type: 'timestamptz' },
    { name: 'ended_at', type: 'timestamptz', required: true },
    { name: 'queued_ms', type: 'long', doc: 'created to started' },
    { name: 'duration_ms', type: 'long', doc: 'started to ended' },
    { name: 'tasks', type: 'int', required: true, doc: 'task instances of the run' },
    { name: 'tasks_failed', type: 'int', required: true, doc: 'failed or upstream_failed' },
    { name: 'error', type: 'string', doc: 'first failed task: "<task>: <error>"' },
    { name: 'resumes', type: 'int', required: true, doc: 'times the run was resumed before this end' },
  ],
  partitionBy: [{ column: 'ended_at', transform: 'day' }],
});

export const TASK_RUNS_TABLE = defineSystemTable<TaskRunRow>({
  name: 'task_runs',
  columns: [
    { name: 'run_id', type: 'string', required: true },
    { name: 'pipeline', type: 'string', required: true },
    { name: 'task_id', type: 'string', required: true },
    { name: 'attempt', type: 'int', required: true, doc: '1 for the first attempt' },
    {
      name: 'state',
      type: 'string',
      required: true,
      doc: 'success, failed, timeout, lost, interrupted or cancelled',
    },
    { name: 'worker_id', type: 'string', required: true, doc: 'host:pid:id of the worker' },
    { name: 'logical_date', type: 'timestamptz', required: true, doc: 'of the run' },
    { name: 'started_at', type: 'timestamptz', required: true },
    { name: 'ended_at', type: 'timestamptz', required: true },
    { name: 'duration_ms', type: 'long', required: true },
    { name: 'error', type: 'string' },
  ],
  partitionBy: [{ column: 'ended_at', transform: 'day' }],
});

export const TASK_LOGS_TABLE = defineSystemTable<TaskLogRow>({
  name: 'task_logs',
  columns: [
    { name: 'run_id', type: 'string', required: true },
    { name: 'pipeline', type: 'string', required: true },
    { name: 'task_id', type: 'string', required: true },
    { name: 'attempt', type: 'int', required: true },
    {
      name: 'seq',
      type: 'int',
      required: true,
      doc: 'line number in the attempt, from 0; gaps: lines left out',
    },
    { name: 'stream', type: 'string', required: true, doc: 'stdout, stderr, info, warn, error, ...' },
    { name: 'at', type: 'timestamptz', required: true },
    { name: 'text', type: 'string', required: true },
  ],
  partitionBy: [{ column: 'at', transform: 'day' }],
});

type Raw = Record<string, unknown>;
const ms = (v: unknown) => new Date(Number(v));
const clip = (s: unknown, n: number) => (s === null || s === undefined ? null : String(s).slice(0, n));

/**
 * Record that a run reached a final state. Call it in the transaction that made the change,
 * only when the guarded update changed the row.
 */
export async function recordRunEnd(tx: SqlRunner, runId: string): Promise<void> {
  const [r] = await tx.query('SELECT * FROM sluice_runs WHERE run_id = ?', [runId]);
  if (!r || r.ended_at === null || r.ended_at === undefined) return;
  const [counts] = await tx.query<{ tasks: number; failed: number; gen: number }>(
    `SELECT COUNT(*) AS tasks, SUM(CASE WHEN state IN ('failed', 'upstream_failed') THEN 1 ELSE 0 END) AS failed,
       MAX(gen) AS gen
     FROM sluice_task_runs WHERE run_id = ?`,
    [runId],
  );
  const [first] = await tx.query<{ task_id: string; error: string | null }>(
    `SELECT task_id, error FROM sluice_task_runs WHERE run_id = ? AND state = 'failed'
     ORDER BY ended_at, task_id LIMIT 1`,
    [runId],
  );
  const started = r.started_at === null || r.started_at === undefined ? null : Number(r.started_at);
  await recordSystemRows(tx, RUNS_TABLE, [
    {
      run_id: String(r.run_id),
      pipeline: String(r.pipeline),
      version_hash: String(r.version_hash),
      trigger: String(r.trigger_kind),
      run_key: (r.run_key as string | null) ?? null,
      state: String(r.state),
      logical_date: ms(r.data_interval_start),
      data_interval_end: ms(r.data_interval_end),
      params: String(r.params),
      created_at: ms(r.created_at),
      started_at: started === null ? null : new Date(started),
      ended_at: ms(r.ended_at),
      queued_ms: started === null ? null : started - Number(r.created_at),
      duration_ms: started === null ? null : Number(r.ended_at) - started,
      tasks: Number(counts?.tasks ?? 0),
      tasks_failed: Number(counts?.failed ?? 0),
      error: first ? clip(`${first.task_id}: ${first.error ?? 'failed'}`, ERROR_TEXT) : null,
      resumes: Number(counts?.gen ?? 0),
    },
  ]);
}

/**
 * End a running attempt (state `running` → `state`) and, when this call ended it, record its
 * task_runs row and its log lines. Returns whether it ended the attempt.
 */
export async function endAttempt(
  tx: SqlRunner,
  now: number,
  runId: string,
  taskId: string,
  attempt: number,
  state: string,
  error: string | null,
): Promise<boolean> {
  const { rowCount } = await tx.execute(
    `UPDATE sluice_task_attempts SET state = ?, ended_at = ?, error = ?
     WHERE run_id = ? AND task_id = ? AND attempt = ? AND state = 'running'`,
    [state, now, error, runId, taskId, attempt],
  );
  if (rowCount === 0) return false;
  const [a] = await tx.query<Raw>(
    `SELECT a.*, r.pipeline, r.data_interval_start FROM sluice_task_attempts a
     JOIN sluice_runs r ON r.run_id = a.run_id
     WHERE a.run_id = ? AND a.task_id = ? AND a.attempt = ?`,
    [runId, taskId, attempt],
  );
  if (!a) return true;
  const pipeline = String(a.pipeline);
  await recordSystemRows(tx, TASK_RUNS_TABLE, [
    {
      run_id: runId,
      pipeline,
      task_id: taskId,
      attempt,
      state,
      worker_id: String(a.worker_id),
      logical_date: ms(a.data_interval_start),
      started_at: ms(a.started_at),
      ended_at: new Date(now),
      duration_ms: Math.max(0, now - Number(a.started_at)),
      error: clip(error, ERROR_TEXT),
    },
  ]);
  const logs = await attemptLogLines(tx, runId, taskId, attempt);
  await recordSystemRows(
    tx,
    TASK_LOGS_TABLE,
    logs.map((l) => ({
      run_id: runId,
      pipeline,
      task_id: taskId,
      attempt,
      seq: Number(l.seq),
      stream: String(l.stream),
      at: ms(l.at),
      text: String(l.text).slice(0, HISTORY_LOG_TEXT),
    })),
  );
  return true;
}

/** The first and the last HISTORY_LOG_LINES / 2 lines of an attempt. */
async function attemptLogLines(tx: SqlRunner, runId: string, taskId: string, attempt: number) {
  const half = HISTORY_LOG_LINES / 2;
  const where = 'run_id = ? AND task_id = ? AND attempt = ?';
  const cols = 'seq, stream, at, text';
  const head = await tx.query<Raw>(
    `SELECT ${cols} FROM sluice_task_logs WHERE ${where} ORDER BY seq LIMIT ?`,
    [runId, taskId, attempt, half],
  );
  if (head.length < half) return head;
  const last = Number(head[head.length - 1]?.seq);
  const tail = await tx.query<Raw>(
    `SELECT ${cols} FROM sluice_task_logs WHERE ${where} AND seq > ? ORDER BY seq DESC LIMIT ?`,
    [runId, taskId, attempt, last, half],
  );
  return [...head, ...tail.reverse()];
}
