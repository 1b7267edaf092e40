import { elapsedSeconds, fetchPipelines } from '../api-runs';
import { StateBadge } from '../components/state-badge';
import { formatElapsed, formatRelative, formatTime } from '../format';
import { useLive } from '../live';
import { Link } from '../router';
import { useNow } from '../use-poll';
import './runs.css';

const POLL_MS = 5000;

/** Every pipeline with its schedule, last run and next scheduled run. */
export function PipelinesPage() {
  const { data, error } = useLive(fetchPipelines, { match: (e) => e.type === 'run', fallbackMs: POLL_MS });
  const now = useNow(5000);
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Pipelines</h1>
      {error && (
        <p className="banner banner-bad" role="alert">
          Cannot list pipelines: {error.message}
        </p>
      )}
      <div className="panel table-wrap">
        <table className="grid">
          <thead>
            <tr>
              <th scope="col">Pipeline</th>
              <th scope="col">Schedule</th>
              <th scope="col" className="num">
                Tasks
              </th>
              <th scope="col">Last run</th>
              <th scope="col">Started</th>
              <th scope="col" className="num">
                Duration
              </th>
              <th scope="col">Next run</th>
            </tr>
          </thead>
          <tbody>
            {(data ?? []).map((p) => {
              const last = p.lastRun;
              return (
                <tr key={p.name} data-pipeline={p.name}>
                  <td>
                    <Link href={`/pipelines/${encodeURIComponent(p.name)}`}>{p.name}</Link>
                    {p.description && <div className="muted small">{p.description}</div>}
                  </td>
                  <td>
                    {p.schedule ? <code>{p.schedule}</code> : <span className="muted">manual</span>}
                    {p.paused && <span className="badge badge-bad"> paused</span>}
                  </td>
                  <td className="num">{p.tasks.length}</td>
                  <td>
                    {last ? (
                      <Link href={`/runs/${encodeURIComponent(last.runId)}`}>
                        <StateBadge state={last.state} />
                      </Link>
                    ) : (
                      <span className="muted">never</span>
                    )}
                  </td>
                  <td title={last?.startedAt ? formatTime(last.startedAt) : undefined}>
                    {last?.startedAt ? formatRelative(last.startedAt, now) : '—'}
                  </td>
                  <td className="num">
                    {formatElapsed(elapsedSeconds(last?.startedAt ?? null, last?.endedAt ?? null, now))}
                  </td>
                  <td title={p.nextRunAt ? formatTime(p.nextRunAt) : undefined}>
                    {p.nextRunAt ? formatRelative(p.nextRunAt, now) : '—'}
                  </td>
                </tr>
              );
            })}
            {data && data.length === 0 && (
              <tr>
                <td colSpan={7} className="muted">
                  No pipelines: add a file under pipelines/ (see docs/orchestrator.md).
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
