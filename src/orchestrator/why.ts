/**
 * `sluice why`: the reasons a pipeline or a task is not running, in words: paused, not
 * due yet, max active runs, upstream not done or failed, pool full, no worker alive.
 */
import type { LoadedPipeline } from './load.js';
import type { Orchestrator } from './orchestrator.js';
import { tickAtOrAfter } from './schedule.js';
import type { RunInfo, TaskRunInfo } from './state.js';

/** The answer of `why`. */
export interface Explanation {
  pipeline: string;
  run?: { runId: string; state: string };
  reasons: string[];
}

const WORKER_SEEN_MS = 30_000;

export async function explain(orch: Orchestrator, p: LoadedPipeline, taskId?: string): Promise<Explanation> {
  const meta = orch.runtime.meta;
  const now = orch.engine.now();
  const reasons: string[] = [];
  const [state] = await meta.query<{ paused: number }>(
    'SELECT paused FROM sluice_pipelines WHERE pipeline = ?',
    [p.name],
  );
  if (p.def.paused || Number(state?.paused) === 1) reasons.push('the pipeline is paused');
  const [run] = await orch.listRuns({ pipeline: p.name, limit: 1 });
  const active = await orch.listRuns({ pipeline: p.name, state: 'running', limit: 1000 });
  if (active.length >= p.def.max_active_runs) {
    reasons.push(`max active runs reached (${active.length} of ${p.def.max_active_runs} running)`);
  }
  if (!taskId) {
    if (p.def.schedule) {
      const next = tickAtOrAfter(p.def.schedule, p.def.timezone, new Date(now + 1));
      reasons.push(
        `not due: the next scheduled run is at ${next?.toISOString() ?? 'never'} (${p.def.schedule} ${p.def.timezone})`,
      );
    } else if (p.def.on) {
      reasons.push(`runs when ${describeTrigger(p.def.on)}`);
    } else {
      reasons.push(`no schedule: runs only when triggered (sluice run ${p.name})`);
    }
  }
  if (!run) {
    reasons.push('it has never run');
    return { pipeline: p.name, reasons };
  }
  const tasks = await orch.taskRuns(run.runId);
  const workers = await meta.query<{ n: number }>(
    'SELECT COUNT(*) AS n FROM sluice_workers WHERE seen_at > ?',
    [Date.now() - WORKER_SEEN_MS],
  );
  const liveWorkers = Number(workers[0]?.n ?? 0);
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  const subjects = taskId ? [byId.get(taskId)] : tasks.filter((t) => t.state !== 'success');
  if (taskId && !byId.has(taskId)) reasons.push(`the latest run ${run.runId} has no task "${taskId}"`);
  reasons.push(`latest run ${run.runId} is ${run.state}`);
  for (const t of subjects) if (t) reasons.push(`${t.taskId}: ${taskReason(t, p, byId, liveWorkers, run)}`);
  return { pipeline: p.name, run: { runId: run.runId, state: run.state }, reasons };
}

function taskReason(
  t: TaskRunInfo,
  p: LoadedPipeline,
  byId: Map<string, TaskRunInfo>,
  liveWorkers: number,
  run: RunInfo,
): string {
  const upstream = p.graph
    .upstream(t.taskId)
    .map((d) => byId.get(d))
    .filter((d): d is TaskRunInfo => !!d);
  switch (t.state) {
    case 'pending': {
      const waiting = upstream.filter((u) => u.state !== 'success' && u.state !== 'skipped');
      if (run.state === 'failed' || run.state === 'cancelled') return `not run: the run is ${run.state}`;
      return `waiting for upstream ${waiting.map((u) => `${u.taskId} (${u.state})`).join(', ')}`;
    }
    case 'upstream_failed': {
      const failed = upstream.filter(
        (u) => u.state === 'failed' || u.state === 'upstream_failed' || u.state === 'cancelled',
      );
      return `not run: upstream failed (${failed.map((u) => `${u.taskId} ${u.state}`).join(', ')})`;
    }
    case 'waiting':
      return `ready, but ${t.error ?? 'no slot is free'}`;
    case 'queued':
      return liveWorkers === 0
        ? 'queued, but no worker is alive (start one: sluice serve --role worker)'
        : `queued since ${t.queuedAt?.toISOString()}; ${liveWorkers} worker(s) alive, all slots busy`;
    case 'retry':
      return `attempt ${t.tries} failed (${t.error}); retrying at ${t.nextTryAt?.toISOString()}`;
    case 'running':
      return `running on ${t.workerId} since ${t.startedAt?.toISOString()}`;
    case 'failed':
      return `failed after ${t.tries} attempt(s): ${t.error}`;
    default:
      return t.state;
  }
}

function describeTrigger(on: NonNullable<LoadedPipeline['def']['on']>): string {
  if (on.table) return `table ${on.table} gets a new snapshot`;
  if (on.events) return `event type ${on.events} receives events`;
  return `files land under ${on.files}`;
}
