import { useCallback, useState } from 'react';
import {
  fetchPipeline,
  fetchRun,
  fetchRuns,
  type Pipeline,
  type Run,
  type RunDetail,
  triggerRun,
} from '../api-runs';
import { Dag } from '../components/dag';
import { RunsTable } from '../components/runs-table';
import { StateBadge } from '../components/state-badge';
import { formatRelative, formatTime } from '../format';
import { useLive } from '../live';
import { parseParams } from '../params';
import { Link, navigate } from '../router';
import { BackfillForm } from './backfill-form';
import './runs.css';

const POLL_MS = 3000;

interface PipelineView {
  pipeline: Pipeline;
  runs: Run[];
  latest?: RunDetail;
}

/** One pipeline: its task graph coloured by the latest run, a trigger form and its run history. */
export function PipelinePage({ params }: { params: Record<string, string> }) {
  const name = params.name ?? '';
  const load = useCallback(
    async (signal: AbortSignal): Promise<PipelineView> => {
      const [pipeline, runs] = await Promise.all([
        fetchPipeline(name, signal),
        fetchRuns(signal, { pipeline: name, limit: 500 }),
      ]);
      const latest = runs[0] ? await fetchRun(runs[0].runId, signal) : undefined;
      return { pipeline, runs, latest };
    },
    [name],
  );
  const { data, error } = useLive(load, {
    match: (e) => e.type === 'run' && e.data.pipeline === name,
    fallbackMs: POLL_MS,
  });
  const [showForm, setShowForm] = useState(false);
  const [showBackfill, setShowBackfill] = useState(false);
  const [paramText, setParamText] = useState('');
  const [actionError, setActionError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const trigger = async () => {
    setActionError(undefined);
    setBusy(true);
    try {
      const run = await triggerRun(name, parseParams(paramText));
      navigate(`/runs/${encodeURIComponent(run.runId)}`);
    } catch (err) {
      setActionError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const p = data?.pipeline;
  const states = Object.fromEntries((data?.latest?.tasks ?? []).map((t) => [t.taskId, t.state]));
  return (
    <section className="page" aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title">{name}</h1>
        {data?.latest && <StateBadge state={data.latest.state} />}
        <div className="actions">
          <button type="button" onClick={() => void trigger()} disabled={busy || !p}>
            Trigger run
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => setShowForm(!showForm)}
            aria-expanded={showForm}
          >
            With params…
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => setShowBackfill(!showBackfill)}
            aria-expanded={showBackfill}
          >
            Backfill…
          </button>
        </div>
      </div>
      {error && (
        <p className="banner banner-bad" role="alert">
          {error.message}
        </p>
      )}
      {actionError && (
        <p className="banner banner-bad" role="alert">
          {actionError}
        </p>
      )}
      {showForm && (
        <div className="panel trigger-form">
          <label htmlFor="run-params">
            Params, one key=value a line (templates read them as {'{{ params.key }}'})
          </label>
          <textarea
            id="run-params"
            rows={4}
            value={paramText}
            onChange={(e) => setParamText(e.target.value)}
          />
          <div>
            <button type="button" onClick={() => void trigger()} disabled={busy}>
              Trigger with params
            </button>
          </div>
        </div>
      )}
      {showBackfill && <BackfillForm pipeline={name} />}
      {p && (
        <dl className="facts">
          {p.description && (
            <div>
              <dt>About</dt>
              <dd>{p.description}</dd>
            </div>
          )}
          <div>
            <dt>Schedule</dt>
            <dd>
              {p.schedule ? <code>{p.schedule}</code> : 'manual'} ({p.timezone})
            </dd>
          </div>
          <div>
            <dt>Next run</dt>
            <dd title={p.nextRunAt ? formatTime(p.nextRunAt) : undefined}>
              {p.nextRunAt ? formatRelative(p.nextRunAt) : p.paused ? 'paused' : '—'}
            </dd>
          </div>
          <div>
            <dt>File</dt>
            <dd>
              <code>{p.file}</code>
            </dd>
          </div>
        </dl>
      )}
      {p && (
        <section className="panel" aria-labelledby="dag-title">
          <h2 id="dag-title">Tasks</h2>
          <p className="muted small">
            {data?.latest ? (
              <>
                Coloured by the latest run,{' '}
                <Link href={`/runs/${encodeURIComponent(data.latest.runId)}`}>
                  {data.latest.runId.slice(0, 12)}
                </Link>{' '}
                ({formatTime(data.latest.createdAt)}).
              </>
            ) : (
              'No run yet.'
            )}
          </p>
          <Dag
            title={`Tasks of ${p.name}`}
            tasks={p.tasks}
            states={states}
            onSelect={
              data?.latest
                ? (task) =>
                    navigate(
                      `/runs/${encodeURIComponent(data.latest?.runId ?? '')}?task=${encodeURIComponent(task)}`,
                    )
                : undefined
            }
          />
        </section>
      )}
      {data && (
        <section className="panel table-wrap" aria-labelledby="history-title">
          <h2 id="history-title" className="panel-title">
            Run history
          </h2>
          <RunsTable runs={data.runs} showPipeline={false} />
        </section>
      )}
    </section>
  );
}
