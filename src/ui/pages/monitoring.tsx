import { useCallback, useEffect, useMemo, useState } from 'react';
import {
  BASELINE,
  type Bucket,
  type DimensionSeries,
  type MonitorSpec,
  monitorSql,
  toSeries,
} from '../../monitor/sql';
import { fetchMonitors, type MonitorRule } from '../api-monitors';
import { runSql } from '../api-sql';
import { fetchAllTables, fetchTable, type IcebergField, qualifiedName, typeText } from '../api-tables';
import { LineChart } from '../components/line-chart';
import { formatDuration } from '../format';
import { Link } from '../router';
import { usePoll } from '../use-poll';
import './runs.css';

/** The demo's revenue mart, per partner: what the page shows before anyone picks. */
const DEFAULT: MonitorSpec = {
  table: 'marts.daily_revenue',
  time: 'day',
  dimension: 'partner',
  measure: 'sum',
  column: 'revenue',
  bucket: 'day',
  window: 30,
};
const CHARTS = 12;
const ROW_LIMIT = 200_000;

const NUMERIC = /^(int|long|float|double|decimal)/;
const TIME = /^(date|timestamp)/;

function specFromUrl(): MonitorSpec {
  const q = new URLSearchParams(window.location.search);
  if (!q.get('table')) return DEFAULT;
  const measure = q.get('measure');
  return {
    table: q.get('table') ?? DEFAULT.table,
    time: q.get('time') ?? '',
    dimension: q.get('dimension') ?? '',
    measure: measure === 'sum' || measure === 'avg' ? measure : 'count',
    column: q.get('column') ?? undefined,
    bucket: q.get('bucket') === 'hour' ? 'hour' : 'day',
    window: Number(q.get('window')) || DEFAULT.window,
  };
}

function specToUrl(s: MonitorSpec): string {
  const q = new URLSearchParams({
    table: s.table,
    time: s.time,
    dimension: s.dimension ?? '',
    measure: s.measure,
    bucket: s.bucket,
    window: String(s.window),
  });
  if (s.measure !== 'count' && s.column) q.set('column', s.column);
  return `${window.location.pathname}?${q}`;
}

/** A spec whose columns exist in `fields`, filling the gaps with the first suitable column. */
function fit(s: MonitorSpec, fields: readonly IcebergField[]): MonitorSpec {
  const type = (f: IcebergField) => typeText(f.type);
  const has = (name: string | undefined, ok: (f: IcebergField) => boolean) =>
    fields.some((f) => f.name === name && ok(f));
  const first = (ok: (f: IcebergField) => boolean) => fields.find(ok)?.name;
  const isTime = (f: IcebergField) => TIME.test(type(f));
  const isNum = (f: IcebergField) => NUMERIC.test(type(f));
  const isDim = (f: IcebergField) =>
    !isTime(f) && !type(f).startsWith('struct') && !type(f).startsWith('list');
  const time = has(s.time, isTime) ? s.time : (first(isTime) ?? '');
  const dimension = has(s.dimension, isDim)
    ? s.dimension
    : (first((f) => isDim(f) && !isNum(f)) ?? first(isDim) ?? '');
  const column = has(s.column, isNum) ? s.column : first(isNum);
  return { ...s, time, dimension, column, measure: column ? s.measure : 'count' };
}

/** Pick a table, time column, dimension and measure: a chart per dimension value, with anomaly flags. */
export function MonitoringPage() {
  const tables = usePoll(fetchAllTables, 30_000);
  const [spec, setSpec] = useState<MonitorSpec>(specFromUrl);
  const [fields, setFields] = useState<IcebergField[]>();
  const [fieldsError, setFieldsError] = useState<string>();

  // Columns of the chosen table; the spec is fitted to them.
  useEffect(() => {
    const stop = new AbortController();
    const [ns, ...rest] = spec.table.split('.').reverse();
    setFields(undefined);
    setFieldsError(undefined);
    fetchTable({ name: ns ?? '', namespace: rest.reverse() }, stop.signal).then(
      (md) => {
        const schema = md.schemas.find((x) => x['schema-id'] === md['current-schema-id']);
        const got = schema?.fields ?? [];
        setFields(got);
        setSpec((s) => fit(s, got));
      },
      (err: Error) => {
        if (!stop.signal.aborted) setFieldsError(`${spec.table}: ${err.message}`);
      },
    );
    return () => stop.abort();
  }, [spec.table]);

  const ready = fields !== undefined && spec.time !== '' && spec.dimension !== '';
  useEffect(() => {
    if (ready) window.history.replaceState(null, '', specToUrl(spec));
  }, [spec, ready]);

  const set = (patch: Partial<MonitorSpec>) => setSpec((s) => ({ ...s, ...patch }));
  const names = (tables.data ?? []).map(qualifiedName);
  const timeCols = (fields ?? []).filter((f) => TIME.test(typeText(f.type)));
  const numCols = (fields ?? []).filter((f) => NUMERIC.test(typeText(f.type)));

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Monitoring</h1>
      <p className="muted">
        Volume and freshness per business dimension (a partner, a shop domain): each value gets its own
        series, and its latest {spec.bucket} is compared with the mean of the {BASELINE} before it.
      </p>
      <Rules open={(rule) => setSpec(specOfRule(rule))} />
      <form className="panel picker" onSubmit={(e) => e.preventDefault()} aria-label="What to monitor">
        <label>
          <span>Table</span>
          <select value={spec.table} onChange={(e) => set({ table: e.target.value })}>
            {!names.includes(spec.table) && <option value={spec.table}>{spec.table}</option>}
            {names.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Time column</span>
          <select value={spec.time} onChange={(e) => set({ time: e.target.value })}>
            {timeCols.map((f) => (
              <option key={f.name} value={f.name}>
                {f.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Dimension</span>
          <select value={spec.dimension} onChange={(e) => set({ dimension: e.target.value })}>
            {(fields ?? [])
              .filter((f) => !TIME.test(typeText(f.type)))
              .map((f) => (
                <option key={f.name} value={f.name}>
                  {f.name}
                </option>
              ))}
          </select>
        </label>
        <label>
          <span>Measure</span>
          <select
            value={spec.measure === 'count' ? 'count' : `${spec.measure}:${spec.column}`}
            onChange={(e) => {
              const [measure, column] = e.target.value.split(':');
              set({ measure: measure as MonitorSpec['measure'], column: column ?? spec.column });
            }}
          >
            <option value="count">row count</option>
            {numCols.flatMap((f) => [
              <option key={`sum:${f.name}`} value={`sum:${f.name}`}>
                sum of {f.name}
              </option>,
              <option key={`avg:${f.name}`} value={`avg:${f.name}`}>
                average of {f.name}
              </option>,
            ])}
          </select>
        </label>
        <label>
          <span>Per</span>
          <select value={spec.bucket} onChange={(e) => set({ bucket: e.target.value as Bucket })}>
            <option value="day">day</option>
            <option value="hour">hour</option>
          </select>
        </label>
        <label>
          <span>Window</span>
          <select value={spec.window} onChange={(e) => set({ window: Number(e.target.value) })}>
            {[7, 14, 30, 60, 90].map((n) => (
              <option key={n} value={n}>
                {n} {spec.bucket}s
              </option>
            ))}
          </select>
        </label>
      </form>
      {fieldsError && (
        <p className="banner banner-bad" role="alert">
          {fieldsError}. Pick another table
          {names.length === 0 ? ' (no tables yet: run a pipeline first)' : ''}.
        </p>
      )}
      {ready && <Results key={monitorSql(spec)} spec={spec} />}
    </section>
  );
}

/** The chart view of a rule: its table, columns, bucket and window. */
function specOfRule(r: MonitorRule): MonitorSpec {
  return {
    table: r.table,
    time: r.time,
    dimension: r.dimension ?? '',
    measure: r.measure,
    column: r.column,
    bucket: r.bucket,
    window: r.window,
  };
}

const FIRING_SHOWN = 5;

/** The project's alert rules (monitors/*.yaml) with their state; each opens as the chart view. */
function Rules({ open }: { open: (rule: MonitorRule) => void }) {
  const { data, error } = usePoll(fetchMonitors, 15_000);
  if (error)
    return (
      <p className="banner banner-bad" role="alert">
        Alert rules: {error.message}
      </p>
    );
  if (!data) return null;
  return (
    <section className="panel table-wrap" aria-labelledby="rules-title">
      <h2 id="rules-title" className="panel-title">
        Alert rules
      </h2>
      {data.length === 0 ? (
        <p className="muted">
          No rules yet: add <code>monitors/NAME.yaml</code> to the project to be alerted when a value drifts
          (see docs/monitoring.md).
        </p>
      ) : (
        <table className="grid">
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">Table</th>
              <th scope="col">Condition</th>
              <th scope="col">Severity</th>
              <th scope="col">State</th>
              <th scope="col">Firing values</th>
              <th scope="col">Checked</th>
              <th scope="col" aria-label="Chart" />
            </tr>
          </thead>
          <tbody>
            {data.map((r) => {
              const firing = r.states.filter((s) => s.state === 'firing');
              return (
                <tr key={r.name} data-rule={r.name}>
                  <td title={r.file}>{r.name}</td>
                  <td>
                    {r.table}
                    {r.dimension ? ` by ${r.dimension}` : ''}
                  </td>
                  <td>
                    {r.measure === 'count' ? 'rows' : `${r.measure}(${r.column})`} per {r.bucket}:{' '}
                    {r.condition}
                  </td>
                  <td>{r.severity}</td>
                  <td>
                    {r.error ? (
                      <span className="badge badge-bad" title={r.error}>
                        error
                      </span>
                    ) : r.state === 'firing' ? (
                      <span className="badge badge-bad">firing {r.firing}</span>
                    ) : r.state === 'ok' ? (
                      <span className="badge badge-ok">ok</span>
                    ) : (
                      <span className="muted">not checked yet</span>
                    )}
                  </td>
                  <td>
                    {firing.slice(0, FIRING_SHOWN).map((s) => (
                      <div key={s.value} title={`expected ${s.expected}`}>
                        {s.value}: {s.reason}
                      </div>
                    ))}
                    {firing.length > FIRING_SHOWN && (
                      <div className="muted">and {firing.length - FIRING_SHOWN} more</div>
                    )}
                  </td>
                  <td title={r.nextCheckAt ? `next ${r.nextCheckAt}` : undefined}>
                    {r.checkedAt ? freshness(r.checkedAt.slice(0, 19)) : '—'}
                  </td>
                  <td>
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Open ${r.name} as a chart`}
                      onClick={() => open(r)}
                    >
                      Open chart
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Results({ spec }: { spec: MonitorSpec }) {
  const sql = monitorSql(spec);
  const load = useCallback(
    async (signal: AbortSignal) => {
      const result = await runSql(sql, ROW_LIMIT, signal);
      return {
        ...toSeries(result.rows, spec.bucket),
        truncated: result.truncated,
        elapsedMs: result.elapsedMs,
      };
    },
    [sql, spec.bucket],
  );
  const { data, error } = usePoll(load, 60_000);
  const [all, setAll] = useState(false);

  const ordered = useMemo(() => {
    const rank = (s: DimensionSeries) => (s.flag ? 0 : 1);
    return [...(data?.series ?? [])].sort((a, b) => rank(a) - rank(b) || b.total - a.total);
  }, [data]);
  const flagged = ordered.filter((s) => s.flag).length;
  const charted = all ? ordered : ordered.slice(0, CHARTS);
  const label = (b: string | undefined) =>
    b ? (spec.bucket === 'day' ? b.slice(0, 10) : b.slice(0, 16).replace('T', ' ')) : '';
  const measure = spec.measure === 'count' ? 'rows' : `${spec.measure} of ${spec.column}`;
  const fmt = (v: number) => v.toLocaleString(undefined, { maximumFractionDigits: 1 });

  return (
    <>
      {error && (
        <p className="banner banner-bad" role="alert">
          {error.message}
        </p>
      )}
      {data && (
        <dl className="facts">
          <div>
            <dt>{spec.dimension} values</dt>
            <dd>{data.series.length.toLocaleString()}</dd>
          </div>
          <div>
            <dt>Flagged</dt>
            <dd className={flagged > 0 ? 'tone-bad' : 'tone-ok'}>{flagged}</dd>
          </div>
          {data.openFraction !== undefined && (
            <div>
              <dt>Latest {spec.bucket}</dt>
              <dd>{Math.round(data.openFraction * 100)}% elapsed, baseline prorated</dd>
            </div>
          )}
          <div>
            <dt>Range</dt>
            <dd>
              {label(data.buckets[0])} → {label(data.buckets[data.buckets.length - 1])}
            </dd>
          </div>
          <div>
            <dt>Query</dt>
            <dd>
              <Link href={`/sql?q=${encodeURIComponent(sql)}`}>open in SQL</Link> ·{' '}
              {Math.round(data.elapsedMs)} ms
              {data.truncated ? ' · truncated' : ''}
            </dd>
          </div>
        </dl>
      )}
      {data && data.series.length === 0 && <p className="muted">No rows in {spec.table}.</p>}
      {data && data.series.length > 0 && (
        <>
          <section className="panel" aria-labelledby="dims-title">
            <div className="page-head">
              <h2 id="dims-title">
                {measure} per {spec.bucket}, by {spec.dimension}
              </h2>
              {ordered.length > CHARTS && (
                <button type="button" className="secondary actions" onClick={() => setAll(!all)}>
                  {all ? `Show ${CHARTS}` : `Show all ${ordered.length}`}
                </button>
              )}
            </div>
            <div className="charts small-multiples">
              {charted.map((s) => (
                <div key={s.value} className={s.flag ? 'flagged' : undefined} data-dimension={s.value}>
                  <LineChart
                    title={s.value}
                    capacity={data.buckets.length}
                    format={fmt}
                    series={[
                      { label: measure, values: s.values, className: s.flag ? 'series-bad' : 'series-1' },
                    ]}
                    windowLabel={label(data.buckets[0])}
                    endLabel={label(data.buckets[data.buckets.length - 1])}
                    caption={flagText(s, fmt)}
                  />
                </div>
              ))}
            </div>
          </section>
          <section className="panel table-wrap" aria-labelledby="checks-title">
            <h2 id="checks-title" className="panel-title">
              Checks
            </h2>
            <table className="grid">
              <thead>
                <tr>
                  <th scope="col">{spec.dimension}</th>
                  <th scope="col" className="num">
                    Latest {spec.bucket}
                  </th>
                  <th scope="col" className="num">
                    Baseline
                  </th>
                  <th scope="col" className="num">
                    Change
                  </th>
                  <th scope="col">Newest row</th>
                  <th scope="col">Flag</th>
                </tr>
              </thead>
              <tbody>
                {ordered.map((s) => (
                  <tr key={s.value} data-check={s.value}>
                    <td>{s.value}</td>
                    <td className="num">{fmt(s.latest)}</td>
                    <td className="num">{s.baseline === undefined ? '—' : fmt(s.baseline)}</td>
                    <td className="num">
                      {s.baseline
                        ? `${s.latest >= s.baseline ? '+' : ''}${Math.round(((s.latest - s.baseline) * 100) / s.baseline)}%`
                        : '—'}
                    </td>
                    <td title={s.newest}>{freshness(s.newest)}</td>
                    <td>
                      {s.flag ? (
                        <span className="badge badge-bad">{s.flag}</span>
                      ) : (
                        <span className="badge badge-ok">ok</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </>
      )}
    </>
  );
}

function flagText(s: DimensionSeries, fmt: (v: number) => string): string {
  const base = s.baseline === undefined ? 'no baseline yet' : `baseline ${fmt(s.baseline)}`;
  if (s.flag === 'missing') return `Nothing in the latest bucket (${base})`;
  if (s.flag === 'low') return `Latest ${fmt(s.latest)}: under half the ${base}`;
  if (s.flag === 'high') return `Latest ${fmt(s.latest)}: over twice the ${base}`;
  return `Latest ${fmt(s.latest)}, ${base}`;
}

/** Time since the newest row, read as UTC (tables store timestamps without a zone). */
function freshness(newest: string): string {
  const t = Date.parse(`${newest}Z`);
  if (!Number.isFinite(t)) return '—';
  return `${formatDuration(Math.max(0, (Date.now() - t) / 1000))} ago`;
}
