/**
 * Row-level table operations, each one snapshot: append, overwrite (by filter, by dynamic
 * partitions, or whole table) and delete by filter. Deletes are copy-on-write: files whose
 * rows all match are dropped (proven from partition values and column bounds where possible,
 * else counted in DuckDB), files with some matching rows are rewritten without them.
 */
import type { DuckConnection } from '../duck/index.js';
import { isUserQueryError } from '../duck/index.js';
import { ConflictError, InvalidInputError } from '../util/index.js';
import type { LiveEntry } from './io.js';
import { currentSchema, defaultSpec, specById } from './lookup.js';
import { bindPartitionSpec } from './partition.js';
import { type PlannedFile, planScan, resolvePaths, type ScanPlan } from './scan.js';
import type { ColumnPredicate } from './scan-filter.js';
import {
  fileRange,
  metricsMayMatch,
  partitionMayMatch,
  partitionProves,
  rangeAlwaysMatches,
} from './scan-prune.js';
import { filterCheckSql, scanSql } from './scan-sql.js';
import { type CommitResult, commitSnapshot, type TableContext } from './table-commit.js';
import type { DataFile, Schema, TableMetadata } from './types.js';
import { writeDataFiles } from './writer.js';
import type { SourceColumn, WriteSource } from './writer-sql.js';

/** Options shared by writing operations. */
export interface WriteOptions {
  /** Extra snapshot summary properties, e.g. `{ 'sluice.raw-objects': '...' }` for exactly-once ingestion. */
  properties?: Record<string, string>;
  /** Target data file size (default: table property `write.target-file-size-bytes`, else 128 MiB). */
  targetFileSizeBytes?: number;
  /** Rows per Parquet row group. */
  rowGroupSize?: number;
  /** The source's columns, when the caller has just described it (it is not described again). */
  columns?: readonly SourceColumn[];
  signal?: AbortSignal;
}

/** What `overwrite` replaces. */
export interface OverwriteOptions extends WriteOptions {
  /** Replace the rows matching this SQL predicate. */
  where?: string;
  /** Replace the partitions that the new rows fall into. */
  partitions?: 'dynamic';
}

/**
 * Check that a SQL filter binds against the table's columns.
 * @throws InvalidInputError naming the problem (unknown column, type mismatch, syntax).
 */
export async function checkFilter(
  conn: DuckConnection,
  md: TableMetadata,
  filter: string,
  signal?: AbortSignal,
): Promise<void> {
  try {
    await conn.all(filterCheckSql(currentSchema(md), filter), undefined, { signal });
  } catch (err) {
    if (!isUserQueryError(err)) throw err;
    const first = (err as Error).message.split('\n')[0];
    throw new InvalidInputError(
      `invalid filter ${JSON.stringify(filter)}: ${first}`,
      `columns: ${currentSchema(md)
        .fields.map((f) => f.name)
        .join(', ')}`,
      {
        cause: err,
      },
    );
  }
}

/** Write rows with the table's default spec and its current schema (or the given one). */
export function writeCurrent(
  conn: DuckConnection,
  ctx: TableContext,
  source: WriteSource,
  o: WriteOptions,
  schema: Schema = currentSchema(ctx.loaded.metadata),
) {
  const md = ctx.loaded.metadata;
  return writeDataFiles(conn, ctx.io, md, source, {
    schema,
    spec: defaultSpec(md),
    targetFileSizeBytes: o.targetFileSizeBytes,
    rowGroupSize: o.rowGroupSize,
    columns: o.columns,
    signal: o.signal,
  });
}

const baseId = (md: TableMetadata) => md['current-snapshot-id'];

/** Append rows as new files (fast append: existing manifests are reused). */
export async function appendRows(
  ctx: TableContext,
  source: WriteSource,
  o: WriteOptions = {},
): Promise<CommitResult> {
  const md = ctx.loaded.metadata;
  const written = await ctx.duck.withConnection((c) => writeCurrent(c, ctx, source, o), o);
  return commitSnapshot(ctx, {
    operation: 'append',
    added: written.files,
    schema: currentSchema(md),
    spec: defaultSpec(md),
    removed: [],
    baseSnapshotId: baseId(md),
    properties: o.properties,
    signal: o.signal,
  });
}

/** Files of a plan split by how many of their rows match the filter. */
interface DeleteSplit {
  full: PlannedFile[];
  partial: PlannedFile[];
}

function provablyAll(md: TableMetadata, plan: ScanPlan, f: PlannedFile): boolean {
  if (!plan.filterComplete || plan.predicates.length === 0) return false;
  let bound: ReturnType<typeof bindPartitionSpec> = [];
  try {
    bound = bindPartitionSpec(specById(md, f.specId), plan.schema);
  } catch {}
  return plan.predicates.every(
    (p) =>
      partitionProves(bound, f.file, p) ||
      rangeAlwaysMatches(p.pred, p.type, fileRange(f.file, p.fieldId, p.type)),
  );
}

async function splitByFilter(
  conn: DuckConnection,
  ctx: TableContext,
  plan: ScanPlan,
  where: string,
  signal?: AbortSignal,
): Promise<DeleteSplit> {
  const md = ctx.loaded.metadata;
  const full: PlannedFile[] = [];
  const unsure: PlannedFile[] = [];
  for (const f of plan.files) (f.deletes.length === 0 && provablyAll(md, plan, f) ? full : unsure).push(f);
  const partial: PlannedFile[] = [];
  if (unsure.length > 0) {
    const sub: ScanPlan = { ...plan, files: unsure };
    await resolvePaths(ctx.io, sub, signal, conn);
    const rows = await conn.all<{ __file: string; matched: bigint; total: bigint }>(
      `SELECT __file, count(*) FILTER (WHERE (${where})) AS matched, count(*) AS total FROM (${scanSql(sub, { applyFilter: false, withFile: true })}) AS __scan GROUP BY __file`,
      undefined,
      { signal },
    );
    const byPath = new Map(rows.map((r) => [r.__file, r]));
    for (const f of unsure) {
      const r = byPath.get(f.localPath);
      const matched = Number(r?.matched ?? 0);
      if (matched === 0) continue;
      (matched === Number(r?.total ?? 0) && f.deletes.length === 0 ? full : partial).push(f);
    }
  }
  return { full, partial };
}

/** A validation refusing files added concurrently that may hold rows matching the predicates (all, when incomplete). */
export function conflictCheck(
  md: TableMetadata,
  predicates: readonly ColumnPredicate[],
  complete: boolean,
  what: string,
): (added: readonly DataFile[]) => void {
  const bound = bindPartitionSpec(defaultSpec(md), currentSchema(md));
  return (added) => {
    const hit = added.find(
      (f) =>
        !complete ||
        predicates.length === 0 ||
        (partitionMayMatch(bound, f, predicates) && metricsMayMatch(f, predicates)),
    );
    if (hit) {
      throw new ConflictError(
        `cannot commit ${what}: a concurrent commit added ${hit.file_path}, which may hold rows it affects`,
        'run the operation again on the current table state',
      );
    }
  };
}

/** Delete the rows matching `where` (copy-on-write). */
export async function deleteRows(
  ctx: TableContext,
  where: string,
  o: WriteOptions = {},
): Promise<CommitResult> {
  return replaceMatching(ctx, where, undefined, o);
}

/** Replace the rows matching `where` with the source rows (one snapshot). */
export async function replaceMatching(
  ctx: TableContext,
  where: string,
  source: WriteSource | undefined,
  o: WriteOptions,
): Promise<CommitResult> {
  const md = ctx.loaded.metadata;
  const schema = currentSchema(md);
  const spec = defaultSpec(md);
  const { added, removed, complete, predicates } = await ctx.duck.withConnection(async (conn) => {
    await checkFilter(conn, md, where, o.signal);
    const plan = await planScan(ctx.io, md, { filter: where, resolvePaths: false, signal: o.signal });
    const split = await splitByFilter(conn, ctx, plan, where, o.signal);
    const files: DataFile[] = [];
    try {
      if (split.partial.length > 0) {
        const keep = `SELECT * FROM (${scanSql({ ...plan, files: split.partial }, { applyFilter: false })}) AS __old WHERE (${where}) IS NOT TRUE`;
        files.push(...(await writeCurrent(conn, ctx, keep, o)).files);
      }
      if (source !== undefined) files.push(...(await writeCurrent(conn, ctx, source, o)).files);
    } catch (err) {
      await ctx.io.deleteFiles(files.map((f) => f.file_path)).catch(() => {});
      throw err;
    }
    const removedEntries: LiveEntry[] = [...split.full, ...split.partial].map((f) => f.live);
    return {
      added: files,
      removed: removedEntries,
      complete: plan.filterComplete,
      predicates: plan.predicates,
    };
  }, o);
  const operation = source === undefined && added.length === 0 ? 'delete' : 'overwrite';
  return commitSnapshot(ctx, {
    operation,
    added,
    schema,
    spec,
    removed,
    baseSnapshotId: baseId(md),
    properties: o.properties,
    validate: conflictCheck(md, predicates, complete, operation),
    signal: o.signal,
  });
}

function partitionKey(specId: number, f: DataFile): string {
  return `${specId}:${JSON.stringify(f.partition, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))}`;
}

/** Overwrite: by filter, by the partitions of the new rows, or the whole table. */
export async function overwriteRows(
  ctx: TableContext,
  source: WriteSource,
  o: OverwriteOptions = {},
): Promise<CommitResult> {
  if (o.where !== undefined && o.partitions !== undefined)
    throw new InvalidInputError('overwrite takes either `where` or `partitions`, not both');
  if (o.where !== undefined) return replaceMatching(ctx, o.where, source, o);
  const md = ctx.loaded.metadata;
  const spec = defaultSpec(md);
  // The files to replace are planned while the new ones are written.
  const [written, plan] = await Promise.all([
    ctx.duck.withConnection((c) => writeCurrent(c, ctx, source, o), o),
    planScan(ctx.io, md, { resolvePaths: false, signal: o.signal }),
  ]);
  let removed = plan.files;
  let validate: ((added: readonly DataFile[]) => void) | undefined = conflictCheck(
    md,
    [],
    false,
    'overwrite',
  );
  if (o.partitions === 'dynamic' && spec.fields.length > 0) {
    const keys = new Set(written.files.map((f) => partitionKey(spec['spec-id'], f)));
    removed = plan.files.filter((f) => keys.has(partitionKey(f.specId, f.file)));
    validate = (added) => {
      const hit = added.find((f) => keys.has(partitionKey(spec['spec-id'], f)));
      if (hit)
        throw new ConflictError(
          `cannot commit overwrite: a concurrent commit added ${hit.file_path} to a partition being replaced`,
          'run the operation again on the current table state',
        );
    };
  }
  return commitSnapshot(ctx, {
    operation: removed.length === 0 ? 'append' : 'overwrite',
    added: written.files,
    schema: currentSchema(md),
    spec,
    removed: removed.map((f) => f.live),
    baseSnapshotId: baseId(md),
    properties: o.properties,
    validate,
    signal: o.signal,
  });
}
