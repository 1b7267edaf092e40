/**
 * Judging a rule: its query runs in DuckDB through the engine (the SQL the Monitoring page
 * runs), and each dimension value's series is held against the rule's condition.
 */
import type { Engine } from '../engine/index.js';
import { jsonRow } from '../engine/index.js';
import type { Monitor } from './definition.js';
import { specOf } from './definition.js';
import { type DimensionSeries, flagOf, monitorSql, toSeries } from './sql.js';

export type MonitorState = 'ok' | 'firing';

/** The outcome for one dimension value. */
export interface Verdict {
  /** The dimension value (`(all)` for a rule without a dimension). */
  value: string;
  state: MonitorState;
  /** What was measured: the latest bucket, or the age of the newest row in seconds (freshness). */
  measured: number | null;
  /** What the condition expects, e.g. `>= 100` or `~ 1200 (÷2..×2)`. */
  expected: string;
  reason: string;
}

/** Rows at most read back from a rule's query (values × buckets). */
const MAX_ROWS = 1_000_000;

/** Run a rule's query and judge every dimension value in it. */
export async function evaluateMonitor(engine: Engine, def: Monitor, now: number): Promise<Verdict[]> {
  const session = await engine.openSession({ name: `monitor:${def.name}`, readOnly: true });
  const rows: unknown[][] = [];
  try {
    const result = await session.run(monitorSql(specOf(def)));
    for await (const batch of result.batches()) {
      for (const row of batch) if (rows.length < MAX_ROWS) rows.push(jsonRow(row));
    }
  } finally {
    await session.close();
  }
  const { series, openFraction } = toSeries(rows, def.bucket, now);
  return series.map((s) => judge(def, s, openFraction, now));
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/** One series against the rule's condition. */
export function judge(
  def: Monitor,
  s: DimensionSeries,
  openFraction: number | undefined,
  now: number,
): Verdict {
  const c = def.condition;
  const v = (state: MonitorState, measured: number | null, expected: string, reason: string): Verdict => ({
    value: s.value,
    state,
    measured,
    expected,
    reason,
  });
  const latest = s.latest;
  if (c.anomaly) {
    const { factor } = c.anomaly;
    const flag = flagOf(latest, s.baseline, factor);
    if (s.baseline === undefined || s.baseline <= 0)
      return v('ok', latest, 'a baseline', `latest ${fmt(latest)}, no baseline yet`);
    const expected = `${fmt(s.baseline / factor)}..${fmt(s.baseline * factor)}`;
    const words = { missing: 'nothing in the latest bucket', low: 'under', high: 'over' };
    if (!flag) return v('ok', latest, expected, `latest ${fmt(latest)} vs baseline ${fmt(s.baseline)}`);
    const how =
      flag === 'missing' ? words.missing : `${words[flag]} ${flag === 'low' ? `1/${factor}` : `${factor}×`}`;
    return v(
      'firing',
      latest,
      expected,
      `${flag}: latest ${fmt(latest)} vs baseline ${fmt(s.baseline)} (${how})`,
    );
  }
  if (c.below !== undefined) {
    const firing = latest < c.below;
    return v(
      firing ? 'firing' : 'ok',
      latest,
      `>= ${c.below}`,
      `latest ${fmt(latest)}${firing ? ' < ' : ' >= '}${c.below}`,
    );
  }
  if (c.above !== undefined) {
    const firing = latest > c.above;
    return v(
      firing ? 'firing' : 'ok',
      latest,
      `<= ${c.above}`,
      `latest ${fmt(latest)}${firing ? ' > ' : ' <= '}${c.above}`,
    );
  }
  if (c.freshness !== undefined) {
    // Tables store timestamps without a zone; they are read as UTC, as the page does.
    const newest = Date.parse(`${s.newest}Z`);
    const ageS = Number.isFinite(newest) ? Math.max(0, Math.round((now - newest) / 1000)) : null;
    const limit = c.freshness / 1000;
    const firing = ageS === null || ageS > limit;
    return v(
      firing ? 'firing' : 'ok',
      ageS,
      `<= ${limit}s old`,
      ageS === null
        ? 'no rows'
        : `newest row ${s.newest} is ${ageS}s old${firing ? ` (limit ${limit}s)` : ''}`,
    );
  }
  const drop = c.drop ?? 0;
  const previous = (s.values[s.values.length - 2] ?? 0) * (openFraction ?? 1);
  if (previous <= 0) return v('ok', latest, 'a previous bucket', `latest ${fmt(latest)}, nothing before it`);
  const change = ((latest - previous) * 100) / previous;
  const firing = change <= -drop;
  return v(
    firing ? 'firing' : 'ok',
    latest,
    `>= ${fmt(previous * (1 - drop / 100))}`,
    `latest ${fmt(latest)} vs previous ${fmt(previous)} (${change >= 0 ? '+' : ''}${Math.round(change)}%)`,
  );
}
