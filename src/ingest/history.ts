/**
 * The ingest history as system tables, recorded in the same metastore transactions as the
 * ledger, so each row reaches `sluice_system` exactly once:
 *
 * - `raw_objects`: one row per payload stored in the raw zone (written with the ledger row);
 * - `raw_object_loads`: one row per raw object per table commit that consumed it (written
 *   when the ledger marks the object committed, after a crash by the reconciling run);
 * - `quarantine`: one row per append to a `<table>__quarantine` table (counts, not records),
 *   written with the next ledger update after the append, tracked by a watermark in
 *   `sluice_state` committed in that transaction.
 */
import type { SqlRunner } from '../metastore/index.js';
import { defineSystemTable, recordSystemRows } from '../system/index.js';
import type { Snapshot } from '../table/index.js';
import { decodeRefs, SUMMARY } from './commit-log.js';
import type { RawObject } from './ledger.js';

/** `sluice_system.raw_objects`: what was fetched, when and how. */
export const RAW_OBJECTS = defineSystemTable({
  name: 'raw_objects',
  columns: [
    { name: 'object_id', type: 'string', required: true, doc: 'raw-zone key of the payload' },
    { name: 'task', type: 'string', required: true, doc: '<pipeline>.<task> that fetched it' },
    { name: 'source', type: 'string', doc: 'source kind: http, files, postgres' },
    { name: 'stream', type: 'string', doc: "stream (partition value) within the task; '' for one stream" },
    { name: 'epoch', type: 'string', required: true, doc: 'one fetch of one stream' },
    { name: 'seq', type: 'long', required: true, doc: 'position of the payload in its fetch' },
    { name: 'run_id', type: 'string', required: true, doc: 'run that fetched it' },
    { name: 'source_uri', type: 'string', doc: 'URL, file path or table the bytes came from' },
    { name: 'file_name', type: 'string', doc: 'file name (files source)' },
    { name: 'request', type: 'string', doc: 'JSON: method, URL, params (secrets masked)' },
    { name: 'response_headers', type: 'string', doc: 'JSON object of the response headers' },
    { name: 'format', type: 'string', required: true, doc: 'json, ndjson, csv, xml, xlsx, parquet' },
    { name: 'compression', type: 'string', doc: 'gzip or zstd' },
    { name: 'size', type: 'long', required: true, doc: 'bytes stored' },
    { name: 'record_count', type: 'long', doc: 'records in the payload when the source counted them' },
    { name: 'checksum', type: 'string', required: true, doc: 'sha256 of the bytes, hex' },
    { name: 'malformed', type: 'string', doc: 'why the payload cannot be read (quarantined whole)' },
    { name: 'fetched_at', type: 'timestamptz', required: true },
  ],
  partitionBy: [{ column: 'fetched_at', transform: 'day' }],
});

/** `sluice_system.raw_object_loads`: which table commit consumed which raw object. */
export const RAW_OBJECT_LOADS = defineSystemTable({
  name: 'raw_object_loads',
  columns: [
    { name: 'object_id', type: 'string', required: true, doc: 'raw-zone key (raw_objects.object_id)' },
    { name: 'task', type: 'string', required: true },
    { name: 'run_id', type: 'string', required: true, doc: 'run that loaded it' },
    { name: 'table_name', type: 'string', required: true, doc: 'sink table, namespace.name' },
    {
      name: 'snapshot_id',
      type: 'long',
      doc: 'sink table snapshot that holds its rows; NULL when it had no good rows',
    },
    {
      name: 'how',
      type: 'string',
      required: true,
      doc: 'loaded | reconciled (commit found after a crash) | reprocessed',
    },
    { name: 'loaded_at', type: 'timestamptz', required: true },
  ],
  partitionBy: [{ column: 'loaded_at', transform: 'day' }],
});

/** `sluice_system.quarantine`: one row per append to a quarantine table. */
export const QUARANTINE = defineSystemTable({
  name: 'quarantine',
  columns: [
    { name: 'task', type: 'string', required: true },
    { name: 'run_id', type: 'string', doc: 'run that quarantined the records' },
    { name: 'table_name', type: 'string', required: true, doc: 'sink table, namespace.name' },
    { name: 'quarantine_table', type: 'string', required: true, doc: 'where the records are' },
    { name: 'snapshot_id', type: 'long', required: true, doc: 'quarantine table snapshot' },
    { name: 'records', type: 'long', required: true, doc: 'records quarantined' },
    { name: 'raw_objects', type: 'long', required: true, doc: 'raw objects of the batch' },
    { name: 'quarantined_at', type: 'timestamptz', required: true },
  ],
  partitionBy: [{ column: 'quarantined_at', transform: 'day' }],
});

/** The `raw_objects` row of a ledger entry. */
export function rawObjectRow(o: Omit<RawObject, 'status' | 'snapshotId'>, source: string | undefined) {
  return {
    object_id: o.id,
    task: o.task,
    source: source ?? null,
    stream: o.stream,
    epoch: o.epoch,
    seq: o.seq,
    run_id: o.runId,
    source_uri: o.sourceUri || null,
    file_name: o.name ?? null,
    request: o.request === undefined ? null : JSON.stringify(o.request),
    response_headers: o.headers === undefined ? null : JSON.stringify(o.headers),
    format: o.format,
    compression: o.compression ?? null,
    size: o.size,
    record_count: o.recordCount ?? null,
    checksum: o.checksum,
    malformed: o.malformed ?? null,
    fetched_at: o.fetchedAt,
  };
}

/** How a raw object came to be consumed. */
export type LoadHow = 'loaded' | 'reconciled' | 'reprocessed';

/** Raw objects consumed by one commit (or found consumed by a reconciling run). */
export interface Loads {
  task: string;
  runId: string;
  /** Sink table, `namespace.name`. */
  table: string;
  /** Each object with the sink snapshot holding its rows (none when it had no good rows). */
  objects: readonly { id: string; snapshotId?: string; how: LoadHow }[];
}

/** Record `raw_object_loads` rows inside the ledger's transaction. */
export async function recordLoads(tx: SqlRunner, l: Loads): Promise<void> {
  const at = new Date();
  const rows = l.objects.map((o) => ({
    object_id: o.id,
    task: l.task,
    run_id: l.runId,
    table_name: l.table,
    snapshot_id: o.snapshotId ?? null,
    how: o.how,
    loaded_at: at,
  }));
  await recordSystemRows(tx, RAW_OBJECT_LOADS, rows);
}

const QUARANTINE_SCOPE = 'ingest.quarantine-recorded';

/** Where the quarantine history of a task stands. */
export interface QuarantineLog {
  task: string;
  table: string;
  quarantineTable: string;
  /** Snapshots of the quarantine table (any task's). */
  snapshots: readonly Snapshot[];
}

/**
 * Record the task's quarantine appends not yet recorded (newer than the watermark in
 * `sluice_state`), and move the watermark, inside the caller's transaction.
 */
export async function recordQuarantine(tx: SqlRunner, q: QuarantineLog): Promise<void> {
  const [row] = await tx.query<{ value: string | null }>(
    'SELECT value FROM sluice_state WHERE scope = ? AND key = ?',
    [QUARANTINE_SCOPE, q.task],
  );
  const done = Number(row?.value ?? 0);
  const fresh = q.snapshots.filter((s) => s.summary[SUMMARY.task] === q.task && s['sequence-number'] > done);
  if (fresh.length === 0) return;
  await recordSystemRows(
    tx,
    QUARANTINE,
    fresh.map((s) => ({
      task: q.task,
      run_id: s.summary[SUMMARY.run] ?? null,
      table_name: q.table,
      quarantine_table: q.quarantineTable,
      snapshot_id: s['snapshot-id'],
      records: Number(s.summary['added-records'] ?? 0),
      raw_objects: decodeRefs(s.summary[SUMMARY.objects]).length,
      quarantined_at: s['timestamp-ms'],
    })),
  );
  const last = Math.max(...fresh.map((s) => s['sequence-number']));
  await tx.execute(
    'INSERT INTO sluice_state (scope, key, value, version) VALUES (?, ?, ?, 1) ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, version = sluice_state.version + 1',
    [QUARANTINE_SCOPE, q.task, String(last)],
  );
}
