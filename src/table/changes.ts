/**
 * Incremental reads. `appendedBetween` lists the files appended after a snapshot (for
 * consumers that only need new rows); `changesBetween` builds a change feed in DuckDB: for
 * each snapshot, the rows of the files it removed are compared with the rows of the files it
 * added by key, so rows carried over unchanged by copy-on-write rewrites do not show up.
 */
import { type DuckConnection, sqlString } from '../duck/index.js';
import { InvalidInputError, NotFoundError } from '../util/index.js';
import { quoteIdent } from './duckdb-types.js';
import { nestedNamesStable } from './file-schema.js';
import { mapLimit, type TableIO } from './io.js';
import { ancestorsOf, currentSchema, snapshotById } from './lookup.js';
import { attachFileColumns, type PlannedFile, type ScanPlan } from './scan.js';
import { namesStable, scanSql, selectFields } from './scan-sql.js';
import type { DataFile, Schema, Snapshot, SnapshotOperation, TableMetadata } from './types.js';

/** A file added by a snapshot. */
export interface AddedFile {
  file: DataFile;
  snapshotId: bigint;
}

/** Files appended between two snapshots. */
export interface AppendedFiles {
  files: AddedFile[];
  /** Snapshots in (from, to], oldest first. */
  snapshotIds: bigint[];
  /** Snapshots in the range that were not appends (their changes are not in `files`). */
  skipped: { snapshotId: bigint; operation: SnapshotOperation }[];
}

/** Options of `changesBetween`. */
export interface ChangeOptions {
  /** Key columns identifying a row (default: the schema's identifier fields). */
  key?: string[];
  /** DuckDB connection to read files' nested names with, needed when struct fields were renamed. */
  conn?: DuckConnection;
  signal?: AbortSignal;
}

/** A change feed as DuckDB SQL: the table's columns plus `_change_type` and `_snapshot_id`. */
export interface ChangeFeed {
  sql: string;
  snapshotIds: bigint[];
}

/** Snapshots after `from` up to `to` along `to`'s lineage, oldest first. */
export function snapshotsBetween(md: TableMetadata, from: bigint | null, to?: bigint): Snapshot[] {
  const head = to ?? md['current-snapshot-id'];
  if (head === null) return [];
  if (!snapshotById(md, head)) throw new NotFoundError(`snapshot ${head} does not exist`);
  const out: Snapshot[] = [];
  for (const s of ancestorsOf(md, head)) {
    if (s['snapshot-id'] === from) return out.reverse();
    out.push(s);
  }
  if (from === null) return out.reverse();
  throw new InvalidInputError(
    `snapshot ${from} is not an ancestor of snapshot ${head}`,
    'it may have been expired or rolled back; start again from a retained snapshot',
  );
}

/** Entries a snapshot added (status ADDED) and removed (status DELETED), from the manifests it wrote. */
export async function snapshotFileChanges(
  io: TableIO,
  snap: Snapshot,
  signal?: AbortSignal,
): Promise<{ added: DataFile[]; removed: DataFile[] }> {
  const id = snap['snapshot-id'];
  const own = (await io.manifestList(snap, signal)).filter(
    (m) => m.added_snapshot_id === id && m.content === 0,
  );
  const added: DataFile[] = [];
  const removed: DataFile[] = [];
  for (const m of own) {
    for (const e of await io.manifestEntries(m, signal)) {
      if (e.snapshot_id !== id) continue;
      if (e.status === 1) added.push(e.data_file);
      else if (e.status === 2) removed.push(e.data_file);
    }
  }
  return { added, removed };
}

/** Files added by `append` snapshots in (from, to]. */
export async function appendedBetween(
  io: TableIO,
  md: TableMetadata,
  from: bigint | null,
  to?: bigint,
  signal?: AbortSignal,
): Promise<AppendedFiles> {
  const out: AppendedFiles = { files: [], snapshotIds: [], skipped: [] };
  for (const snap of snapshotsBetween(md, from, to)) {
    const id = snap['snapshot-id'];
    out.snapshotIds.push(id);
    if (snap.summary.operation === 'replace') continue;
    if (snap.summary.operation !== 'append') {
      out.skipped.push({ snapshotId: id, operation: snap.summary.operation });
      continue;
    }
    for (const file of (await snapshotFileChanges(io, snap, signal)).added)
      out.files.push({ file, snapshotId: id });
  }
  return out;
}

async function planOf(
  io: TableIO,
  md: TableMetadata,
  schema: Schema,
  files: readonly DataFile[],
  signal?: AbortSignal,
  conn?: DuckConnection,
): Promise<ScanPlan> {
  const planned: PlannedFile[] = await mapLimit(files, 16, async (file) => ({
    file,
    specId: 0,
    sequenceNumber: 0,
    localPath: await io.localPath(file.file_path, signal),
    deletes: [],
    live: undefined as never,
  }));
  const plan: ScanPlan = {
    snapshot: undefined,
    readByName: namesStable(md.schemas),
    nestedNamesStable: nestedNamesStable(md.schemas),
    schema,
    filter: undefined,
    predicates: [],
    filterComplete: true,
    files: planned,
    stats: {
      manifests: 0,
      manifestsPruned: 0,
      dataFiles: planned.length,
      prunedByPartition: 0,
      prunedByMetrics: 0,
      deleteFiles: 0,
    },
  };
  if (conn) await attachFileColumns(conn, plan, signal);
  return plan;
}

function keyColumns(schema: Schema, key: string[] | undefined): string[] {
  const names =
    key ??
    (schema['identifier-field-ids'] ?? []).map((id) => schema.fields.find((f) => f.id === id)?.name ?? '');
  if (names.length === 0 || names.includes(''))
    throw new InvalidInputError(
      'a change feed needs key columns',
      'pass { key: [...] } or set identifier fields on the schema',
    );
  selectFields(schema, names);
  return names;
}

/**
 * The change feed between two snapshots (default `to`: current) as DuckDB SQL, snapshot by
 * snapshot: appends give inserts; overwrites and deletes give deletes, inserts and
 * update_before/update_after pairs for keys whose row changed; replace snapshots (compaction) give nothing.
 * @throws InvalidInputError without key columns, or when `from` is not an ancestor of `to`.
 */
export async function changesBetween(
  io: TableIO,
  md: TableMetadata,
  from: bigint | null,
  to: bigint | undefined,
  o: ChangeOptions,
): Promise<ChangeFeed> {
  const schema = currentSchema(md);
  const keys = keyColumns(schema, o.key);
  const cols = schema.fields.map((f) => quoteIdent(f.name));
  const on = (a: string, b: string) =>
    keys.map((k) => `${a}.${quoteIdent(k)} = ${b}.${quoteIdent(k)}`).join(' AND ');
  const same = cols.map((c) => `__r.${c} IS NOT DISTINCT FROM __a.${c}`).join(' AND ');
  const parts: string[] = [];
  const ids: bigint[] = [];
  for (const snap of snapshotsBetween(md, from, to)) {
    const id = snap['snapshot-id'];
    ids.push(id);
    if (snap.summary.operation === 'replace') continue;
    const { added, removed } = await snapshotFileChanges(io, snap, o.signal);
    if (added.length === 0 && removed.length === 0) continue;
    const tag = (t: string) => `${sqlString(t)} AS _change_type, CAST(${id} AS BIGINT) AS _snapshot_id`;
    const addedSql = scanSql(await planOf(io, md, schema, added, o.signal, o.conn));
    if (removed.length === 0) {
      parts.push(`SELECT ${cols.join(', ')}, ${tag('insert')} FROM (${addedSql}) AS __a`);
      continue;
    }
    const removedSql = scanSql(await planOf(io, md, schema, removed, o.signal, o.conn));
    const pick = (alias: string) => cols.map((c) => `${alias}.${c}`).join(', ');
    parts.push(
      `SELECT * FROM (WITH __r AS MATERIALIZED (${removedSql}), __a AS MATERIALIZED (${addedSql}) ` +
        `SELECT ${pick('__r')}, ${tag('delete')} FROM __r ANTI JOIN __a ON ${on('__r', '__a')} ` +
        `UNION ALL SELECT ${pick('__a')}, ${tag('insert')} FROM __a ANTI JOIN __r ON ${on('__a', '__r')} ` +
        `UNION ALL SELECT ${pick('__r')}, ${tag('update_before')} FROM __r JOIN __a ON ${on('__r', '__a')} WHERE NOT (${same}) ` +
        `UNION ALL SELECT ${pick('__a')}, ${tag('update_after')} FROM __a JOIN __r ON ${on('__a', '__r')} WHERE NOT (${same}))`,
    );
  }
  if (parts.length === 0) {
    const empty = scanSql(await planOf(io, md, schema, [], o.signal));
    return {
      sql: `SELECT *, CAST(NULL AS VARCHAR) AS _change_type, CAST(NULL AS BIGINT) AS _snapshot_id FROM (${empty}) AS __e`,
      snapshotIds: ids,
    };
  }
  return { sql: parts.join('\nUNION ALL '), snapshotIds: ids };
}
