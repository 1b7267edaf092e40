/**
 * The lake sink: an event type written continuously into an Iceberg table. Events are held
 * for `latenessMs` after they arrive so late ones are written together, ordered by
 * occurred_at; duplicates are removed by `eid` within a batch and against the table's
 * recent days; every commit records the log cursors it covers in its snapshot summary, so
 * a sink killed at any moment resumes exactly after the last commit: no loss, no duplicate.
 * Data change events can instead be applied as upserts and deletes (data_op C/U/S/D).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCatalog } from '../catalog/index.js';
import { type Duck, openDuck, sqlString } from '../duck/index.js';
import type { Runtime } from '../runtime/index.js';
import { openTable, type Table } from '../table/index.js';
import {
  CURSORS_PROPERTY,
  committedCursors,
  defaultSinkTable,
  EVENT_TYPE_PROPERTY,
  ensureSinkTable,
  parseTableName,
} from './lake-table.js';
import type { EventLog, LogRecord } from './log/types.js';
import { sleep } from './sleep.js';
import { textOf } from './stream-loop.js';

/** What to sink and how. */
export interface SinkOptions {
  eventType: string;
  /** Target table `NAMESPACE.NAME` (default `events.<event_type>`). */
  table?: string;
  /** How long an event is held after it arrived, to be ordered with late events (ms). */
  latenessMs: number;
  /** `append` (default): one row per event; `upsert`: apply data change events by key. */
  mode?: 'append' | 'upsert';
  /** Upsert key: fields of `data` (default `["id"]`). */
  key?: string[];
  /** Most events per commit (default 10 000). */
  maxBatchEvents?: number;
  /** Stop once everything in the log is committed (one-shot runs), instead of following it. */
  untilCaughtUp?: boolean;
  signal: AbortSignal;
  /** Called after each commit. */
  onCommit?: (c: { events: number; cursors: Record<string, string> }) => void;
}

/** What a sink run did. */
export interface SinkResult {
  commits: number;
  events: number;
}

interface Pending extends LogRecord {
  partition: number;
}

/** Run the sink until `signal` aborts (or, with untilCaughtUp, until the log is drained). */
export async function sinkEventsToTable(
  runtime: Runtime,
  eventLog: EventLog,
  o: SinkOptions,
): Promise<SinkResult> {
  const log = runtime.log.child({ component: 'bus-sink', eventType: o.eventType });
  const mode = o.mode ?? 'append';
  const id = o.table ? parseTableName(o.table) : defaultSinkTable(o.eventType);
  const catalog = openCatalog({ meta: runtime.meta, store: runtime.store, log: runtime.log });
  const loaded = await ensureSinkTable(catalog, id, mode);
  const next = new Map<number, bigint>();
  for (const [p, last] of committedCursors(loaded, o.eventType)) next.set(p, last + 1n);
  const duck = await openDuck();
  const tmp = await mkdtemp(join(tmpdir(), 'sluice-sink-'));
  const result: SinkResult = { commits: 0, events: 0 };
  const max = o.maxBatchEvents ?? 10_000;
  let pending: Pending[] = [];
  try {
    const table = await openTable(catalog, runtime.store, duck, id);
    for (;;) {
      if (o.signal.aborted) break;
      const bounds = await eventLog.bounds(o.eventType);
      let read = 0;
      for (const b of bounds) {
        const from = next.get(b.partition) ?? b.begin;
        // biome-ignore lint/complexity/useMathMinMax: bigint offsets
        const start = from < b.begin ? b.begin : from;
        if (start >= b.end || pending.length >= max) continue;
        const records = await eventLog.read(o.eventType, b.partition, start, {
          maxRecords: max - pending.length,
        });
        for (const r of records) pending.push({ ...r, partition: b.partition });
        if (records.length) next.set(b.partition, (records.at(-1) as LogRecord).offset + 1n);
        read += records.length;
      }
      const caughtUp = bounds.every((b) => (next.get(b.partition) ?? b.begin) >= b.end);
      const cutoff = o.untilCaughtUp && caughtUp ? Number.POSITIVE_INFINITY : Date.now() - o.latenessMs;
      const ready = pending.filter((r) => r.timestamp <= cutoff);
      if (ready.length && (ready.length >= max || read === 0 || caughtUp)) {
        pending = pending.filter((r) => r.timestamp > cutoff);
        const cursors = cursorsAfter(next, pending);
        const written = await commitBatch(table, duck, tmp, ready, cursors, { ...o, mode });
        result.commits++;
        result.events += written;
        log.debug({ events: ready.length, written, cursors }, 'sink committed');
        o.onCommit?.({ events: written, cursors });
        continue;
      }
      if (o.untilCaughtUp && caughtUp && pending.length === 0) break;
      if (read === 0) await sleep(Math.min(500, Math.max(50, o.latenessMs / 4)), o.signal);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
    await duck.close();
  }
  return result;
}

/** The last offset per partition covered once `pending` (still held back) is excluded. */
function cursorsAfter(next: Map<number, bigint>, pending: Pending[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [p, n] of next) {
    const held = pending.filter((r) => r.partition === p).map((r) => r.offset);
    // biome-ignore lint/complexity/useMathMinMax: bigint offsets
    const firstHeld = held.length ? held.reduce((a, b) => (a < b ? a : b)) : n;
    out[String(p)] = String(firstHeld - 1n);
  }
  return out;
}

/** Write one batch through DuckDB and commit it with its cursors; returns the rows written. */
async function commitBatch(
  table: Table,
  duck: Duck,
  tmp: string,
  batch: Pending[],
  cursors: Record<string, string>,
  o: SinkOptions & { mode: 'append' | 'upsert' },
): Promise<number> {
  const file = join(tmp, `batch-${Date.now()}.ndjson`);
  // Stored events are JSON already: wrap them without parsing (DuckDB reads the fields).
  const lines = batch.map(
    (r) => `{"p":${r.partition},"o":${r.offset},"t":${r.timestamp},"e":${textOf(r.value)}}`,
  );
  await writeFile(file, `${lines.join('\n')}\n`);
  const properties = { [EVENT_TYPE_PROPERTY]: o.eventType, [CURSORS_PROPERTY]: JSON.stringify(cursors) };
  const src = `(SELECT p, o, t, e FROM read_json(${sqlString(file)}, format = 'newline_delimited', columns = {p: 'INTEGER', o: 'BIGINT', t: 'BIGINT', e: 'JSON'}))`;
  const occurred = `coalesce(TRY_CAST(e->>'$.metadata.occurred_at' AS TIMESTAMPTZ), to_timestamp(t / 1000))`;
  try {
    if (o.mode === 'upsert') return await upsertBatch(table, duck, src, occurred, properties, o);
    const rows = `SELECT coalesce(e->>'$.metadata.eid', ${sqlString(`${o.eventType}:`)} || p || ':' || o) AS eid,
        ${occurred} AS occurred_at, to_timestamp(t / 1000) AS received_at, ${sqlString(o.eventType)} AS event_type,
        p AS "partition", o AS "offset", e::VARCHAR AS event
      FROM ${src}`;
    const [range] = await duck.all<{ lo: unknown; hi: unknown }>(
      `SELECT min(occurred_at)::VARCHAR AS lo, max(occurred_at)::VARCHAR AS hi FROM (${rows})`,
    );
    // Dedupe against the days this batch falls into (partition pruning keeps it to recent files).
    const plan = await table.planScan({
      filter: `occurred_at >= TIMESTAMPTZ ${sqlString(String(range?.lo))} AND occurred_at <= TIMESTAMPTZ ${sqlString(String(range?.hi))}`,
      signal: o.signal,
    });
    const existing = table.scanSql(plan, { columns: ['eid'] });
    const fresh = `SELECT * FROM (${rows}) b
      WHERE b.eid NOT IN (SELECT eid FROM (${existing}) x)
      QUALIFY row_number() OVER (PARTITION BY b.eid ORDER BY b."partition", b."offset") = 1
      ORDER BY b.occurred_at, b."partition", b."offset"`;
    const [count] = await duck.all<{ n: bigint }>(`SELECT count(*) AS n FROM (${fresh})`);
    const n = Number(count?.n ?? 0);
    if (n > 0) await table.append({ sql: fresh }, { properties, signal: o.signal });
    return n;
  } finally {
    await rm(file, { force: true });
  }
}

/** Data change events: the latest event per key wins; C/U/S upsert the row, D deletes it. */
async function upsertBatch(
  table: Table,
  duck: Duck,
  src: string,
  occurred: string,
  properties: Record<string, string>,
  o: SinkOptions,
): Promise<number> {
  const key = o.key?.length ? o.key : ['id'];
  const keyExpr = `to_json([${key.map((k) => `e->${sqlString(`$.data.${k}`)}`).join(', ')}])::VARCHAR`;
  const latest = `SELECT ${keyExpr} AS key, (e->'$.data')::VARCHAR AS data, e->>'$.data_type' AS data_type,
      e->>'$.data_op' AS data_op, e->>'$.metadata.eid' AS eid, ${occurred} AS occurred_at, p AS "partition", o AS "offset"
    FROM ${src}
    QUALIFY row_number() OVER (PARTITION BY ${keyExpr} ORDER BY ${occurred} DESC, o DESC) = 1`;
  const [count] = await duck.all<{ n: bigint; d: bigint }>(
    `SELECT count(*) AS n, count(*) FILTER (WHERE data_op = 'D') AS d FROM (${latest})`,
  );
  const n = Number(count?.n ?? 0);
  if (n === 0) return 0;
  // Deletes are upserted as tombstones first (this commit carries the cursors), then removed:
  // replaying both after a crash gives the same table.
  await table.upsert({ sql: latest }, { key: ['key'], properties, signal: o.signal });
  if (Number(count?.d ?? 0) > 0) await table.delete(`data_op = 'D'`, { properties, signal: o.signal });
  return n;
}
