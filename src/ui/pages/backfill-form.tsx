import { type FormEvent, useState } from 'react';
import { type BackfillInterval, backfill } from '../api-runs';
import { StateBadge } from '../components/state-badge';
import { formatTime } from '../format';
import { parseParams } from '../params';
import { Link } from '../router';

/** `YYYY-MM-DDTHH:MM` of a time in UTC, as a datetime-local input holds it. */
function inputTime(d: Date): string {
  return d.toISOString().slice(0, 16);
}

/**
 * Backfill a pipeline: one run per schedule interval starting between two times (UTC, both
 * included), at most `parallel` at once; lists the intervals and the runs that cover them.
 */
export function BackfillForm({ pipeline }: { pipeline: string }) {
  const midnight = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  const [from, setFrom] = useState(inputTime(new Date(midnight - 86_400_000)));
  const [to, setTo] = useState(inputTime(new Date(midnight - 60_000)));
  const [parallel, setParallel] = useState(2);
  const [paramText, setParamText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [result, setResult] = useState<{ intervals: BackfillInterval[]; created: string[] }>();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      setResult(
        await backfill(pipeline, {
          from: `${from}:00Z`,
          to: `${to}:00Z`,
          parallel,
          params: parseParams(paramText),
        }),
      );
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel trigger-form" aria-label="Backfill" onSubmit={(e) => void submit(e)}>
      <div className="form-row">
        <label>
          From (UTC){' '}
          <input type="datetime-local" required value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          To (UTC) <input type="datetime-local" required value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
        <label>
          Max parallel{' '}
          <input
            type="number"
            min={1}
            max={32}
            required
            value={parallel}
            onChange={(e) => setParallel(Number(e.target.value))}
          />
        </label>
      </div>
      <label htmlFor="backfill-params">Params, one key=value a line</label>
      <textarea
        id="backfill-params"
        rows={3}
        value={paramText}
        onChange={(e) => setParamText(e.target.value)}
      />
      <div>
        <button type="submit" disabled={busy}>
          {busy ? 'Starting…' : 'Start backfill'}
        </button>
      </div>
      {error && (
        <p className="banner banner-bad" role="alert">
          {error}
        </p>
      )}
      {result && (
        <div>
          <p className="muted">
            {result.intervals.length} interval{result.intervals.length === 1 ? '' : 's'}:{' '}
            {result.created.length} run{result.created.length === 1 ? '' : 's'} started now,{' '}
            {result.intervals.filter((i) => i.existing).length} already covered; the rest start as runs
            finish.
          </p>
          <table className="grid" aria-label="Backfill runs">
            <thead>
              <tr>
                <th scope="col">Interval</th>
                <th scope="col">Run</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {result.intervals.slice(0, 200).map((i) => (
                <tr key={i.start} data-backfill-run={i.runId}>
                  <td>{formatTime(i.start)}</td>
                  <td>
                    {i.runId ? (
                      <Link href={`/runs/${encodeURIComponent(i.runId)}`}>
                        <code>{i.runId.slice(0, 12)}</code>
                      </Link>
                    ) : (
                      <span className="muted">waiting for a slot</span>
                    )}
                    {i.existing && <span className="muted"> (existing)</span>}
                  </td>
                  <td>{i.state && <StateBadge state={i.state} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </form>
  );
}
