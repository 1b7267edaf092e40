/**
 * Upsert by key, copy-on-write. The incoming rows are cast and deduplicated by key (the last
 * one wins) into a temp table; files that may hold those keys are found from partition values
 * and column bounds (the incoming key range or key list, computed in DuckDB), then narrowed to
 * the files that really hold one of the keys by a semi-join over their key columns only. Only
 * those files are rewritten (`old rows ANTI JOIN incoming` plus the incoming rows); the table
 * never holds two rows with one key.
 */
import type { DuckConnection } from '../duck/index.js';
import { ConflictError, InvalidInputError } from '../util/index.js';
import { quoteIdent } from './duckdb-types.js';
import { currentSchema, defaultSpec } from './lookup.js';
import type { Predicate } from './partition.js';
import { isPrimitive, parsePrimitive } from './primitives.js';
import { type PlannedFile, planScan, resolvePaths, type ScanPlan } from './scan.js';
import type { ColumnPredicate } from './scan-filter.js';
import { fileRange, rangeMayMatch } from './scan-prune.js';
import { scanSql } from './scan-sql.js';
import { type CommitResult, commitSnapshot, type TableContext } from './table-commit.js';
import type { WriteOptions } from './table-ops.js';
import { writeCurrent } from './table-ops.js';
import type { DataFile, NestedField, PrimitiveType, Schema } from './types.js';
import { coerceValue } from './values.js';
import { castSelect, describeSql, sourceSql, type WriteSource } from './writer-sql.js';

/** Options of `upsert`. */
export interface UpsertOptions extends WriteOptions {
  /** Key columns (top-level, primitive). */
  key: string[];
}

/** Up to this many distinct keys are matched against partitions and bounds one by one. */
const KEY_LIST_MAX = 256;

let tempCounter = 0;

function keyFields(schema: Schema, key: readonly string[]): NestedField[] {
  if (key.length === 0) throw new InvalidInputError('upsert needs at least one key column');
  return key.map((name) => {
    const f = schema.fields.find((x) => x.name === name);
    if (!f)
      throw new InvalidInputError(
        `unknown key column "${name}"`,
        `columns: ${schema.fields.map((x) => x.name).join(', ')}`,
      );
    if (!isPrimitive(f.type)) throw new InvalidInputError(`key column "${name}" must be a primitive type`);
    return f;
  });
}

/** SQL of a value in the form `coerceValue` reads exactly. */
function reprSql(col: string, type: PrimitiveType): string {
  switch (parsePrimitive(type).kind) {
    case 'date':
      return `CAST(${col} - DATE '1970-01-01' AS INTEGER)`;
    case 'time':
      return `datediff('microsecond', TIME '00:00:00', ${col})`;
    case 'timestamp':
    case 'timestamptz':
      return `epoch_us(${col})`;
    case 'decimal':
    case 'uuid':
      return `CAST(${col} AS VARCHAR)`;
    default:
      return col;
  }
}

const coerce = (type: PrimitiveType, v: unknown) =>
  coerceValue(type, typeof v === 'bigint' && parsePrimitive(type).kind === 'int' ? Number(v) : v);

/** Predicates on the key columns covering every incoming key. */
async function keyPredicates(
  conn: DuckConnection,
  temp: string,
  keys: NestedField[],
  signal?: AbortSignal,
): Promise<ColumnPredicate[]> {
  const out: ColumnPredicate[] = [];
  for (const k of keys) {
    const type = k.type as PrimitiveType;
    const col = quoteIdent(k.name);
    const [stats] = await conn.all<{ lo: unknown; hi: unknown; n: bigint }>(
      `SELECT ${reprSql(`min(${col})`, type)} AS lo, ${reprSql(`max(${col})`, type)} AS hi, approx_count_distinct(${col}) AS n FROM ${temp}`,
      undefined,
      { signal },
    );
    if (!stats || stats.lo === null || stats.lo === undefined) continue;
    const field = { fieldId: k.id, column: k.name, type };
    if (keys.length === 1 && Number(stats.n) <= KEY_LIST_MAX) {
      const rows = await conn.all<{ v: unknown }>(
        `SELECT DISTINCT ${reprSql(col, type)} AS v FROM ${temp}`,
        undefined,
        { signal },
      );
      out.push({ ...field, pred: { op: 'in', values: rows.map((r) => coerce(type, r.v)) } });
      continue;
    }
    out.push({ ...field, pred: { op: '>=', value: coerce(type, stats.lo) } as Predicate });
    out.push({ ...field, pred: { op: '<=', value: coerce(type, stats.hi) } as Predicate });
  }
  return out;
}

async function filesHoldingKeys(
  conn: DuckConnection,
  ctx: TableContext,
  plan: ScanPlan,
  temp: string,
  keys: NestedField[],
  signal?: AbortSignal,
): Promise<PlannedFile[]> {
  if (plan.files.length === 0) return [];
  await resolvePaths(ctx.io, plan, signal, conn);
  const cols = keys.map((k) => k.name);
  const on = keys.map((k) => `__old.${quoteIdent(k.name)} = __new.${quoteIdent(k.name)}`).join(' AND ');
  const rows = await conn.all<{ __file: string }>(
    `SELECT DISTINCT __old.__file FROM (${scanSql(plan, { columns: cols, applyFilter: false, withFile: true })}) AS __old SEMI JOIN ${temp} AS __new ON ${on}`,
    undefined,
    { signal },
  );
  const hit = new Set(rows.map((r) => r.__file));
  return plan.files.filter((f) => hit.has(f.localPath));
}

/**
 * Insert or replace rows by key in one snapshot (`overwrite` when files were rewritten, else `append`).
 * @throws InvalidInputError for unknown or non-primitive key columns and NULL keys.
 * @throws ConflictError when a concurrent commit added rows in the key range.
 */
export async function upsertRows(
  ctx: TableContext,
  source: WriteSource,
  o: UpsertOptions,
): Promise<CommitResult> {
  const md = ctx.loaded.metadata;
  const schema = currentSchema(md);
  const keys = keyFields(schema, o.key);
  const temp = `__sluice_upsert_${process.pid}_${++tempCounter}`;
  const prepared = await ctx.duck.withConnection(async (conn) => {
    const inner = sourceSql(source);
    const cast = castSelect(schema, await describeSql(conn, inner, o.signal), inner);
    const partition = keys.map((k) => quoteIdent(k.name)).join(', ');
    await conn.run(
      `CREATE TEMP TABLE ${temp} AS SELECT * EXCLUDE (__ord) FROM (SELECT *, row_number() OVER () AS __ord FROM (${cast}) AS __c) AS __n QUALIFY row_number() OVER (PARTITION BY ${partition} ORDER BY __ord DESC) = 1`,
      undefined,
      { signal: o.signal },
    );
    try {
      const nullCheck = keys.map((k) => `${quoteIdent(k.name)} IS NULL`).join(' OR ');
      const [nulls] = await conn.all<{ n: bigint }>(
        `SELECT count(*) AS n FROM ${temp} WHERE ${nullCheck}`,
        undefined,
        { signal: o.signal },
      );
      if (Number(nulls?.n ?? 0) > 0) {
        throw new InvalidInputError(
          `${nulls?.n} incoming row(s) have a NULL in the key (${o.key.join(', ')})`,
          'filter them out before the upsert; keys identify rows and cannot be NULL',
        );
      }
      const predicates = await keyPredicates(conn, temp, keys, o.signal);
      const plan = await planScan(ctx.io, md, { predicates, resolvePaths: false, signal: o.signal });
      const holding = await filesHoldingKeys(conn, ctx, plan, temp, keys, o.signal);
      const on = keys.map((k) => `__old.${quoteIdent(k.name)} = __new.${quoteIdent(k.name)}`).join(' AND ');
      const cols = schema.fields.map((f) => quoteIdent(f.name)).join(', ');
      const rewrite =
        holding.length === 0
          ? `SELECT ${cols} FROM ${temp}`
          : `SELECT __old.* FROM (${scanSql({ ...plan, files: holding }, { applyFilter: false })}) AS __old ANTI JOIN ${temp} AS __new ON ${on} UNION ALL SELECT ${cols} FROM ${temp}`;
      const written = await writeCurrent(conn, ctx, rewrite, o);
      return { written, holding, predicates };
    } finally {
      await conn.run(`DROP TABLE IF EXISTS ${temp}`).catch(() => {});
    }
  }, o);
  const { written, holding, predicates } = prepared;
  return commitSnapshot(ctx, {
    operation: holding.length === 0 ? 'append' : 'overwrite',
    added: written.files,
    schema,
    spec: defaultSpec(md),
    removed: holding.map((f) => f.live),
    baseSnapshotId: md['current-snapshot-id'],
    properties: o.properties,
    validate: (added: readonly DataFile[]) => {
      const hit = added.find(
        (f) =>
          predicates.length === 0 ||
          predicates.every((p) => rangeMayMatch(p.pred, p.type, fileRange(f, p.fieldId, p.type))),
      );
      if (hit) {
        throw new ConflictError(
          `cannot commit upsert: a concurrent commit added ${hit.file_path}, which may hold the same keys`,
          'run the upsert again on the current table state',
        );
      }
    },
    signal: o.signal,
  });
}
