/**
 * Writes of lake tables through SQL: each statement becomes one operation of the table layer
 * (one Iceberg commit), its rows produced by DuckDB from the statement's SELECT.
 */
import { AlreadyExistsError } from '../catalog/errors.js';
import type { JdbcCatalog } from '../catalog/jdbc-catalog.js';
import { type Duck, type DuckConnection, sqlString } from '../duck/index.js';
import type { ObjectStore } from '../storage/index.js';
import {
  createTableAs,
  describeSql,
  duckdbToIcebergType,
  type NestedField,
  openTable,
  quoteIdent,
  type Schema,
  type TableIdentifier,
} from '../table/index.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../util/index.js';
import type { RowChangePlan, StatementPlan } from './classify.js';
import type { LakeTable, LakeViews } from './lake.js';
import { tokenize } from './lexer.js';
import { SummaryResult } from './results.js';
import type { RunOptions } from './types.js';

/** What a write needs: the table layer's DuckDB pool, the catalog, the views. */
export interface WriteContext {
  duck: Duck;
  catalog: JdbcCatalog;
  store: ObjectStore;
  views: LakeViews;
  /** Properties of a lake table a statement creates (none: the catalog's defaults). */
  newTableProperties?: (id: TableIdentifier) => Record<string, string> | undefined;
}

type WritePlan = Exclude<StatementPlan, { kind: 'duck' }>;

/** A SQL literal for a bound parameter value. */
function literal(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return `'${v}'::DOUBLE`;
    return String(v);
  }
  if (v instanceof Date) return `TIMESTAMPTZ ${sqlString(v.toISOString())}`;
  if (v instanceof Uint8Array) return `from_hex(${sqlString(Buffer.from(v).toString('hex'))})`;
  return sqlString(String(v));
}

/** SQL with `$n` and `?` parameters replaced by literals (writes run as text in the table layer). */
export function inlineParams(sql: string, params: readonly unknown[] | undefined): string {
  if (!params?.length) return sql;
  let out = '';
  let from = 0;
  let next = 0;
  for (const t of tokenize(sql)) {
    if (t.kind !== 'param') continue;
    const index = t.text === '?' ? next++ : Number(t.text.slice(1)) - 1;
    if (index < 0 || index >= params.length)
      throw new InvalidInputError(`parameter ${t.text} has no value (${params.length} given)`);
    out += sql.slice(from, t.start) + literal(params[index]);
    from = t.end;
  }
  return out + sql.slice(from);
}

function requireLake(ctx: WriteContext, target: string[]): LakeTable {
  const t = ctx.views.resolve(target);
  if (!t)
    throw new NotFoundError(
      `table "${target.join('.')}" does not exist`,
      'name a catalog table as namespace.table (SELECT * FROM information_schema.tables lists them)',
    );
  return t;
}

function columnsOf(
  duck: Duck,
  source: string,
  signal?: AbortSignal,
): Promise<{ name: string; type: string }[]> {
  return duck.withConnection((c) => describeSql(c, source, signal), { signal });
}

/** The rows of an INSERT named as the table's columns (explicit list, BY NAME, or by position). */
async function insertSource(
  ctx: WriteContext,
  plan: Extract<WritePlan, { kind: 'insert' }>,
  fields: readonly NestedField[],
  source: string,
  signal?: AbortSignal,
): Promise<string> {
  if (plan.byName) return source;
  const names = plan.columns ?? fields.map((f) => f.name);
  const given = (await columnsOf(ctx.duck, source, signal)).length;
  if (given > names.length)
    throw new InvalidInputError(
      `INSERT has more expressions (${given}) than target columns (${names.length})`,
      'name the target columns: INSERT INTO ns.t (a, b) SELECT ...',
    );
  return `SELECT * FROM (${source}) AS __src(${names.slice(0, given).map(quoteIdent).join(', ')})`;
}

async function runInsert(
  ctx: WriteContext,
  plan: Extract<WritePlan, { kind: 'insert' }>,
  params: readonly unknown[] | undefined,
  signal?: AbortSignal,
  replaceKey?: string[],
): Promise<SummaryResult> {
  const lake = requireLake(ctx, plan.target);
  const table = await openTable(ctx.catalog, ctx.store, ctx.duck, lake.id, { writeNow: true });
  const schema = table.schema();
  const source = await insertSource(ctx, plan, schema.fields, inlineParams(plan.source, params), signal);
  if (!plan.replace) {
    const r = await table.append(source, { signal });
    return new SummaryResult('INSERT', r.addedRecords);
  }
  const key = replaceKey?.length ? replaceKey : keyOf(schema);
  const [count] = await ctx.duck.all<{ n: bigint }>(`SELECT count(*) AS n FROM (${source})`, undefined, {
    signal,
  });
  await table.upsert(source, { key, signal });
  return new SummaryResult('INSERT', Number(count?.n ?? 0));
}

function keyOf(schema: Schema): string[] {
  const ids = schema['identifier-field-ids'] ?? [];
  const key = ids.map((id) => schema.fields.find((f) => f.id === id)?.name).filter((n): n is string => !!n);
  if (key.length === 0 || key.length !== ids.length)
    throw new InvalidInputError(
      'INSERT OR REPLACE needs the table to have identifier columns (its key)',
      'set identifier fields on the table (e.g. with the table API or Spark ALTER TABLE ... SET IDENTIFIER FIELDS)',
    );
  return key;
}

function lakeId(target: readonly string[]): TableIdentifier {
  const p = target.length === 3 && target[0]?.toLowerCase() === 'memory' ? target.slice(1) : target;
  if (p.length < 2)
    throw new InvalidInputError(
      `name the namespace of the new table: CREATE TABLE ns.${p[0] ?? 't'} AS ...`,
      'session-only tables are created with CREATE TEMP TABLE',
    );
  return { namespace: p.slice(0, -1).flatMap((s) => s.split('.')), name: p[p.length - 1] as string };
}

async function runCreate(
  ctx: WriteContext,
  plan: Extract<WritePlan, { kind: 'create' }>,
  params: readonly unknown[] | undefined,
  signal?: AbortSignal,
  properties?: Record<string, string>,
): Promise<SummaryResult> {
  const id = lakeId(plan.target);
  const source = inlineParams(plan.source, params);
  if (plan.objectType === 'VIEW') return runCreateView(ctx, plan, id, source, signal, properties);
  if (await ctx.catalog.viewExists(id))
    throw new AlreadyExistsError(`"${plan.target.join('.')}" is a view`, 'drop it first with DROP VIEW');
  if (await ctx.catalog.tableExists(id)) {
    if (plan.ifNotExists) return new SummaryResult('CREATE_TABLE', 0);
    if (!plan.orReplace)
      throw new AlreadyExistsError(
        `table "${plan.target.join('.')}" already exists`,
        'use CREATE OR REPLACE TABLE, or INSERT INTO',
      );
    const table = await openTable(ctx.catalog, ctx.store, ctx.duck, id, { writeNow: true });
    const r = await table.replace(source, { signal });
    return new SummaryResult('CREATE_TABLE', r.addedRecords);
  }
  const { schema, columns } = await schemaOf(ctx, source, signal);
  if (!(await ctx.catalog.namespaceExists(id.namespace))) await ctx.catalog.createNamespace(id.namespace);
  // The table and its first rows are one commit: nobody sees it before its rows are there.
  const { commit } = await createTableAs(ctx.catalog, ctx.store, ctx.duck, id, source, {
    location: ctx.catalog.defaultTableLocation(id),
    schema,
    tableProperties: { ...ctx.newTableProperties?.(id), ...properties },
    columns,
    signal,
  }).catch(async (err: unknown) => {
    if (err instanceof ConflictError && (await ctx.catalog.tableExists(id)))
      throw new AlreadyExistsError(
        `table "${plan.target.join('.')}" already exists`,
        'use CREATE OR REPLACE TABLE, or INSERT INTO',
        { cause: err },
      );
    throw err;
  });
  return new SummaryResult('CREATE_TABLE', commit.addedRecords);
}

/** The Iceberg schema of a query's columns (new field ids from 1), and the columns as described. */
async function schemaOf(
  ctx: WriteContext,
  source: string,
  signal?: AbortSignal,
): Promise<{ schema: Schema; columns: { name: string; type: string }[] }> {
  let nextId = 0;
  const columns = await columnsOf(ctx.duck, source, signal);
  const fields: NestedField[] = columns.map((c) => {
    const fieldId = ++nextId;
    return { id: fieldId, name: c.name, required: false, type: duckdbToIcebergType(c.type, () => ++nextId) };
  });
  return { schema: { type: 'struct', 'schema-id': 0, fields }, columns };
}

/** CREATE [OR REPLACE] VIEW ns.v AS ...: a catalog view (its query must run now). */
async function runCreateView(
  ctx: WriteContext,
  plan: Extract<WritePlan, { kind: 'create' }>,
  id: TableIdentifier,
  source: string,
  signal?: AbortSignal,
  properties?: Record<string, string>,
): Promise<SummaryResult> {
  if (plan.ifNotExists && (await ctx.catalog.viewExists(id))) return new SummaryResult('CREATE_VIEW');
  const { schema } = await schemaOf(ctx, source, signal);
  if (!(await ctx.catalog.namespaceExists(id.namespace))) await ctx.catalog.createNamespace(id.namespace);
  await ctx.catalog.createView(id, { sql: source, schema, replace: plan.orReplace, properties });
  return new SummaryResult('CREATE_VIEW');
}

async function runDelete(
  ctx: WriteContext,
  plan: Extract<WritePlan, { kind: 'delete' }>,
  params: readonly unknown[] | undefined,
  signal?: AbortSignal,
): Promise<SummaryResult> {
  const lake = requireLake(ctx, plan.target);
  const table = await openTable(ctx.catalog, ctx.store, ctx.duck, lake.id, { writeNow: true });
  const where = plan.where ? inlineParams(plan.where, params) : 'true';
  const r = await table.delete(where, { signal });
  // Copy-on-write: removed files' rows minus the rows kept in their rewritten files.
  return new SummaryResult('DELETE', r.removedRecords - r.addedRecords);
}

/** Statement-level attempts of UPDATE/MERGE when concurrent commits conflict with it. */
const ROW_CHANGE_ATTEMPTS = 3;

/** The first value of a DuckDB statement's first row (the count of a DML statement). */
function countOf(rows: Record<string, unknown>[]): number {
  const v = rows[0] ? Object.values(rows[0])[0] : undefined;
  return typeof v === 'bigint' || typeof v === 'number' ? Number(v) : 0;
}

/**
 * UPDATE or MERGE of a lake table: DuckDB runs the statement on a temp table holding the
 * rows of the files it may change, and the table layer rewrites the changed files in one
 * commit. A concurrent commit that conflicts makes the statement run again on the new state.
 */
async function runRowChange(
  ctx: WriteContext,
  plan: RowChangePlan,
  params: readonly unknown[] | undefined,
  signal?: AbortSignal,
): Promise<SummaryResult> {
  const lake = requireLake(ctx, plan.target);
  const alias = quoteIdent(plan.alias);
  const change = async (conn: DuckConnection, temp: string): Promise<number> => {
    const target = `${temp} AS ${alias}`;
    if (plan.kind === 'merge' && plan.matchedClause) {
      const using = inlineParams(plan.using ?? '', params);
      const on = inlineParams(plan.on ?? '', params);
      const [dup] = await conn.all<{ n: bigint }>(
        `SELECT count(*) AS n FROM (SELECT ${alias}.rowid FROM ${target} JOIN ${using} ON ${on} GROUP BY ${alias}.rowid HAVING count(*) > 1)`,
        undefined,
        { signal },
      );
      if (Number(dup?.n ?? 0) > 0)
        throw new InvalidInputError(
          `MERGE matched ${dup?.n} row(s) of ${plan.target.join('.')} with more than one source row`,
          'a target row may be changed by at most one source row: make the USING source unique on the ON columns',
        );
    }
    const sql = `${plan.before}${target}${inlineParams(plan.after, params)}`;
    return countOf(await conn.all<Record<string, unknown>>(sql, undefined, { signal }));
  };
  const where = plan.where ? inlineParams(plan.where, params) : undefined;
  const tag = plan.kind.toUpperCase();
  for (let attempt = 1; ; attempt++) {
    const table = await openTable(ctx.catalog, ctx.store, ctx.duck, lake.id, { writeNow: true });
    try {
      const r = await rewriteWithFilter(table, change, where, signal);
      return new SummaryResult(tag, r.affected);
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= ROW_CHANGE_ATTEMPTS) throw err;
    }
  }
}

/** Rewrite with the WHERE of an UPDATE as the file filter, or without one if it names other tables. */
async function rewriteWithFilter(
  table: Awaited<ReturnType<typeof openTable>>,
  change: (conn: DuckConnection, temp: string) => Promise<number>,
  where: string | undefined,
  signal?: AbortSignal,
) {
  if (where === undefined) return table.rewrite(change, { signal });
  try {
    return await table.rewrite(change, { filter: where, signal });
  } catch (err) {
    // A condition using the alias or other tables cannot prune files: read them all.
    if (err instanceof InvalidInputError && err.message.startsWith('invalid filter')) {
      return table.rewrite(change, { signal });
    }
    throw err;
  }
}

async function runDrop(
  ctx: WriteContext,
  plan: Extract<WritePlan, { kind: 'drop' }>,
): Promise<SummaryResult> {
  const view = ctx.views.resolveView(plan.target);
  if (view) {
    if (plan.objectType !== 'VIEW')
      throw new InvalidInputError(`"${plan.target.join('.')}" is a view`, 'drop it with DROP VIEW');
    await ctx.catalog.dropView(view.id);
    return new SummaryResult('DROP_VIEW');
  }
  const lake = ctx.views.resolve(plan.target);
  if (!lake) {
    if (plan.ifExists) return new SummaryResult(`DROP_${plan.objectType}`);
    requireLake(ctx, plan.target);
  }
  if (plan.objectType !== 'TABLE')
    throw new InvalidInputError(`"${plan.target.join('.')}" is a lake table`, 'drop it with DROP TABLE');
  await ctx.catalog.dropTable((lake as LakeTable).id);
  return new SummaryResult('DROP_TABLE');
}

/** Whether a write plan names a lake table (else it targets a session's temporary object). */
export function targetsLake(ctx: WriteContext, plan: WritePlan): boolean {
  if (plan.kind === 'create') return true;
  if (plan.kind === 'drop' && ctx.views.resolveView(plan.target)) return true;
  return ctx.views.resolve(plan.target) !== undefined;
}

/** Run a write of a lake table as one commit of the table layer. */
export function runWrite(
  ctx: WriteContext,
  plan: WritePlan,
  params: readonly unknown[] | undefined,
  signal?: AbortSignal,
  o: Pick<RunOptions, 'replaceKey' | 'properties'> = {},
): Promise<SummaryResult> {
  switch (plan.kind) {
    case 'insert':
      return runInsert(ctx, plan, params, signal, o.replaceKey);
    case 'create':
      return runCreate(ctx, plan, params, signal, o.properties);
    case 'delete':
      return runDelete(ctx, plan, params, signal);
    case 'drop':
      return runDrop(ctx, plan);
    case 'update':
    case 'merge':
      return runRowChange(ctx, plan, params, signal);
  }
}
