import type { BackendHealth } from '../api';
import { LineChart } from '../components/line-chart';
import { formatBytes, formatDuration, formatRate, formatTime } from '../format';
import { HISTORY_POINTS, METRICS_POLL_MS, useMetricsHistory } from '../metrics-history';
import { useServerStatus } from '../server-status';
import { useNow } from '../use-poll';
import { BusOverview, RunsOverview, TablesOverview } from './overview-platform';
import './overview.css';

const WINDOW = `${formatDuration((HISTORY_POINTS * METRICS_POLL_MS) / 1000)} ago`;

/** The landing page: what is served, whether its backends answer, and how the process is doing. */
export function OverviewPage() {
  const status = useServerStatus();
  const { health, info, connection } = status;
  const now = useNow(1000);
  const reachable = connection !== 'disconnected';
  const uptime = health && reachable ? (now - Date.parse(health.startedAt)) / 1000 : undefined;
  const metrics = useMetricsHistory();

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Overview</h1>

      {!reachable && (
        <p className="banner banner-bad" role="alert">
          No answer from the server
          {status.lastSeenAt ? ` since ${new Date(status.lastSeenAt).toLocaleTimeString()}` : ''}
          {status.error ? ` (${status.error.message})` : ''}. Showing the last known state; retrying.
        </p>
      )}

      <dl className="stats">
        <Stat label="Project" value={health?.project} />
        <Stat
          label="Status"
          value={!reachable ? 'Unreachable' : health ? (health.ready ? 'Ready' : 'Degraded') : undefined}
          tone={!reachable || (health && !health.ready) ? 'bad' : health ? 'ok' : undefined}
        />
        <Stat
          label="Uptime"
          value={uptime === undefined ? undefined : formatDuration(uptime)}
          hint={health ? `${reachable ? 'since' : 'started'} ${formatTime(health.startedAt)}` : undefined}
        />
        <Stat label="Version" value={info?.version} hint={info ? `Node ${info.node}` : undefined} />
      </dl>

      <section className="panel" aria-labelledby="backends-title">
        <h2 id="backends-title">Backends</h2>
        {health ? (
          <ul className="backends">
            {health.backends.map((b) => (
              <BackendRow key={b.name} backend={b} />
            ))}
          </ul>
        ) : (
          <p className="muted">{status.error ? status.error.message : 'Checking backends…'}</p>
        )}
      </section>

      <RunsOverview />
      <TablesOverview />
      <BusOverview />

      <section className="panel" aria-labelledby="activity-title">
        <h2 id="activity-title">Activity</h2>
        <div className="charts">
          <LineChart
            title="HTTP requests"
            capacity={HISTORY_POINTS}
            format={formatRate}
            series={[{ label: 'requests', values: metrics.requestsPerSec, className: 'series-1' }]}
            windowLabel={WINDOW}
            caption="Per second, all routes, including this page's own polling"
          />
          <LineChart
            title="Process memory"
            capacity={HISTORY_POINTS}
            format={formatBytes}
            unit={1024 * 1024}
            series={[
              { label: 'resident', values: metrics.rssBytes, className: 'series-1' },
              { label: 'heap used', values: metrics.heapUsedBytes, className: 'series-2' },
            ]}
            windowLabel={WINDOW}
            caption="Resident set size and V8 heap in use"
          />
        </div>
      </section>
    </section>
  );
}

function Stat({
  label,
  value,
  hint,
  tone,
}: {
  label: string;
  value?: string;
  hint?: string;
  tone?: 'ok' | 'bad';
}) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd className={tone ? `tone-${tone}` : undefined} title={value}>
        {value ?? '–'}
      </dd>
      {hint && <dd className="stat-hint">{hint}</dd>}
    </div>
  );
}

function BackendRow({ backend }: { backend: BackendHealth }) {
  return (
    <li className="backend" data-backend={backend.name} data-ok={backend.ok}>
      <span className="backend-name">{backend.name}</span>
      <span className={`badge ${backend.ok ? 'badge-ok' : 'badge-bad'}`}>{backend.ok ? 'OK' : 'Failed'}</span>
      <span className="backend-detail">{backend.detail}</span>
      <code className="backend-url">{backend.url}</code>
    </li>
  );
}
