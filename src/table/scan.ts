/**
 * Scan planning (spec "Scan Planning"): pick a snapshot (id, ref or time), read its manifest
 * list, skip manifests whose partition summaries cannot match the filter, read the rest, and
 * skip data files by partition values and column bounds. Position delete files are attached
 * to the data files they may apply to; equality deletes are refused.
 */
import type { DuckConnection } from '../duck/index.js';
import { InvalidInputError, NotFoundError } from '../util/index.js';
import { type FileColumns, nestedNamesStable, readFileColumns } from './file-schema.js';
import { type LiveEntry, mapLimit, type TableIO } from './io.js';
import {
  currentSchema,
  schemaForSnapshot,
  snapshotAsOf,
  snapshotById,
  snapshotByRef,
  specById,
} from './lookup.js';
import { type BoundPartitionField, bindPartitionSpec } from './partition.js';
import { type ColumnPredicate, parseFilter } from './scan-filter.js';
import { manifestMayMatch, metricsMayMatch, partitionMayMatch } from './scan-prune.js';
import { namesStable } from './scan-sql.js';
import type { DataFile, Schema, Snapshot, TableMetadata } from './types.js';

/** Which snapshot to read and which rows are wanted. */
export interface ScanOptions {
  snapshotId?: bigint;
  /** A branch or tag name. */
  ref?: string;
  /** The snapshot current at this time (epoch milliseconds). */
  asOfMs?: number;
  /** A DuckDB SQL predicate over the columns; its simple conjuncts prune files. */
  filter?: string;
  /** Extra predicates used only to skip files (not applied to rows). */
  predicates?: ColumnPredicate[];
  /** Resolve local file paths (default true; false for planning that never reads rows). */
  resolvePaths?: boolean;
  /**
   * DuckDB connection to read the nested column names of files with (see `attachFileColumns`);
   * needed when struct fields were renamed, else the plan cannot be read.
   */
  conn?: DuckConnection;
  signal?: AbortSignal;
}

/** A data file to read. */
export interface PlannedFile {
  file: DataFile;
  specId: number;
  /** Data sequence number of the file. */
  sequenceNumber: number;
  /** Local path for DuckDB ('' when paths were not resolved). */
  localPath: string;
  /** Position delete files that may apply to this file. */
  deletes: PlannedDeleteFile[];
  /** The manifest entry, for operations that remove the file. */
  live: LiveEntry;
  /** The file's columns as written, when the plan needs them (`nestedNamesStable` false). */
  columns?: FileColumns;
}

/** A position delete file. */
export interface PlannedDeleteFile {
  file: DataFile;
  localPath: string;
}

/** Counts of the planning work, to see how much the filter pruned. */
export interface ScanStats {
  manifests: number;
  manifestsPruned: number;
  /** Live data files in the snapshot's scanned manifests. */
  dataFiles: number;
  prunedByPartition: number;
  prunedByMetrics: number;
  deleteFiles: number;
}

/** The files of a snapshot that may hold wanted rows, and the schema to read them with. */
export interface ScanPlan {
  snapshot: Snapshot | undefined;
  schema: Schema;
  filter: string | undefined;
  predicates: ColumnPredicate[];
  /** Whether `predicates` express the whole filter. */
  filterComplete: boolean;
  files: PlannedFile[];
  stats: ScanStats;
  /** Files can be read by column name (see `namesStable`); else by field id. */
  readByName: boolean;
  /** Struct fields can be read by today's names (see `nestedNamesStable`); else each file's own names are needed. */
  nestedNamesStable: boolean;
}

/**
 * The snapshot a scan reads: by id, ref or time, else the current one (undefined for an empty table).
 * @throws NotFoundError for an unknown snapshot id or ref.
 */
export function resolveSnapshot(md: TableMetadata, o: ScanOptions): Snapshot | undefined {
  const given = [o.snapshotId !== undefined, o.ref !== undefined, o.asOfMs !== undefined].filter(
    Boolean,
  ).length;
  if (given > 1) throw new InvalidInputError('give at most one of snapshotId, ref and asOfMs');
  if (o.snapshotId !== undefined) {
    const s = snapshotById(md, o.snapshotId);
    if (!s)
      throw new NotFoundError(
        `snapshot ${o.snapshotId} does not exist`,
        'list snapshots with `sluice tables snapshots`',
      );
    return s;
  }
  if (o.ref !== undefined) {
    const s = snapshotByRef(md, o.ref);
    if (!s)
      throw new NotFoundError(
        `branch or tag "${o.ref}" does not exist`,
        `refs: ${Object.keys(md.refs).join(', ') || 'none'}`,
      );
    return s;
  }
  if (o.asOfMs !== undefined) return snapshotAsOf(md, o.asOfMs);
  return md['current-snapshot-id'] === null ? undefined : snapshotById(md, md['current-snapshot-id']);
}

/** The schema to read a snapshot with: the current schema for the current snapshot, else the snapshot's. */
export function scanSchema(md: TableMetadata, snapshot: Snapshot | undefined): Schema {
  if (!snapshot || snapshot['snapshot-id'] === md['current-snapshot-id']) return currentSchema(md);
  return schemaForSnapshot(md, snapshot);
}

function bindSafely(md: TableMetadata, specId: number, schema: Schema): BoundPartitionField[] {
  try {
    return bindPartitionSpec(specById(md, specId), schema);
  } catch {
    return [];
  }
}

/**
 * Plan a scan: the files of the snapshot that may hold rows matching the filter.
 * @throws InvalidInputError for an unknown column in the filter, or when the snapshot has equality deletes.
 */
export async function planScan(io: TableIO, md: TableMetadata, o: ScanOptions = {}): Promise<ScanPlan> {
  const snapshot = resolveSnapshot(md, o);
  const schema = scanSchema(md, snapshot);
  const parsed = parseFilter(o.filter, schema);
  const predicates = [...parsed.predicates, ...(o.predicates ?? [])];
  const complete = parsed.complete && !o.predicates?.length;
  const stats: ScanStats = {
    manifests: 0,
    manifestsPruned: 0,
    dataFiles: 0,
    prunedByPartition: 0,
    prunedByMetrics: 0,
    deleteFiles: 0,
  };
  const plan: ScanPlan = {
    readByName: namesStable(md.schemas),
    nestedNamesStable: nestedNamesStable(md.schemas),
    snapshot,
    schema,
    filter: o.filter,
    predicates,
    filterComplete: complete,
    files: [],
    stats,
  };
  if (!snapshot) return plan;
  const manifests = await io.manifestList(snapshot, o.signal);
  stats.manifests = manifests.length;
  const bound = new Map<number, BoundPartitionField[]>();
  const boundFor = (specId: number) => {
    let b = bound.get(specId);
    if (!b) {
      b = bindSafely(md, specId, schema);
      bound.set(specId, b);
    }
    return b;
  };
  const wanted = manifests.filter((m) => {
    const keep = m.content === 1 || manifestMayMatch(boundFor(m.partition_spec_id), m.partitions, predicates);
    if (!keep) stats.manifestsPruned++;
    return keep;
  });
  const live = await io.liveEntries(wanted, o.signal);
  const deletes: LiveEntry[] = [];
  for (const l of live) {
    const f = l.entry.data_file;
    if (f.content === 2) {
      throw new InvalidInputError(
        `snapshot ${snapshot['snapshot-id']} has equality delete files (${f.file_path}), which Sluice cannot apply`,
        'rewrite the table with an engine that applies equality deletes (e.g. Spark rewrite_data_files), then read it here',
      );
    }
    if (f.content === 1) {
      deletes.push(l);
      continue;
    }
    stats.dataFiles++;
    const b = boundFor(l.manifest.partition_spec_id);
    if (!partitionMayMatch(b, f, predicates)) {
      stats.prunedByPartition++;
      continue;
    }
    if (!metricsMayMatch(f, predicates)) {
      stats.prunedByMetrics++;
      continue;
    }
    plan.files.push({
      file: f,
      specId: l.manifest.partition_spec_id,
      sequenceNumber: l.entry.sequence_number ?? 0,
      localPath: '',
      deletes: [],
      live: l,
    });
  }
  stats.deleteFiles = deletes.length;
  attachDeletes(plan.files, deletes);
  if (o.resolvePaths !== false) await resolvePaths(io, plan, o.signal, o.conn);
  return plan;
}

/** Spec rule: a position delete applies to data files of the same partition with a data sequence number ≤ its own. */
function attachDeletes(files: PlannedFile[], deletes: readonly LiveEntry[]): void {
  if (deletes.length === 0) return;
  const key = (specId: number, f: DataFile) => `${specId}\0${JSON.stringify(f.partition, jsonBig)}`;
  const byPartition = new Map<string, LiveEntry[]>();
  for (const d of deletes) {
    const k = key(d.manifest.partition_spec_id, d.entry.data_file);
    byPartition.set(k, [...(byPartition.get(k) ?? []), d]);
  }
  for (const f of files) {
    for (const d of byPartition.get(key(f.specId, f.file)) ?? []) {
      const ref = d.entry.data_file.referenced_data_file;
      if (ref && ref !== f.file.file_path) continue;
      if ((d.entry.sequence_number ?? 0) < f.sequenceNumber) continue;
      f.deletes.push({ file: d.entry.data_file, localPath: '' });
    }
  }
}

function jsonBig(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return v;
}

/**
 * Fill in local paths (downloads into the read cache for remote stores), and with `conn` the
 * columns of files whose nested names the plan needs.
 */
export async function resolvePaths(
  io: TableIO,
  plan: ScanPlan,
  signal?: AbortSignal,
  conn?: DuckConnection,
): Promise<void> {
  await mapLimit(plan.files, 16, async (f) => {
    if (!f.localPath) f.localPath = await io.localPath(f.file.file_path, signal);
    for (const d of f.deletes) if (!d.localPath) d.localPath = await io.localPath(d.file.file_path, signal);
  });
  if (conn) await attachFileColumns(conn, plan, signal);
}

/** Read the written columns of the plan's files from their footers, when the plan needs them. */
export async function attachFileColumns(
  conn: DuckConnection,
  plan: ScanPlan,
  signal?: AbortSignal,
): Promise<void> {
  if (plan.nestedNamesStable) return;
  const missing = plan.files.filter((f) => !f.columns && f.localPath);
  const columns = await readFileColumns(
    conn,
    missing.map((f) => f.localPath),
    signal,
  );
  for (const f of missing) {
    f.columns = columns.get(f.localPath);
    if (!f.columns)
      throw new InvalidInputError(
        `cannot read the Parquet schema of ${f.file.file_path} (local copy ${f.localPath})`,
        'check that the file exists and is a Parquet file',
      );
  }
}
