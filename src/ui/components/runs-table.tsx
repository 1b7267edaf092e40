import { useState } from 'react';
import { elapsedSeconds, type Run } from '../api-runs';
import { formatElapsed, formatTime } from '../format';
import { Link } from '../router';
import { Pager } from './pager';
import { StateBadge } from './state-badge';

const PAGE = 50;

/** Runs, newest first, a page of 50 at a time (a history of thousands stays quick). */
export function RunsTable({ runs, showPipeline = true }: { runs: readonly Run[]; showPipeline?: boolean }) {
  const [page, setPage] = useState(0);
  const pages = Math.max(1, Math.ceil(runs.length / PAGE));
  const current = Math.min(page, pages - 1);
  const shown = runs.slice(current * PAGE, current * PAGE + PAGE);
  const now = Date.now();
  return (
    <>
      <div className="table-wrap">
        <table className="grid runs">
          <thead>
            <tr>
              <th scope="col">Run</th>
              {showPipeline && <th scope="col">Pipeline</th>}
              <th scope="col">State</th>
              <th scope="col">Trigger</th>
              <th scope="col">Logical date</th>
              <th scope="col">Started</th>
              <th scope="col" className="num">
                Duration
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr key={r.runId} data-run={r.runId}>
                <td>
                  <Link href={`/runs/${encodeURIComponent(r.runId)}`}>
                    <code>{r.runId.slice(0, 12)}</code>
                  </Link>
                </td>
                {showPipeline && (
                  <td>
                    <Link href={`/pipelines/${encodeURIComponent(r.pipeline)}`}>{r.pipeline}</Link>
                  </td>
                )}
                <td>
                  <StateBadge state={r.state} />
                </td>
                <td>{r.trigger}</td>
                <td>{formatTime(r.dataIntervalStart)}</td>
                <td>{r.startedAt ? formatTime(r.startedAt) : '—'}</td>
                <td className="num">{formatElapsed(elapsedSeconds(r.startedAt, r.endedAt, now))}</td>
              </tr>
            ))}
            {runs.length === 0 && (
              <tr>
                <td colSpan={showPipeline ? 7 : 6} className="muted">
                  No runs yet.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <Pager
        label="Run pages"
        page={current}
        pages={pages}
        onPage={setPage}
        previous="Newer"
        next="Older"
        note={`${runs.length} runs`}
      />
    </>
  );
}
