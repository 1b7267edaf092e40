import { fetchPipelines, fetchRunsSummary } from '../api-runs';
import { qualifiedName } from '../api-tables';
import { BUS_POINTS, BUS_POLL_MS, type BusHistory, useBusHistory } from '../bus-history';
import { BarChart } from '../components/bar-chart';
import { LineChart } from '../components/line-chart';
import { TimeBars } from '../components/time-bars';
import { formatDuration, formatRate } from '../format';
import { Link } from '../router';
import { usePoll } from '../use-poll';
import { currentSummary, loadTables } from './tables';

const BUS_WINDOW = `${formatDuration((BUS_POINTS * BUS_POLL_MS) / 1000)} ago`;
/** Tables shown in the freshness chart: the stalest first. */
const FRESHNESS_BARS = 15;

async function loadRuns(signal: AbortSignal) {
  const [summary, pipelines] = await Promise.all([fetchRunsSummary('hour', signal), fetchPipelines(signal)]);
  return { summary, pipelines };
}

/** Runs over the last day and the pipelines whose latest run failed. */
export function RunsOverview() {
  const { data, error } = usePoll(loadRuns, 10_000);
  const buckets = data?.summary.buckets ?? [];
  const hour = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const failing = (data?.pipelines ?? []).filter((p) => p.lastRun?.state === 'failed');
  const failedRuns = (data?.summary.pipelines ?? []).filter((p) => p.failed > 0);
  return (
    <section className="panel" aria-labelledby="runs-title">
      <h2 id="runs-title">
        <Link href="/runs">Runs</Link>
      </h2>
      {error && <p className="tone-bad">{error.message}</p>}
      <div className="charts">
        <TimeBars
          title="Runs per hour"
          labels={buckets.map((b) => hour(b.start))}
          series={[
            { label: 'succeeded', values: buckets.map((b) => b.success), className: 'series-ok' },
            { label: 'failed', values: buckets.map((b) => b.failed + b.cancelled), className: 'series-bad' },
            { label: 'running', values: buckets.map((b) => b.running + b.queued), className: 'series-1' },
          ]}
          caption="Runs created in each of the last 24 hours, by their state now"
        />
        <div>
          <h3>Failing pipelines</h3>
          {data && failing.length === 0 && <p className="muted">No pipeline's latest run failed.</p>}
          {failing.length > 0 && (
            <ul className="failing" aria-label="Failing pipelines">
              {failing.map((p) => (
                <li key={p.name}>
                  <Link href={`/pipelines/${encodeURIComponent(p.name)}`}>{p.name}</Link>{' '}
                  <Link href={`/runs/${encodeURIComponent(p.lastRun?.runId ?? '')}`} className="tone-bad">
                    latest run failed
                  </Link>
                </li>
              ))}
            </ul>
          )}
          {failedRuns.length > 0 && (
            <BarChart
              title="Failed runs in the last 24 hours"
              width={460}
              labelWidth={160}
              labels={failedRuns.map((p) => p.pipeline)}
              values={failedRuns.map((p) => p.failed)}
            />
          )}
        </div>
      </div>
    </section>
  );
}

/** Minutes since each table last changed, and rows held in quarantine tables. */
export function TablesOverview() {
  const { data, error } = usePoll(loadTables, 30_000);
  const now = Date.now();
  const rows = (data ?? []).filter((r) => r.metadata);
  const stale = rows
    .filter((r) => !r.ref.name.endsWith('__quarantine'))
    .map((r) => ({
      name: qualifiedName(r.ref),
      minutes: (now - (r.metadata?.['last-updated-ms'] ?? now)) / 60_000,
    }))
    .sort((a, b) => b.minutes - a.minutes)
    .slice(0, FRESHNESS_BARS);
  const quarantine = rows
    .filter((r) => r.ref.name.endsWith('__quarantine'))
    .map((r) => ({
      name: qualifiedName(r.ref),
      rows: Number(currentSummary(r.metadata)?.['total-records'] ?? 0),
    }))
    .sort((a, b) => b.rows - a.rows);
  return (
    <section className="panel" aria-labelledby="tables-title">
      <h2 id="tables-title">
        <Link href="/tables">Tables</Link>
      </h2>
      {error && <p className="tone-bad">{error.message}</p>}
      {data && rows.length === 0 && <p className="muted">No tables yet.</p>}
      <div className="charts">
        {stale.length > 0 && (
          <BarChart
            title="Freshness: minutes since the last snapshot (stalest first)"
            width={460}
            labelWidth={240}
            labels={stale.map((s) => s.name)}
            values={stale.map((s) => Math.round(s.minutes))}
          />
        )}
        {data && (
          <div>
            {quarantine.length > 0 ? (
              <BarChart
                title="Quarantined rows"
                width={460}
                labelWidth={240}
                labels={quarantine.map((q) => q.name)}
                values={quarantine.map((q) => q.rows)}
              />
            ) : (
              <>
                <h3>Quarantined rows</h3>
                <p className="muted">No quarantine tables: every ingested row passed its checks.</p>
              </>
            )}
          </div>
        )}
      </div>
    </section>
  );
}

/** Publish rate and consumer lag of the event bus. */
export function BusOverview() {
  const bus = useBusHistory();
  const types = bus.latest?.types.length;
  return (
    <section className="panel" aria-labelledby="bus-title">
      <h2 id="bus-title">
        <Link href="/events">Event bus</Link>
        {types !== undefined && <span className="muted small"> · {types} event types</span>}
      </h2>
      {bus.error && <p className="tone-bad">{bus.error.message}</p>}
      <BusCharts bus={bus} />
    </section>
  );
}

/** Publish rate and consumer lag of the bus over the last minutes, side by side. */
export function BusCharts({ bus }: { bus: BusHistory }) {
  return (
    <div className="charts">
      <LineChart
        title="Published"
        capacity={BUS_POINTS}
        format={formatRate}
        series={[{ label: 'events', values: bus.totalRate, className: 'series-1' }]}
        windowLabel={BUS_WINDOW}
        caption="Events per second over every event type"
      />
      <LineChart
        title="Consumer lag"
        capacity={BUS_POINTS}
        format={(v) => Math.round(v).toLocaleString()}
        series={[{ label: 'unconsumed', values: bus.totalLag, className: 'series-2' }]}
        windowLabel={BUS_WINDOW}
        caption="Events not yet committed by subscriptions (lake sinks included)"
      />
    </div>
  );
}
