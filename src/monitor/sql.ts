/**
 * Per-dimension monitoring: the SQL it runs and the anomaly rule it applies. Shared by the
 * Monitoring page (in the browser) and the server's monitor rules, so both see the same
 * numbers; it imports nothing.
 */

export type Bucket = 'hour' | 'day';

export interface MonitorSpec {
  table: string;
  time: string;
  /** Column splitting the series; empty or absent: one series for the whole table. */
  dimension?: string;
  /** `count` counts rows; otherwise the sum or average of a numeric column. */
  measure: 'count' | 'sum' | 'avg';
  column?: string;
  bucket: Bucket;
  /** Buckets back from the newest time in the table. */
  window: number;
}

/** The value of the single series of a monitor without a dimension. */
export const ALL = '(all)';

/** Buckets before the latest one that make its baseline. */
export const BASELINE = 7;

/** A SQL identifier, quoted; `ns.table` becomes `"ns"."table"`. */
export function ident(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.');
}

function measureSql(s: MonitorSpec): string {
  if (s.measure === 'count' || !s.column) return 'count(*)';
  return `${s.measure}(${ident(s.column)})`;
}

/**
 * Measure per dimension value and time bucket over the last `window` buckets of data (counted
 * back from the newest time in the table, so a table loaded yesterday still shows), plus each
 * value's newest time for freshness.
 */
export function monitorSql(s: MonitorSpec): string {
  const t = `CAST(${ident(s.time)} AS TIMESTAMP)`;
  const unit = s.bucket === 'hour' ? 'HOUR' : 'DAY';
  return `WITH src AS (
  SELECT ${s.dimension ? `CAST(${ident(s.dimension)} AS VARCHAR)` : `'${ALL}'`} AS __dim, ${t} AS __t, *
  FROM ${ident(s.table)}
  WHERE ${ident(s.time)} IS NOT NULL
), bounds AS (
  SELECT date_trunc('${s.bucket}', max(__t)) - INTERVAL ${Math.max(1, s.window) - 1} ${unit} AS __since FROM src
)
SELECT __dim AS dim,
       strftime(date_trunc('${s.bucket}', __t), '%Y-%m-%dT%H:%M:%S') AS bucket,
       CAST(${measureSql(s)} AS DOUBLE) AS value,
       strftime(max(__t), '%Y-%m-%dT%H:%M:%S') AS newest
FROM src, bounds
WHERE __t >= __since
GROUP BY ALL
ORDER BY 1, 2`;
}

export interface DimensionSeries {
  value: string;
  /** One value per bucket of `buckets`; a bucket without rows is 0. */
  values: number[];
  total: number;
  latest: number;
  /**
   * Mean of the BASELINE buckets before the latest, scaled to the part of the latest bucket
   * that has passed when it is still open (today at 10:00 expects 10/24 of a day's volume);
   * undefined when there are none.
   */
  baseline?: number;
  /** Newest time seen for this value (local ISO without zone, as the table stores it). */
  newest: string;
  flag?: 'missing' | 'low' | 'high';
}

/** Every bucket start from `first` to `last` inclusive, as `YYYY-MM-DDTHH:MM:SS` text. */
export function bucketRange(first: string, last: string, bucket: Bucket): string[] {
  const step = bucket === 'hour' ? 3_600_000 : 86_400_000;
  const out: string[] = [];
  const end = Date.parse(`${last}Z`);
  for (let t = Date.parse(`${first}Z`); t <= end && out.length < 10_000; t += step)
    out.push(new Date(t).toISOString().slice(0, 19));
  return out;
}

/**
 * The anomaly rule: the latest bucket against the mean of the BASELINE buckets before it.
 * Nothing where there was something is `missing`; under the baseline divided by `factor`
 * (default 2: half) is `low`; over `factor` times it is `high`.
 */
export function flagOf(latest: number, baseline: number | undefined, factor = 2): DimensionSeries['flag'] {
  if (baseline === undefined || baseline <= 0) return undefined;
  if (latest === 0) return 'missing';
  if (latest < baseline / factor) return 'low';
  if (latest > baseline * factor) return 'high';
  return undefined;
}

/** Rows of `monitorSql` as one series per dimension value over a shared bucket axis. */
export function toSeries(
  rows: readonly unknown[][],
  bucket: Bucket,
  now = Date.now(),
): { buckets: string[]; series: DimensionSeries[]; openFraction?: number } {
  const stamps = rows.map((r) => String(r[1]));
  if (stamps.length === 0) return { buckets: [], series: [] };
  const sorted = [...stamps].sort();
  const buckets = bucketRange(sorted[0] ?? '', sorted[sorted.length - 1] ?? '', bucket);
  const index = new Map(buckets.map((b, i) => [b, i]));
  const byDim = new Map<string, { values: number[]; newest: string }>();
  for (const [dim, b, v, newest] of rows) {
    const key = dim === null ? '(null)' : String(dim);
    const entry = byDim.get(key) ?? { values: buckets.map(() => 0), newest: '' };
    const i = index.get(String(b));
    if (i !== undefined) entry.values[i] = Number(v) || 0;
    if (String(newest) > entry.newest) entry.newest = String(newest);
    byDim.set(key, entry);
  }
  const step = bucket === 'hour' ? 3_600_000 : 86_400_000;
  const lastStart = Date.parse(`${buckets[buckets.length - 1]}Z`);
  const passed = (now - lastStart) / step;
  // A bucket still open is compared with the share of the baseline its elapsed part stands for.
  const openFraction = passed > 0 && passed < 1 ? Math.max(0.05, passed) : undefined;
  const series = [...byDim.entries()].map(([value, { values, newest }]) => {
    const latest = values[values.length - 1] ?? 0;
    const base = values.slice(Math.max(0, values.length - 1 - BASELINE), values.length - 1);
    const mean = base.length > 0 ? base.reduce((a, b) => a + b, 0) / base.length : undefined;
    const baseline = mean === undefined ? undefined : mean * (openFraction ?? 1);
    return {
      value,
      values,
      total: values.reduce((a, b) => a + b, 0),
      latest,
      baseline,
      newest,
      flag: flagOf(latest, baseline),
    };
  });
  return { buckets, series, openFraction };
}
