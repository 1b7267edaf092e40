/**
 * An Iceberg table for reading and writing: every write is one atomic snapshot committed
 * through the catalog, with rebase-and-retry when other writers commit first. Rows move
 * through DuckDB; this class holds metadata and orchestrates.
 */
import type { Duck, DuckConnection } from '../duck/index.js';
import type { ObjectStore } from '../storage/index.js';
import type { LoadedTable, TableCatalog, TableIdentifier } from './catalog-api.js';
import {
  type AppendedFiles,
  appendedBetween,
  type ChangeFeed,
  type ChangeOptions,
  changesBetween,
} from './changes.js';
import { nestedNamesStable } from './file-schema.js';
import { TableIO } from './io.js';
import { currentSchema, currentSnapshot, defaultSpec } from './lookup.js';
import {
  type CompactOptions,
  type CompactResult,
  compact,
  type ExpireOptions,
  type ExpireResult,
  expireSnapshots,
  type OrphanOptions,
  type OrphanResult,
  removeOrphanFiles,
  rewriteManifests,
} from './maintenance.js';
import { attachFileColumns, planScan, type ScanOptions, type ScanPlan } from './scan.js';
import { type ScanSqlOptions, scanSql } from './scan-sql.js';
import type { SchemaChange } from './schema-evolution.js';
import type { CommitResult, TableContext } from './table-commit.js';
import {
  commitPartitionSpec,
  commitProperties,
  commitRollback,
  commitSchemaChanges,
  commitTag,
  type PartitionFieldInput,
} from './table-meta.js';
import {
  appendRows,
  checkFilter,
  deleteRows,
  type OverwriteOptions,
  overwriteRows,
  type WriteOptions,
} from './table-ops.js';
import { replaceRows } from './table-replace.js';
import { type RewriteOptions, type RewriteResult, rewriteRows } from './table-rewrite.js';
import { type UpsertOptions, upsertRows } from './table-upsert.js';
import type { PartitionSpec, Schema, Snapshot, TableMetadata } from './types.js';
import type { WriteSource } from './writer-sql.js';

/** Options of `openTable`. */
export interface OpenTableOptions {
  /** The table as the caller has just loaded or created it (it is not loaded again). */
  loaded?: LoadedTable;
  /**
   * The caller's first operation follows at once: it starts from this load instead of loading
   * the table again (a commit made in between is handled as any concurrent commit).
   */
  writeNow?: boolean;
}

/**
 * Open a table of a catalog for reads and writes.
 * @throws NotFoundError when the table does not exist.
 */
export async function openTable(
  catalog: TableCatalog,
  store: ObjectStore,
  duck: Duck,
  id: TableIdentifier,
  o: OpenTableOptions = {},
): Promise<Table> {
  const loaded = o.loaded ?? (await catalog.loadTable(id));
  return new Table({ id, catalog, io: new TableIO(store), duck, loaded }, { current: o.writeNow });
}

/** One Iceberg table: metadata lookups, writes (one snapshot each), scans, change feeds and maintenance. */
export class Table {
  readonly #ctx: TableContext;
  /** Whether the next operation may use the metadata as loaded (set by `openTable`'s `writeNow`). */
  #current: boolean;

  constructor(ctx: TableContext, o: { current?: boolean } = {}) {
    this.#ctx = ctx;
    this.#current = o.current ?? false;
  }

  /** Reload the metadata before an operation, unless it was loaded for this one. */
  async #latest(): Promise<void> {
    if (this.#current) this.#current = false;
    else await this.refresh();
  }

  /** The table's name. */
  get id(): TableIdentifier {
    return this.#ctx.id;
  }

  /** The metadata as of the last load or commit. */
  get metadata(): TableMetadata {
    return this.#ctx.loaded.metadata;
  }

  /** The catalog's view of the table as of the last load or commit. */
  get loaded(): LoadedTable {
    return this.#ctx.loaded;
  }

  /** File access of the table (URIs ↔ store keys, manifests). */
  get io(): TableIO {
    return this.#ctx.io;
  }

  /** The current schema. */
  schema(): Schema {
    return currentSchema(this.metadata);
  }

  /** The default partition spec. */
  spec(): PartitionSpec {
    return defaultSpec(this.metadata);
  }

  /** All retained snapshots, oldest first. */
  snapshots(): Snapshot[] {
    return [...this.metadata.snapshots].sort((a, b) => a['sequence-number'] - b['sequence-number']);
  }

  /** The current snapshot, or undefined for an empty table. */
  currentSnapshot(): Snapshot | undefined {
    return currentSnapshot(this.metadata);
  }

  /** Reload the metadata from the catalog. */
  async refresh(): Promise<this> {
    this.#ctx.loaded = await this.#ctx.catalog.loadTable(this.#ctx.id);
    return this;
  }

  /** Append rows (a SELECT, files or a view) as one `append` snapshot. */
  async append(source: WriteSource, o: WriteOptions = {}): Promise<CommitResult> {
    await this.#latest();
    return appendRows(this.#ctx, source, o);
  }

  /** Replace rows: those matching `where`, the partitions the new rows fall into (`partitions: 'dynamic'`), or all. */
  async overwrite(source: WriteSource, o: OverwriteOptions = {}): Promise<CommitResult> {
    await this.#latest();
    return overwriteRows(this.#ctx, source, o);
  }

  /**
   * Replace all rows with the source's and make the schema the source's columns (kept field
   * ids where names and types match), in one snapshot: `CREATE OR REPLACE TABLE ... AS`.
   */
  async replace(source: WriteSource, o: WriteOptions = {}): Promise<CommitResult> {
    await this.#latest();
    return replaceRows(this.#ctx, source, o);
  }

  /** Delete the rows matching a SQL predicate (copy-on-write). */
  async delete(where: string, o: WriteOptions = {}): Promise<CommitResult> {
    await this.#latest();
    return deleteRows(this.#ctx, where, o);
  }

  /** Insert new keys and replace existing ones (copy-on-write; the last incoming row per key wins). */
  async upsert(source: WriteSource, o: UpsertOptions): Promise<CommitResult> {
    await this.#latest();
    return upsertRows(this.#ctx, source, o);
  }

  /**
   * Change rows with a DuckDB statement over a temp table holding the rows of the files that
   * may be affected (UPDATE, MERGE); the changed files are rewritten in one snapshot.
   */
  async rewrite(
    change: (conn: DuckConnection, temp: string) => Promise<number>,
    o: RewriteOptions = {},
  ): Promise<RewriteResult> {
    await this.#latest();
    return rewriteRows(this.#ctx, change, o);
  }

  /** Change the schema (add, drop, rename, widen, ...); old files read through field ids. */
  async evolveSchema(changes: SchemaChange[]): Promise<Schema> {
    await this.#latest();
    return currentSchema(await commitSchemaChanges(this.#ctx, changes));
  }

  /** Partition new data differently (old files keep their spec). */
  async updateSpec(fields: PartitionFieldInput[]): Promise<PartitionSpec> {
    await this.#latest();
    return defaultSpec(await commitPartitionSpec(this.#ctx, fields));
  }

  /** Set and remove table properties. */
  async setProperties(updates: Record<string, string>, removals: string[] = []): Promise<void> {
    await this.#latest();
    await commitProperties(this.#ctx, updates, removals);
  }

  /** Tag a snapshot (default: the current one). */
  async createTag(name: string, snapshotId?: bigint): Promise<void> {
    await this.#latest();
    await commitTag(this.#ctx, name, snapshotId);
  }

  /**
   * Make an earlier snapshot current. The table keeps its current schema (as Iceberg's
   * rollback does) unless `restoreSchema`, which also makes the snapshot's schema current,
   * so the table reads exactly as it did then (columns a later replace changed included).
   */
  async rollbackTo(snapshotId: bigint, o: { restoreSchema?: boolean } = {}): Promise<void> {
    await this.#latest();
    await commitRollback(this.#ctx, snapshotId, o);
  }

  /**
   * Plan a read of a snapshot (current, by id, ref or time), pruning files with the filter.
   * @throws InvalidInputError for a filter that does not bind to the schema.
   */
  async planScan(o: ScanOptions = {}): Promise<ScanPlan> {
    if (o.filter?.trim()) {
      const filter = o.filter;
      await this.#ctx.duck.withConnection((c) => checkFilter(c, this.metadata, filter, o.signal), o);
    }
    const plan = await planScan(this.#ctx.io, this.metadata, o);
    if (!plan.nestedNamesStable && o.resolvePaths !== false)
      await this.#ctx.duck.withConnection((conn) => attachFileColumns(conn, plan, o.signal), o);
    return plan;
  }

  /** DuckDB SQL reading a plan (columns mapped by field id, deletes applied, filter applied). */
  scanSql(plan: ScanPlan, o: ScanSqlOptions = {}): string {
    return scanSql(plan, o);
  }

  /** Files added by `append` snapshots after `fromSnapshotId` up to `toSnapshotId` (default current). */
  appendedBetween(
    fromSnapshotId: bigint | null,
    toSnapshotId?: bigint,
    o: { signal?: AbortSignal } = {},
  ): Promise<AppendedFiles> {
    return appendedBetween(this.#ctx.io, this.metadata, fromSnapshotId, toSnapshotId, o.signal);
  }

  /** A change feed (insert, delete, update_before, update_after) between two snapshots, as DuckDB SQL. */
  changesBetween(
    fromSnapshotId: bigint | null,
    toSnapshotId: bigint | undefined,
    o: ChangeOptions,
  ): Promise<ChangeFeed> {
    if (nestedNamesStable(this.metadata.schemas))
      return changesBetween(this.#ctx.io, this.metadata, fromSnapshotId, toSnapshotId, o);
    return this.#ctx.duck.withConnection(
      (conn) => changesBetween(this.#ctx.io, this.metadata, fromSnapshotId, toSnapshotId, { ...o, conn }),
      o,
    );
  }

  /** Rewrite small files of each partition into files near the target size (a `replace` snapshot). */
  async compact(o: CompactOptions = {}): Promise<CompactResult> {
    await this.#latest();
    return compact(this.#ctx, o);
  }

  /** Remove old snapshots and delete the files only they referenced. */
  async expireSnapshots(o: ExpireOptions = {}): Promise<ExpireResult> {
    await this.#latest();
    return expireSnapshots(this.#ctx, o);
  }

  /** Delete files under the table location that no metadata references. */
  async removeOrphanFiles(o: OrphanOptions = {}): Promise<OrphanResult> {
    await this.#latest();
    return removeOrphanFiles(this.#ctx, o);
  }

  /** Merge the current snapshot's manifests into one per partition spec (a `replace` snapshot). */
  async rewriteManifests(o: { signal?: AbortSignal } = {}): Promise<CommitResult | undefined> {
    await this.#latest();
    return rewriteManifests(this.#ctx, o);
  }
}
