import { useCallback, useState } from 'react';
import { fetchRuns, type RunState } from '../api-runs';
import { RunsTable } from '../components/runs-table';
import { useLive } from '../live';
import './runs.css';

const POLL_MS = 5000;
const LIMIT = 1000;
const STATES: readonly RunState[] = ['queued', 'running', 'success', 'failed', 'cancelled'];

/** The newest runs of every pipeline, filterable by pipeline name and state. */
export function RunsPage() {
  const load = useCallback((signal: AbortSignal) => fetchRuns(signal, { limit: LIMIT }), []);
  const { data, error } = useLive(load, { match: (e) => e.type === 'run', fallbackMs: POLL_MS });
  const [filter, setFilter] = useState('');
  const [state, setState] = useState('');
  const shown = (data ?? []).filter(
    (r) => r.pipeline.toLowerCase().includes(filter.trim().toLowerCase()) && (!state || r.state === state),
  );
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Runs</h1>
      {error && (
        <p className="banner banner-bad" role="alert">
          Cannot list runs: {error.message}
        </p>
      )}
      <div className="toolbar">
        <label>
          <span className="visually-hidden">Filter by pipeline</span>
          <input
            type="search"
            placeholder="Filter by pipeline"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
          />
        </label>
        <label>
          <span className="visually-hidden">State</span>
          <select value={state} onChange={(e) => setState(e.target.value)}>
            <option value="">All states</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <span className="muted">
          {data ? `${shown.length} of ${data.length}${data.length === LIMIT ? '+' : ''} runs` : 'Loading…'}
        </span>
      </div>
      <div className="panel table-wrap">{data && <RunsTable runs={shown} />}</div>
    </section>
  );
}
