/**
 * Loading one batch of raw objects: stage them in DuckDB, apply the processors, cast to the
 * sink table, then commit — quarantine first, sink table last. The sink commit is the point of
 * truth: its summary names the batch's raw objects and the cursor after it; the quarantine
 * append names them too, so a batch replayed after a crash between the two commits skips the
 * rows already quarantined.
 */
import { type Duck, type DuckConnection, isUserQueryError, sqlString } from '../duck/index.js';
import type { Logger } from '../observe/index.js';
import type { ObjectStore } from '../storage/index.js';
import { quoteIdent, type Snapshot, type TableIdentifier } from '../table/index.js';
import { InvalidInputError } from '../util/index.js';
import { encodeRefs, laterCursor, refKey, SUMMARY } from './commit-log.js';
import type { QuarantineLog } from './history.js';
import type { Ledger, RawObject } from './ledger.js';
import type { JsonRecordType } from './load/json-schema.js';
import { isSmallBatch, type ReadOptions, stageBatch } from './load/stage.js';
import { type ProcessorSpec, processors } from './processors/index.js';
import { cursorTextSql } from './sink/cast.js';
import type { QuarantineSink } from './sink/quarantine.js';
import { recordColumns } from './sink/schema.js';
import type { TableSink } from './sink/table-sink.js';

/** What a batch loads with. */
export interface BatchContext {
  task: string;
  runId: string;
  duck: Duck;
  store: ObjectStore;
  ledger: Ledger;
  sink: TableSink;
  quarantine: QuarantineSink;
  read: ReadOptions;
  /** The record type of the task's JSON pages, inferred once and reused across batches. */
  recordType?: JsonRecordType;
  stagingDir: string;
  /** Record field of the incremental cursor. */
  cursorField?: string;
  /** Raw objects whose rejected rows are already in the quarantine table. */
  quarantined: Set<string>;
  maxBadRatio: number;
  /** Processor steps between the source and the sink. */
  steps: ProcessorSpec[];
  projectDir: string;
  log: Logger;
  signal: AbortSignal;
}

/** Running totals of a task run. */
export interface Totals {
  written: number;
  quarantined: number;
  objects: number;
  bytes: number;
  batches: number;
  snapshotId?: string;
  quarantineSnapshotId?: string;
  cursor: Record<string, string>;
}

let views = 0;

const refOf = (o: RawObject) => ({ epoch: o.epoch, seq: o.seq });

async function newCursor(
  conn: DuckConnection,
  good: string,
  field: string,
  objects: readonly RawObject[],
  previous: Record<string, string>,
  signal?: AbortSignal,
): Promise<Record<string, string>> {
  const cols = await recordColumns(conn, `SELECT * FROM ${good}`, signal);
  const col = cols.find((c) => c.name === field);
  if (!col) return previous;
  const map = objects.map((o) => `(${sqlString(o.id)}, ${sqlString(o.stream)})`).join(', ');
  const rows = await conn.all<{ s: string; v: string | null }>(
    `SELECT __m.s AS s, ${cursorTextSql(`__g.${quoteIdent(field)}`, col.type)} AS v FROM ${good} AS __g JOIN (VALUES ${map}) AS __m(k, s) ON __g.__raw_object = __m.k GROUP BY __m.s`,
    undefined,
    { signal },
  );
  const out = { ...previous };
  for (const r of rows) if (r.v !== null) out[r.s] = laterCursor(out[r.s], r.v) as string;
  return out;
}

const isReadError = (err: unknown) => isUserQueryError(err);

function emptyRejects(name: string): string {
  return `CREATE OR REPLACE VIEW ${name} AS SELECT NULL::VARCHAR AS __reason, NULL::VARCHAR AS __processor, NULL::VARCHAR AS __record, NULL::VARCHAR AS __raw_object, NULL::BIGINT AS __raw_row WHERE false`;
}

/**
 * Load a batch and commit it; when a payload turns out unreadable, it is set aside (quarantined
 * whole) and the batch loaded again. @throws InvalidInputError when the bad-record ratio
 * exceeds `max_bad_ratio` (the sink table is not changed then).
 */
export async function loadBatch(
  c: BatchContext,
  objects: readonly RawObject[],
  totals: Totals,
): Promise<void> {
  await c.duck.withConnection(
    async (conn) => {
      try {
        await attempt(c, conn, objects, totals, false);
      } catch (err) {
        if (!isReadError(err)) throw err;
        await attempt(c, conn, objects, totals, true);
      }
    },
    { signal: c.signal },
  );
}

async function attempt(
  c: BatchContext,
  conn: DuckConnection,
  objects: readonly RawObject[],
  totals: Totals,
  probe: boolean,
): Promise<void> {
  const stage = (rowNumbers: boolean) =>
    stageBatch(conn, c.store, objects, c.read, c.stagingDir, {
      probe,
      rowNumbers,
      recordType: c.recordType,
      signal: c.signal,
    });
  const small = isSmallBatch(objects, c.read.memoryLimitBytes);
  let staged = await stage(small || c.steps.length > 0);
  // For big files, row positions (a single-threaded window) only when a record can be rejected.
  if (
    !small &&
    staged.relation &&
    c.steps.length === 0 &&
    (await c.sink.canReject(conn, staged.relation, c.signal))
  )
    staged = await stage(true);
  if (staged.relation)
    c.log.debug(
      { objects: objects.length, recordType: staged.knownType ? 'known' : 'inferred' },
      'batch staged',
    );
  const processed = staged.relation ? await runProcessors(c, conn, staged.relation) : undefined;
  const prepared = processed
    ? await c.sink.prepare(conn, { relation: processed.relation, properties: {}, signal: c.signal })
    : undefined;
  const malformedRel = `__ingest_malformed_${++views}`;
  const rows = staged.malformed.map(
    (m) =>
      `(${sqlString(m.reason)}, 'source', CAST(NULL AS VARCHAR), ${sqlString(m.object.id)}, CAST(NULL AS BIGINT))`,
  );
  await conn.run(
    rows.length
      ? `CREATE OR REPLACE VIEW ${malformedRel} AS SELECT * FROM (VALUES ${rows.join(', ')}) AS t(__reason, __processor, __record, __raw_object, __raw_row)`
      : emptyRejects(malformedRel),
  );
  const bad = (prepared?.rejectedCount ?? 0) + (processed?.rejectedCount ?? 0) + staged.malformed.length;
  if (bad > 0) {
    const good = prepared?.goodCount ?? 0;
    const all = totals.written + totals.quarantined + good + bad;
    const ratio = (totals.quarantined + bad) / all;
    if (ratio > c.maxBadRatio)
      throw new InvalidInputError(
        `${totals.quarantined + bad} of ${all} records were rejected (${(ratio * 100).toFixed(1)}%), more than max_bad_ratio ${c.maxBadRatio}`,
        `see the reasons in ${[...c.quarantine.id.namespace, c.quarantine.id.name].join('.')}`,
      );
  }
  const cursor =
    c.cursorField && prepared?.table
      ? await newCursor(conn, prepared.good, c.cursorField, objects, totals.cursor, c.signal)
      : totals.cursor;
  const base = {
    [SUMMARY.task]: c.task,
    [SUMMARY.objects]: encodeRefs(objects.map(refOf)),
    [SUMMARY.run]: c.runId,
  };
  // Quarantine first; rows of objects an interrupted attempt already quarantined are skipped.
  const skip = objects.filter((o) => c.quarantined.has(refKey(o))).map((o) => sqlString(o.id));
  const filter = skip.length ? ` WHERE __raw_object NOT IN (${skip.join(', ')})` : '';
  const rejected = [
    malformedRel,
    ...(processed?.rejected ? [processed.rejected] : []),
    ...(prepared?.rejected ? [prepared.rejected] : []),
  ].map((r) => `(SELECT * FROM ${r}${filter})`);
  const final = !prepared?.table;
  const quarantined = await c.quarantine.append(conn, rejected, {
    task: c.task,
    runId: c.runId,
    properties: final ? { ...base, [SUMMARY.final]: 'true' } : base,
    signal: c.signal,
  });
  if (quarantined > 0) {
    for (const o of objects) c.quarantined.add(refKey(o));
    const q = (await c.quarantine.table())?.currentSnapshot();
    if (q) totals.quarantineSnapshotId = String(q['snapshot-id']);
  }
  let snapshotId: string | undefined;
  let written = prepared?.goodCount ?? 0;
  if (prepared?.table) {
    const props = { ...base, ...(c.cursorField ? { [SUMMARY.cursor]: JSON.stringify(cursor) } : {}) };
    const result = await c.sink.commit(conn, prepared, {
      relation: prepared.good,
      properties: props,
      objectOrder: objects.map((o) => o.id),
      signal: c.signal,
    });
    if (result) {
      snapshotId = String(result.snapshot['snapshot-id']);
      totals.snapshotId = snapshotId;
      written = prepared.goodCount ?? (await countGood(conn, prepared.good, result.addedRecords, c.sink));
    }
  }
  await c.ledger.markCommitted(
    {
      task: c.task,
      runId: c.runId,
      table: tableName(c.sink.id),
      objects: objects.map((o) => ({
        id: o.id,
        snapshotId,
        how: o.status === 'committed' ? 'reprocessed' : 'loaded',
      })),
    },
    await quarantineLog(c.task, c.sink.id, c.quarantine),
  );
  totals.written += written;
  totals.quarantined += bad;
  totals.objects += objects.length;
  totals.bytes += objects.reduce((n, o) => n + o.size, 0);
  totals.batches += 1;
  totals.cursor = cursor;
}

/** `namespace.name` of a table. */
export const tableName = (id: TableIdentifier): string => [...id.namespace, id.name].join('.');

/** The quarantine table's snapshots, for recording its appends in `sluice_system.quarantine`. */
export async function quarantineLog(
  task: string,
  sinkId: TableIdentifier,
  quarantine: QuarantineSink,
  snapshots?: readonly Snapshot[],
): Promise<QuarantineLog> {
  return {
    task,
    table: tableName(sinkId),
    quarantineTable: tableName(quarantine.id),
    snapshots: snapshots ?? (await quarantine.snapshots()),
  };
}

/**
 * Run the processor steps over a staged batch. The records are materialised first, so a
 * payload that does not read fails here (and is set aside) rather than inside a step; the
 * chain's outputs are copied out of its connection-private temp tables, because the table
 * writer reads them on another connection.
 */
async function runProcessors(
  c: BatchContext,
  conn: DuckConnection,
  relation: string,
): Promise<{ relation: string; rejected?: string; rejectedCount: number }> {
  if (c.steps.length === 0) return { relation, rejectedCount: 0 };
  const n = ++views;
  const input = `__ingest_input_${n}`;
  await conn.run(`CREATE OR REPLACE TABLE ${input} AS SELECT * FROM ${relation}`, undefined, {
    signal: c.signal,
  });
  const out = await processors.apply(
    { conn, log: c.log, signal: c.signal, projectDir: c.projectDir },
    input,
    c.steps,
  );
  const good = `__ingest_processed_${n}`;
  const rejected = `__ingest_rejected_${n}`;
  await conn.run(`CREATE OR REPLACE TABLE ${good} AS SELECT * FROM ${quoteIdent(out.output)}`);
  await conn.run(`CREATE OR REPLACE TABLE ${rejected} AS SELECT * FROM ${quoteIdent(out.rejected)}`);
  await conn.run(
    `DROP TABLE IF EXISTS ${quoteIdent(out.output)}; DROP TABLE IF EXISTS ${quoteIdent(out.rejected)}; DROP TABLE ${input}`,
  );
  return { relation: good, rejected, rejectedCount: out.counts.rejected };
}

/** Rows written: the commit's added records for appends, else a count of the good rows. */
async function countGood(
  conn: DuckConnection,
  good: string,
  added: number,
  sink: TableSink,
): Promise<number> {
  if (sink.mode === 'append') return added;
  const [{ n } = { n: 0n }] = await conn.all<{ n: bigint }>(`SELECT count(*) AS n FROM ${good}`);
  return Number(n);
}
