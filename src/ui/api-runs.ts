/** Pipelines and runs through the orchestrator API under /api/v1 (the same one `sluice runs` uses). */
import { HttpError } from './api';

export type RunState = 'queued' | 'running' | 'success' | 'failed' | 'cancelled';

export interface Run {
  runId: string;
  pipeline: string;
  trigger: 'schedule' | 'manual' | 'backfill' | 'event';
  dataIntervalStart: string;
  params: Record<string, string> | null;
  state: RunState;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

export interface PipelineTask {
  id: string;
  kind?: string;
  dependsOn: string[];
}

export interface Pipeline {
  name: string;
  file: string;
  description: string | null;
  schedule: string | null;
  timezone: string;
  paused: boolean;
  nextRunAt: string | null;
  tasks: PipelineTask[];
  /** In the list only. */
  lastRun?: Run | null;
  /** On the pipeline's own page only. */
  recentRuns?: Run[];
}

export interface TaskRun {
  taskId: string;
  state: string;
  tries: number;
  startedAt: string | null;
  endedAt: string | null;
  nextTryAt: string | null;
  error: string | null;
  summary: Record<string, unknown> | null;
}

export interface Attempt {
  taskId: string;
  attempt: number;
  state: string;
  startedAt: string;
  endedAt: string | null;
  error: string | null;
}

export interface RunDetail extends Run {
  tasks: TaskRun[];
  attempts: Attempt[];
}

export interface LogLine {
  taskId: string;
  attempt: number;
  stream: string;
  at: string;
  text: string;
}

export type StateCounts = Record<RunState, number>;

export interface RunsSummary {
  bucket: 'hour' | 'day';
  since: string;
  buckets: ({ start: string } & StateCounts)[];
  pipelines: ({ pipeline: string } & StateCounts)[];
}

/** GET or POST JSON under /api/v1; errors carry the server's message. */
export async function apiJson<T>(
  path: string,
  signal: AbortSignal,
  init: { method?: 'GET' | 'POST'; body?: unknown } = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method: init.method ?? 'GET',
      signal,
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new Error('cannot reach the server', { cause: err });
  }
  const body = (await res.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
  if (!res.ok) throw new HttpError(res.status, body?.error?.message ?? `${res.status} ${res.statusText}`);
  return body as T;
}

const q = encodeURIComponent;

export const fetchPipelines = async (signal: AbortSignal) =>
  (await apiJson<{ pipelines: Pipeline[] }>('/pipelines', signal)).pipelines;
export const fetchPipeline = (name: string, signal: AbortSignal) =>
  apiJson<Pipeline>(`/pipelines/${q(name)}`, signal);
export const fetchRuns = async (signal: AbortSignal, o: { pipeline?: string; limit?: number } = {}) =>
  (
    await apiJson<{ runs: Run[] }>(
      `/runs?limit=${o.limit ?? 50}${o.pipeline ? `&pipeline=${q(o.pipeline)}` : ''}`,
      signal,
    )
  ).runs;
export const fetchRun = (id: string, signal: AbortSignal) => apiJson<RunDetail>(`/runs/${q(id)}`, signal);
export const fetchLogs = async (id: string, task: string, signal: AbortSignal) =>
  (await apiJson<{ lines: LogLine[] }>(`/runs/${q(id)}/logs?task=${q(task)}&limit=2000`, signal)).lines;
export const fetchRunsSummary = (bucket: 'hour' | 'day', signal: AbortSignal) =>
  apiJson<RunsSummary>(`/runs/summary?bucket=${bucket}`, signal);

/** Start a run now. */
export const triggerRun = (pipeline: string, params: Record<string, string>) =>
  apiJson<Run>('/runs', new AbortController().signal, { method: 'POST', body: { pipeline, params } });

/** One data interval of a backfill and the run that covers it. */
export interface BackfillInterval {
  start: string;
  end: string;
  runId?: string;
  existing: boolean;
  state?: string;
}

/**
 * Start a backfill: one run per schedule interval between `from` and `to` (ISO dates), at most
 * `parallel` at once. Answers once the first runs exist; the server creates the rest as runs finish.
 */
export const backfill = (
  pipeline: string,
  body: { from: string; to: string; parallel: number; params: Record<string, string> },
) =>
  apiJson<{ intervals: BackfillInterval[]; created: string[] }>(
    `/pipelines/${q(pipeline)}/backfill`,
    new AbortController().signal,
    { method: 'POST', body },
  );

/** Re-run the failed tasks of a run, or `fromTask` and everything downstream of it. */
export const resumeRun = (id: string, fromTask?: string) =>
  apiJson<{ rerun: string[] }>(`/runs/${q(id)}/resume`, new AbortController().signal, {
    method: 'POST',
    body: fromTask ? { fromTask } : {},
  });

/** Seconds between two ISO times (to now when the end is missing); undefined without a start. */
export function elapsedSeconds(
  start: string | null,
  end: string | null,
  now = Date.now(),
): number | undefined {
  if (!start) return undefined;
  return ((end ? Date.parse(end) : now) - Date.parse(start)) / 1000;
}
