/**
 * The write path: rows → Parquet data files of a table. DuckDB casts, partitions and writes
 * the files in one `COPY` into a local staging directory; their metrics come from the
 * statistics that `COPY` returns (unpartitioned writes) or from one query over
 * `parquet_metadata()`; then each file is moved into the object store under
 * `<table location>/data/<partition path>/<uuid>-<n>.parquet`.
 */
import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { DuckConnection } from '../duck/index.js';
import { sqlString } from '../duck/index.js';
import { InvalidInputError } from '../util/index.js';
import { duckdbFieldIds, quoteIdent } from './duckdb-types.js';
import { dataDir, mapLimit, type TableIO } from './io.js';
import {
  type CopyStatsRow,
  collectMetrics,
  type FileMetrics,
  leafColumns,
  metricsFromCopyStats,
} from './metrics.js';
import { partitionPath } from './partition.js';
import type { DataFile, PartitionData, PartitionSpec, Schema, TableMetadata } from './types.js';
import {
  assertWritableSchema,
  castSelect,
  describeSql,
  partitionColumns,
  partitionValueFromText,
  type SourceColumn,
  sourceSql,
  type WriteSource,
} from './writer-sql.js';

/** Table property: target size of data files (default 128 MiB, as Sluice writes). */
export const TARGET_FILE_SIZE_PROPERTY = 'write.target-file-size-bytes';
/** Default target data file size. */
export const DEFAULT_TARGET_FILE_SIZE = 128 * 1024 * 1024;
/** Table property: Parquet compression codec (default zstd). */
export const COMPRESSION_PROPERTY = 'write.parquet.compression-codec';

/** Options of `writeDataFiles`. */
export interface WriteDataOptions {
  /** Schema and spec the files are written for (default: the table's current ones). */
  schema: Schema;
  spec: PartitionSpec;
  /** Approximate size of each file (unpartitioned writes; partitioned writes give one file per partition). */
  targetFileSizeBytes?: number;
  /** Rows per Parquet row group (DuckDB's default 122,880). */
  rowGroupSize?: number;
  /** The source's columns, when the caller has just described it. */
  columns?: readonly SourceColumn[];
  signal?: AbortSignal;
}

/** Files written and not yet committed. */
export interface WrittenFiles {
  files: DataFile[];
  recordCount: number;
}

/** The target file size of a table (property or default). */
export function targetFileSize(md: TableMetadata): number {
  const v = Number(md.properties[TARGET_FILE_SIZE_PROPERTY]);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_TARGET_FILE_SIZE;
}

/** A file DuckDB wrote: its local path and the partition values of its hive directories. */
interface ProducedFile {
  path: string;
  size: number;
  partitionText: Map<string, string | null>;
}

/** DuckDB's hive directory value for NULL. */
const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

/**
 * The Parquet files under a partitioned COPY's target directory. Reading the directory is
 * cheaper than `RETURN_STATS`, which slows partitioned writes down several times (unpartitioned
 * writes take their files and statistics from it).
 */
async function producedFiles(target: string): Promise<ProducedFile[]> {
  const out: ProducedFile[] = [];
  let entries: Dirent[];
  try {
    entries = await readdir(target, { withFileTypes: true, recursive: true });
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw err;
  }
  for (const e of entries) {
    if (!e.isFile() || !e.name.endsWith('.parquet')) continue;
    const path = join(e.parentPath, e.name);
    const partitionText = new Map<string, string | null>();
    for (const segment of relative(target, e.parentPath).split(sep)) {
      const eq = segment.indexOf('=');
      if (eq <= 0) continue;
      const value = segment.slice(eq + 1);
      partitionText.set(segment.slice(0, eq), value === HIVE_NULL ? null : decodeURIComponent(value));
    }
    out.push({ path, size: (await stat(path)).size, partitionText });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * DuckDB cannot rotate files by size in a partitioned COPY, so a partition that outgrew the
 * target size is rewritten into target-size files beside it (same partition directory).
 * Returns how many files were split.
 */
async function splitOversized(
  conn: DuckConnection,
  files: readonly ProducedFile[],
  md: TableMetadata,
  o: WriteDataOptions,
): Promise<number> {
  const targetBytes = Math.max(1, Math.floor(o.targetFileSizeBytes ?? targetFileSize(md)));
  const oversized = files.filter((f) => f.size > targetBytes * 1.5);
  for (const f of oversized) {
    const dir = join(dirname(f.path), `split_${randomUUID()}`);
    const opts = copyOptions(md, o, []);
    await conn.run(
      `COPY (SELECT * FROM read_parquet(${sqlString(f.path)})) TO ${sqlString(dir)} (${opts})`,
      undefined,
      {
        signal: o.signal,
      },
    );
    await rm(f.path);
  }
  return oversized.length;
}

function copyOptions(md: TableMetadata, o: WriteDataOptions, partitioned: string[]): string {
  const codec = (md.properties[COMPRESSION_PROPERTY] ?? 'zstd').toLowerCase();
  const opts = [
    'FORMAT parquet',
    `FIELD_IDS ${duckdbFieldIds(o.schema)}`,
    `COMPRESSION ${codec === 'uncompressed' ? 'uncompressed' : codec}`,
    "FILENAME_PATTERN 'part_{uuid}'",
  ];
  if (o.rowGroupSize) opts.push(`ROW_GROUP_SIZE ${Math.max(1, Math.floor(o.rowGroupSize))}`);
  if (partitioned.length > 0) {
    opts.push(`PARTITION_BY (${partitioned.join(', ')})`, 'WRITE_PARTITION_COLUMNS false');
  } else {
    opts.push(`FILE_SIZE_BYTES ${Math.max(1, Math.floor(o.targetFileSizeBytes ?? targetFileSize(md)))}`);
  }
  return opts.join(', ');
}

/**
 * Write rows as data files of the table (not committed: the caller adds them to a snapshot).
 * Columns are matched to the schema by name and cast; files with zero rows are dropped.
 * @throws InvalidInputError for columns that do not fit the schema (missing required, unknown,
 * wrong type) and for NULLs in a required column; nothing is left in the store then.
 */
export async function writeDataFiles(
  conn: DuckConnection,
  io: TableIO,
  md: TableMetadata,
  source: WriteSource,
  o: WriteDataOptions,
): Promise<WrittenFiles> {
  assertWritableSchema(o.schema);
  const inner = sourceSql(source);
  const cast = castSelect(o.schema, o.columns ?? (await describeSql(conn, inner, o.signal)), inner);
  const parts = partitionColumns(o.spec, o.schema);
  const select =
    parts.length === 0
      ? cast
      : `SELECT *, ${parts.map((p) => `${p.expr} AS ${p.sqlName}`).join(', ')} FROM (${cast}) AS __cast`;
  const staging = await io.store.stagingDir({ signal: o.signal });
  try {
    const target = join(staging, 'out');
    const opts = copyOptions(
      md,
      o,
      parts.map((p) => p.sqlName),
    );
    let all: ProducedFile[];
    let metrics: Map<string, FileMetrics> | undefined;
    if (parts.length === 0) {
      // DuckDB reports the files and their column statistics: no second look at the files.
      const rows = await conn.all<CopyStatsRow>(
        `COPY (${select}) TO ${sqlString(target)} (${opts}, RETURN_STATS)`,
        undefined,
        { signal: o.signal },
      );
      all = rows
        .map((r) => ({ path: r.filename, size: Number(r.file_size_bytes), partitionText: new Map() }))
        .sort((a, b) => (a.path < b.path ? -1 : 1));
      metrics = await metricsFromCopyStats(conn, rows, o.schema, o.signal);
    } else {
      await conn.run(`COPY (${select}) TO ${sqlString(target)} (${opts})`, undefined, { signal: o.signal });
      all = await producedFiles(target);
      const split = await splitOversized(conn, all, md, o);
      if (split > 0) all = await producedFiles(target);
    }
    metrics ??= await collectMetrics(
      conn,
      all.map((f) => f.path),
      o.schema,
      o.signal,
    );
    const produced = all.filter((f) => (metrics.get(f.path)?.recordCount ?? 0) > 0);
    checkRequired(o.schema, produced, metrics);
    const base = dataDir(md);
    const writeId = randomUUID();
    const files = produced.map((r, n): { local: string; file: DataFile } => {
      const partition: PartitionData = {};
      for (const p of parts)
        partition[p.fieldName] = partitionValueFromText(p.resultType, r.partitionText.get(p.sqlName));
      const dir = parts.length > 0 ? `${partitionPath(o.spec, o.schema, partition)}/` : '';
      const m = metrics.get(r.path);
      return {
        local: r.path,
        file: {
          content: 0,
          file_path: `${base}/${dir}${writeId}-${String(n).padStart(5, '0')}.parquet`,
          file_format: 'PARQUET',
          partition,
          record_count: m?.recordCount ?? 0,
          file_size_in_bytes: r.size,
          column_sizes: m?.columnSizes ?? null,
          value_counts: m?.valueCounts ?? null,
          null_value_counts: m?.nullValueCounts ?? null,
          nan_value_counts: m && m.nanValueCounts.size > 0 ? m.nanValueCounts : null,
          lower_bounds: m?.lowerBounds ?? null,
          upper_bounds: m?.upperBounds ?? null,
          key_metadata: null,
          split_offsets: null,
          equality_ids: null,
          sort_order_id: null,
          referenced_data_file: null,
        },
      };
    });
    const imported: string[] = [];
    try {
      await mapLimit(files, 8, async (f) => {
        await io.store.importFile(io.keyOf(f.file.file_path), f.local, { signal: o.signal });
        imported.push(f.file.file_path);
      });
    } catch (err) {
      await io.deleteFiles(imported).catch(() => {});
      throw err;
    }
    return {
      files: files.map((f) => f.file),
      recordCount: files.reduce((n, f) => n + f.file.record_count, 0),
    };
  } finally {
    await removeStaging(staging);
  }
}

/** Remove a staging directory: two rmdir calls once its files moved out, else a recursive removal. */
async function removeStaging(staging: string): Promise<void> {
  try {
    await rmdir(join(staging, 'out'));
    await rmdir(staging);
  } catch {
    await rm(staging, { recursive: true, force: true });
  }
}

function checkRequired(
  schema: Schema,
  files: readonly ProducedFile[],
  metrics: Map<string, { nullValueCounts: Map<number, number> }>,
): void {
  const required = leafColumns(schema).filter((l) => l.required);
  for (const leaf of required) {
    let nulls = 0;
    for (const f of files) nulls += metrics.get(f.path)?.nullValueCounts.get(leaf.id) ?? 0;
    if (nulls > 0) {
      throw new InvalidInputError(
        `required column "${leaf.path}" has ${nulls} NULL value${nulls > 1 ? 's' : ''} in the rows to write`,
        `filter them out or give a default, e.g. coalesce(${quoteIdent(leaf.path)}, ...)`,
      );
    }
  }
}
