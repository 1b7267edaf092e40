import { useCallback, useEffect, useState } from 'react';
import {
  elapsedSeconds,
  fetchLogs,
  fetchPipeline,
  fetchRun,
  type LogLine,
  type Pipeline,
  type RunDetail,
  resumeRun,
  type TaskRun,
  triggerRun,
} from '../api-runs';
import { Dag } from '../components/dag';
import { StateBadge } from '../components/state-badge';
import { formatElapsed, formatTime } from '../format';
import { useLive } from '../live';
import { Link, navigate } from '../router';
import { useNow } from '../use-poll';
import './runs.css';

const POLL_MS = 2000;

function selectedFromUrl(): string | undefined {
  return new URLSearchParams(window.location.search).get('task') ?? undefined;
}

/** One run: task states as a graph and a time line, the selected task's logs, resume and re-trigger. */
export function RunPage({ params }: { params: Record<string, string> }) {
  const id = params.id ?? '';
  const load = useCallback(
    async (signal: AbortSignal): Promise<{ run: RunDetail; pipeline?: Pipeline }> => {
      const run = await fetchRun(id, signal);
      // The pipeline may have been removed since; the run still shows.
      const pipeline = await fetchPipeline(run.pipeline, signal).catch(() => undefined);
      return { run, pipeline };
    },
    [id],
  );
  const { data, error } = useLive(load, {
    match: (e) => e.type === 'run' && e.data.runId === id,
    fallbackMs: POLL_MS,
  });
  const now = useNow(1000);
  const [selected, setSelected] = useState<string | undefined>(selectedFromUrl);
  const [message, setMessage] = useState<{ text: string; bad: boolean }>();
  const [busy, setBusy] = useState(false);
  const run = data?.run;

  const act = async (what: () => Promise<string>) => {
    setBusy(true);
    setMessage(undefined);
    try {
      setMessage({ text: await what(), bad: false });
    } catch (err) {
      setMessage({ text: err instanceof Error ? err.message : String(err), bad: true });
    } finally {
      setBusy(false);
    }
  };
  const resume = (fromTask?: string) =>
    act(async () => {
      const plan = await resumeRun(id, fromTask);
      return `Resumed: ${plan.rerun.length} task${plan.rerun.length === 1 ? '' : 's'} to run again (${plan.rerun.join(', ')}).`;
    });
  const again = () =>
    act(async () => {
      if (!run) return '';
      const next = await triggerRun(run.pipeline, run.params ?? {});
      navigate(`/runs/${encodeURIComponent(next.runId)}`);
      return `Started run ${next.runId}.`;
    });
  const finished = run && ['success', 'failed', 'cancelled'].includes(run.state);
  const states = Object.fromEntries((run?.tasks ?? []).map((t) => [t.taskId, t.state]));

  return (
    <section className="page" aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title">
          Run <code>{id.slice(0, 12)}</code>
        </h1>
        {run && <StateBadge state={run.state} />}
        <div className="actions">
          {run && (run.state === 'failed' || run.state === 'cancelled') && (
            <button type="button" onClick={() => void resume()} disabled={busy}>
              Resume failed tasks
            </button>
          )}
          <button type="button" className="secondary" onClick={() => void again()} disabled={busy || !run}>
            Trigger again
          </button>
        </div>
      </div>
      {error && (
        <p className="banner banner-bad" role="alert">
          {error.message}
        </p>
      )}
      {message && (
        <p className={`banner${message.bad ? ' banner-bad' : ''}`} role={message.bad ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
      {run && (
        <dl className="facts">
          <div>
            <dt>Pipeline</dt>
            <dd>
              <Link href={`/pipelines/${encodeURIComponent(run.pipeline)}`}>{run.pipeline}</Link>
            </dd>
          </div>
          <div>
            <dt>Trigger</dt>
            <dd>{run.trigger}</dd>
          </div>
          <div>
            <dt>Logical date</dt>
            <dd>{formatTime(run.dataIntervalStart)}</dd>
          </div>
          <div>
            <dt>Started</dt>
            <dd>{run.startedAt ? formatTime(run.startedAt) : 'not yet'}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{formatElapsed(elapsedSeconds(run.startedAt, run.endedAt, now))}</dd>
          </div>
          {run.params && Object.keys(run.params).length > 0 && (
            <div>
              <dt>Params</dt>
              <dd>
                <code>
                  {Object.entries(run.params)
                    .map(([k, v]) => `${k}=${v}`)
                    .join(' ')}
                </code>
              </dd>
            </div>
          )}
        </dl>
      )}
      {run && data?.pipeline && (
        <section className="panel" aria-labelledby="graph-title">
          <h2 id="graph-title">Graph</h2>
          <Dag
            title={`Tasks of run ${id}`}
            tasks={data.pipeline.tasks}
            states={states}
            selected={selected}
            onSelect={setSelected}
          />
        </section>
      )}
      {run && (
        <section className="panel" aria-labelledby="tasks-title">
          <h2 id="tasks-title">Task instances</h2>
          <Timeline run={run} now={now} selected={selected} onSelect={setSelected} />
        </section>
      )}
      {run && selected && (
        <TaskLogs
          runId={id}
          task={run.tasks.find((t) => t.taskId === selected)}
          taskId={selected}
          live={!finished}
          canResume={Boolean(finished) && !busy}
          onResume={() => void resume(selected)}
        />
      )}
    </section>
  );
}

/** Task instances as rows of a time line: each bar spans the task's start to end within the run. */
function Timeline({
  run,
  now,
  selected,
  onSelect,
}: {
  run: RunDetail;
  now: number;
  selected?: string;
  onSelect: (task: string) => void;
}) {
  const starts = run.tasks.flatMap((t) => (t.startedAt ? [Date.parse(t.startedAt)] : []));
  const t0 = run.startedAt ? Date.parse(run.startedAt) : Math.min(now, ...starts);
  const t1 = run.endedAt
    ? Date.parse(run.endedAt)
    : Math.max(t0 + 1, now, ...run.tasks.flatMap((t) => (t.endedAt ? [Date.parse(t.endedAt)] : [])));
  const span = Math.max(1, t1 - t0);
  const pct = (ms: number) => `${Math.min(100, Math.max(0, ((ms - t0) * 100) / span)).toFixed(2)}%`;
  const ordered = [...run.tasks].sort(
    (a, b) =>
      (a.startedAt ? Date.parse(a.startedAt) : Number.MAX_SAFE_INTEGER) -
      (b.startedAt ? Date.parse(b.startedAt) : Number.MAX_SAFE_INTEGER),
  );
  return (
    <div className="table-wrap">
      <table className="gantt" aria-label="Task instances">
        <tbody>
          {ordered.map((t: TaskRun) => {
            const start = t.startedAt ? Date.parse(t.startedAt) : undefined;
            const end = t.endedAt ? Date.parse(t.endedAt) : now;
            return (
              <tr key={t.taskId} data-task={t.taskId} aria-selected={selected === t.taskId}>
                <td className="task-name">
                  <button type="button" onClick={() => onSelect(t.taskId)}>
                    {t.taskId}
                  </button>
                </td>
                <td>
                  <StateBadge state={t.state} />
                </td>
                <td className="num" title="attempts">
                  {t.tries > 1 ? `${t.tries} tries` : t.tries === 1 ? '1 try' : '—'}
                </td>
                <td className="num">{formatElapsed(elapsedSeconds(t.startedAt, t.endedAt, now))}</td>
                <td className="track">
                  {start !== undefined && (
                    <span
                      className={`span state-${t.state}`}
                      style={{ left: pct(start), width: `calc(${pct(end)} - ${pct(start)})` }}
                      title={`${formatTime(t.startedAt ?? '')} → ${t.endedAt ? formatTime(t.endedAt) : 'running'}`}
                    />
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The log lines of one task of the run, every attempt, refreshed while the run is going. */
function TaskLogs({
  runId,
  taskId,
  task,
  live,
  canResume,
  onResume,
}: {
  runId: string;
  taskId: string;
  task?: TaskRun;
  live: boolean;
  canResume: boolean;
  onResume: () => void;
}) {
  const [lines, setLines] = useState<LogLine[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const stop = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const got = await fetchLogs(runId, taskId, stop.signal);
        if (!stop.signal.aborted) {
          setLines(got);
          setError(undefined);
        }
      } catch (err) {
        if (!stop.signal.aborted) setError(err instanceof Error ? err.message : String(err));
      }
      if (live && !stop.signal.aborted) timer = setTimeout(tick, POLL_MS);
    };
    void tick();
    return () => {
      stop.abort();
      clearTimeout(timer);
    };
  }, [runId, taskId, live]);

  return (
    <section className="panel" aria-labelledby="logs-title">
      <div className="page-head">
        <h2 id="logs-title">Logs of {taskId}</h2>
        <div className="actions">
          <button type="button" className="secondary" onClick={onResume} disabled={!canResume}>
            Resume from this task
          </button>
        </div>
      </div>
      {task?.error && <p className="error-text">{task.error}</p>}
      {error && <p className="tone-bad">{error}</p>}
      {lines && lines.length === 0 && <p className="muted">No log lines.</p>}
      {lines && lines.length > 0 && (
        <pre className="logs" data-lines={lines.length}>
          {lines.map((l, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: log lines are positional
            <div key={i} className={l.stream === 'stderr' ? 'stderr' : undefined}>
              <span className="at">
                #{l.attempt} {new Date(l.at).toLocaleTimeString()}
              </span>
              {l.text}
            </div>
          ))}
        </pre>
      )}
    </section>
  );
}
