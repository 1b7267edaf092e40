/**
 * Row-level rewrites (UPDATE, MERGE), copy-on-write, one snapshot. The rows of the files that
 * may be affected are loaded into a DuckDB temp table, file by file (each file's rows get a
 * contiguous range of row ids); the caller's statement changes that temp table in DuckDB;
 * then every file whose rows changed (count or content hash differs) is removed and its
 * surviving rows, plus the rows the statement inserted, are written as new files. Files
 * the statement did not change stay as they are; a statement that changed nothing commits
 * nothing.
 */
import type { DuckConnection } from '../duck/index.js';
import { ConflictError } from '../util/index.js';
import { quoteIdent } from './duckdb-types.js';
import { currentSchema, defaultSpec } from './lookup.js';
import { bindPartitionSpec } from './partition.js';
import { type PlannedFile, planScan, resolvePaths } from './scan.js';
import { metricsMayMatch, partitionMayMatch } from './scan-prune.js';
import { scanSql } from './scan-sql.js';
import { type CommitResult, commitSnapshot, type TableContext } from './table-commit.js';
import { checkFilter, type WriteOptions, writeCurrent } from './table-ops.js';
import type { DataFile } from './types.js';

/** Options of `rewrite`. */
export interface RewriteOptions extends WriteOptions {
  /**
   * A SQL predicate on the table's columns that every changed row matches before the change:
   * only files that may hold such rows are loaded, and only concurrent commits adding such
   * rows conflict. Without it every file is loaded and any concurrent data commit conflicts.
   */
  filter?: string;
}

/** What `rewrite` did: the statement's own count and the commit, if anything changed. */
export interface RewriteResult {
  /** The value the change callback returned (e.g. rows affected). */
  affected: number;
  /** Undefined when the statement changed no row. */
  commit?: CommitResult;
}

let tempCounter = 0;

interface FileRange {
  file: PlannedFile;
  lo: number;
  hi: number;
}

/**
 * Rewrite rows in one snapshot: `change(conn, temp)` alters the temp table `temp` (with the
 * table's columns, holding the rows of the files that may be affected) in DuckDB and returns
 * a count to report.
 * @throws InvalidInputError for a filter that does not bind to the schema.
 * @throws ConflictError when a concurrent commit removed a file being rewritten or added rows
 * the rewrite may have had to change.
 */
export async function rewriteRows(
  ctx: TableContext,
  change: (conn: DuckConnection, temp: string) => Promise<number>,
  o: RewriteOptions = {},
): Promise<RewriteResult> {
  const md = ctx.loaded.metadata;
  const schema = currentSchema(md);
  const spec = defaultSpec(md);
  const temp = `__sluice_rewrite_${process.pid}_${++tempCounter}`;
  const cols = schema.fields.map((f) => quoteIdent(f.name));
  const rowHash = `sum(hash(${cols.join(', ')})::HUGEINT)`;
  const prepared = await ctx.duck.withConnection(async (conn) => {
    const filter = o.filter?.trim() || undefined;
    if (filter) await checkFilter(conn, md, filter, o.signal);
    const plan = await planScan(ctx.io, md, { filter, resolvePaths: false, signal: o.signal });
    await resolvePaths(ctx.io, plan, o.signal, conn);
    const empty = scanSql({ ...plan, files: [] }, { applyFilter: false });
    await conn.run(`CREATE TEMP TABLE ${temp} AS ${empty}`, undefined, { signal: o.signal });
    try {
      const ranges: FileRange[] = [];
      let total = 0;
      for (const file of plan.files) {
        await conn.run(
          `INSERT INTO ${temp} ${scanSql({ ...plan, files: [file] }, { applyFilter: false })}`,
          undefined,
          { signal: o.signal },
        );
        const [n] = await conn.all<{ n: bigint }>(`SELECT count(*) AS n FROM ${temp}`);
        const hi = Number(n?.n ?? 0);
        if (hi > total) ranges.push({ file, lo: total, hi });
        total = hi;
      }
      // Row ids are contiguous per insert: a file's rows are rowid ∈ [lo, hi).
      const rangeValues = ranges.map((r, i) => `(${i}, ${r.lo}, ${r.hi})`).join(', ');
      const rangesTable = rangeValues
        ? `(VALUES ${rangeValues}) AS __r(i, lo, hi)`
        : '(SELECT 0 AS i, 0 AS lo, 0 AS hi WHERE false) AS __r';
      const perFile = `SELECT __r.i, count(*) AS n, ${rowHash} AS h FROM ${temp} JOIN ${rangesTable} ON ${temp}.rowid >= __r.lo AND ${temp}.rowid < __r.hi GROUP BY __r.i`;
      const before = await conn.all<{ i: number; n: bigint; h: bigint }>(perFile, undefined, {
        signal: o.signal,
      });
      const affected = await change(conn, temp);
      const after = await conn.all<{ i: number; n: bigint; h: bigint }>(perFile, undefined, {
        signal: o.signal,
      });
      const afterByIndex = new Map(after.map((r) => [Number(r.i), r]));
      const changed = before
        .filter((b) => {
          const a = afterByIndex.get(Number(b.i));
          return !a || a.n !== b.n || a.h !== b.h;
        })
        .map((b) => ranges[Number(b.i)] as FileRange);
      const [ins] = await conn.all<{ n: bigint }>(
        `SELECT count(*) AS n FROM ${temp} WHERE rowid >= ${total}`,
        undefined,
        { signal: o.signal },
      );
      const inserted = Number(ins?.n ?? 0);
      const scope = { predicates: plan.predicates, complete: plan.filterComplete };
      if (changed.length === 0 && inserted === 0)
        return { affected, changed, files: [] as DataFile[], scope };
      const keep = [...changed.map((r) => `(rowid >= ${r.lo} AND rowid < ${r.hi})`), `rowid >= ${total}`];
      const rows = `SELECT ${cols.join(', ')} FROM ${temp} WHERE ${keep.join(' OR ')}`;
      const written = await writeCurrent(conn, ctx, rows, o);
      return { affected, changed, files: written.files, scope };
    } finally {
      await conn.run(`DROP TABLE IF EXISTS ${temp}`).catch(() => {});
    }
  }, o);
  const { affected, changed, files, scope } = prepared;
  if (changed.length === 0 && files.length === 0) return { affected };
  const { predicates, complete } = scope;
  const bound = bindPartitionSpec(spec, schema);
  const commit = await commitSnapshot(ctx, {
    operation: changed.length === 0 ? 'append' : 'overwrite',
    added: files,
    schema,
    spec,
    removed: changed.map((r) => r.file.live),
    baseSnapshotId: md['current-snapshot-id'],
    properties: o.properties,
    validate: (added: readonly DataFile[]) => {
      const hit = added.find(
        (f) =>
          !complete ||
          predicates.length === 0 ||
          (partitionMayMatch(bound, f, predicates) && metricsMayMatch(f, predicates)),
      );
      if (hit)
        throw new ConflictError(
          `cannot commit the rewrite: a concurrent commit added ${hit.file_path}, which may hold rows it changes`,
          'run the statement again on the current table state',
        );
    },
    signal: o.signal,
  });
  return { affected, commit };
}
