/**
 * Run history as plain rows, the shape of the system tables `sluice_system.runs`,
 * `task_runs` and `task_logs`: for the system-table mechanism to copy, page by page, using
 * `after` (the last row's cursor) to continue.
 */
import type { MetaStore } from '../metastore/index.js';

/** A row of sluice_system.runs. */
export interface RunRow {
  run_id: string;
  pipeline: string;
  version_hash: string;
  trigger: string;
  state: string;
  logical_date: Date;
  data_interval_end: Date;
  params: string;
  created_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
  duration_ms: number | null;
}

/** A row of sluice_system.task_runs (one per attempt). */
export interface TaskRunRow {
  run_id: string;
  pipeline: string;
  task_id: string;
  attempt: number;
  state: string;
  worker_id: string;
  started_at: Date;
  ended_at: Date | null;
  duration_ms: number | null;
  error: string | null;
}

/** A row of sluice_system.task_logs. */
export interface TaskLogRow {
  run_id: string;
  task_id: string;
  attempt: number;
  seq: number;
  stream: string;
  at: Date;
  text: string;
}

type Table = 'runs' | 'task_runs' | 'task_logs';
type RowOf<T extends Table> = T extends 'runs' ? RunRow : T extends 'task_runs' ? TaskRunRow : TaskLogRow;

const d = (v: unknown) => (v === null || v === undefined ? null : new Date(Number(v)));
const span = (a: unknown, b: unknown) => (a == null || b == null ? null : Number(b) - Number(a));

/**
 * Rows of one history table that changed at or after `since` (epoch ms; runs and attempts
 * by start, logs by time), oldest first, at most `limit`.
 */
export async function historyRows<T extends Table>(
  meta: MetaStore,
  table: T,
  o: { since?: number; limit?: number } = {},
): Promise<RowOf<T>[]> {
  const since = o.since ?? 0;
  const limit = Math.min(Math.max(o.limit ?? 10_000, 1), 100_000);
  if (table === 'runs') {
    const rows = await meta.query(
      'SELECT * FROM sluice_runs WHERE created_at >= ? ORDER BY created_at, run_id LIMIT ?',
      [since, limit],
    );
    return rows.map((r) => ({
      run_id: String(r.run_id),
      pipeline: String(r.pipeline),
      version_hash: String(r.version_hash),
      trigger: String(r.trigger_kind),
      state: String(r.state),
      logical_date: new Date(Number(r.data_interval_start)),
      data_interval_end: new Date(Number(r.data_interval_end)),
      params: String(r.params),
      created_at: new Date(Number(r.created_at)),
      started_at: d(r.started_at),
      ended_at: d(r.ended_at),
      duration_ms: span(r.started_at, r.ended_at),
    })) as RowOf<T>[];
  }
  if (table === 'task_runs') {
    const rows = await meta.query(
      `SELECT a.*, r.pipeline FROM sluice_task_attempts a JOIN sluice_runs r ON r.run_id = a.run_id
       WHERE a.started_at >= ? ORDER BY a.started_at, a.run_id, a.task_id, a.attempt LIMIT ?`,
      [since, limit],
    );
    return rows.map((r) => ({
      run_id: String(r.run_id),
      pipeline: String(r.pipeline),
      task_id: String(r.task_id),
      attempt: Number(r.attempt),
      state: String(r.state),
      worker_id: String(r.worker_id),
      started_at: new Date(Number(r.started_at)),
      ended_at: d(r.ended_at),
      duration_ms: span(r.started_at, r.ended_at),
      error: (r.error as string | null) ?? null,
    })) as RowOf<T>[];
  }
  const rows = await meta.query(
    'SELECT * FROM sluice_task_logs WHERE at >= ? ORDER BY at, run_id, task_id, attempt, seq LIMIT ?',
    [since, limit],
  );
  return rows.map((r) => ({
    run_id: String(r.run_id),
    task_id: String(r.task_id),
    attempt: Number(r.attempt),
    seq: Number(r.seq),
    stream: String(r.stream),
    at: new Date(Number(r.at)),
    text: String(r.text),
  })) as RowOf<T>[];
}
