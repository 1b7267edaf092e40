/**
 * The lake side of CDC: one Iceberg table per source table (plus `<table>__changes` when the
 * change stream is on), the CDC marks kept in snapshot summaries, schema evolution from
 * Relation messages and the schema history system table.
 */
import type { JdbcCatalog } from '../../catalog/index.js';
import type { Duck } from '../../duck/index.js';
import type { MetaStore } from '../../metastore/index.js';
import type { ObjectStore } from '../../storage/index.js';
import { defineSystemTable, recordSystemRows } from '../../system/index.js';
import {
  duckdbToIcebergType,
  icebergToDuckdbType,
  openTable,
  type Schema,
  type SchemaChange,
  type Table,
  type TableIdentifier,
} from '../../table/index.js';
import { ConflictError, InvalidInputError } from '../../util/index.js';
import { formatLsn, parseLsn } from './pgoutput.js';
import type { SourceTable } from './source.js';
import { duckTypeOf, type SourceColumn } from './types.js';

/** Snapshot summary key: the commit LSN of the last source transaction a commit includes. */
export const LSN_KEY = 'sluice.cdc.lsn';
/** Snapshot summary key: the last key (JSON array of text values) copied by the initial snapshot. */
export const SNAPSHOT_KEY = 'sluice.cdc.snapshot-key';

/** `sluice_system.schema_history`: every schema version of every CDC table. */
export const SCHEMA_HISTORY = defineSystemTable({
  name: 'schema_history',
  columns: [
    { name: 'source', type: 'string', required: true, doc: 'CDC replication name' },
    { name: 'table_name', type: 'string', required: true, doc: 'lake table (namespace.name)' },
    { name: 'version', type: 'int', required: true, doc: 'Iceberg schema id' },
    { name: 'columns', type: 'string', required: true, doc: 'JSON: [{name, type, source_type_oid}]' },
    { name: 'first_lsn', type: 'string', doc: 'first source LSN written with this schema' },
    { name: 'first_time', type: 'timestamptz', required: true, doc: 'when the version was adopted' },
  ],
});

/** Where a CDC table's commits stand, read back from its snapshot summaries. */
export interface CdcMarks {
  lsn?: bigint;
  snapshotKey?: string[];
}

/** The lake identifier of a source table. */
export function lakeId(namespace: string, t: SourceTable, suffix = ''): TableIdentifier {
  const base = t.schema === 'public' ? t.table : `${t.schema}_${t.table}`;
  return { namespace: [namespace], name: `${base}${suffix}`.toLowerCase() };
}

/** The newest CDC marks among the table's snapshots (walking back past other writers' commits). */
export function cdcMarks(table: Table): CdcMarks {
  const snaps = table.snapshots();
  for (let i = snaps.length - 1; i >= 0; i--) {
    const s = snaps[i]?.summary as Record<string, string> | undefined;
    if (!s) continue;
    const lsn = s[LSN_KEY];
    const key = s[SNAPSHOT_KEY];
    if (lsn !== undefined || key !== undefined)
      return {
        lsn: lsn ? parseLsn(lsn) : undefined,
        snapshotKey: key ? (JSON.parse(key) as string[]) : undefined,
      };
  }
  return {};
}

/** What lake writes need: catalog, store, DuckDB, metastore. */
export interface LakeContext {
  catalog: JdbcCatalog;
  store: ObjectStore;
  duck: Duck;
  meta: MetaStore;
  source: string;
}

function columnsJson(schema: Schema, cols: readonly SourceColumn[]): string {
  return JSON.stringify(
    schema.fields.map((f) => ({
      name: f.name,
      type: typeof f.type === 'string' ? f.type : f.type.type,
      source_type_oid: cols.find((c) => c.name === f.name)?.typeOid ?? null,
    })),
  );
}

async function recordVersion(ctx: LakeContext, table: Table, cols: readonly SourceColumn[], lsn?: bigint) {
  const schema = table.schema();
  await recordSystemRows(ctx.meta, SCHEMA_HISTORY, [
    {
      source: ctx.source,
      table_name: `${table.id.namespace.join('.')}.${table.id.name}`,
      version: schema['schema-id'],
      columns: columnsJson(schema, cols),
      first_lsn: lsn === undefined ? null : formatLsn(lsn),
      first_time: new Date(),
    },
  ]);
}

/** Open a table, creating it (and the namespace) with the given columns when missing. */
export async function ensureTable(
  ctx: LakeContext,
  id: TableIdentifier,
  fields: { name: string; duckType: string; required?: boolean }[],
  properties: Record<string, string>,
  onCreate?: (t: Table) => Promise<void>,
): Promise<Table> {
  if (!(await ctx.catalog.tableExists(id))) {
    if (!(await ctx.catalog.namespaceExists(id.namespace)))
      await ctx.catalog.createNamespace(id.namespace).catch((err) => {
        if (!(err instanceof ConflictError)) throw err;
      });
    let next = 0;
    const nextId = () => ++next;
    const schema: Schema = {
      type: 'struct',
      'schema-id': 0,
      fields: fields.map((f) => ({
        id: nextId(),
        name: f.name,
        required: f.required ?? false,
        type: duckdbToIcebergType(f.duckType, nextId),
      })),
    };
    try {
      await ctx.catalog.createTable(id, { schema, properties });
      const t = await openTable(ctx.catalog, ctx.store, ctx.duck, id);
      await onCreate?.(t);
      return t;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  return openTable(ctx.catalog, ctx.store, ctx.duck, id);
}

/** Open or create the lake table of a source table. */
export function ensureDataTable(ctx: LakeContext, namespace: string, t: SourceTable): Promise<Table> {
  return ensureTable(
    ctx,
    lakeId(namespace, t),
    t.columns.map((c) => ({ name: c.name, duckType: duckTypeOf(c) })),
    { 'sluice.cdc.source': ctx.source, 'sluice.cdc.table': t.name, 'sluice.cdc.key': t.key.join(',') },
    (table) => recordVersion(ctx, table, t.columns),
  );
}

const CHANGE_FIELDS = [
  { name: 'op', duckType: 'VARCHAR', required: true },
  { name: 'lsn', duckType: 'VARCHAR', required: true },
  { name: 'seq', duckType: 'BIGINT', required: true },
  { name: 'commit_time', duckType: 'TIMESTAMP WITH TIME ZONE', required: true },
  { name: 'before', duckType: 'VARCHAR' },
  { name: 'after', duckType: 'VARCHAR' },
];

/** Open or create `<table>__changes`. */
export function ensureChangeTable(ctx: LakeContext, namespace: string, t: SourceTable): Promise<Table> {
  return ensureTable(ctx, lakeId(namespace, t, '__changes'), CHANGE_FIELDS, {
    'sluice.cdc.source': ctx.source,
    'sluice.cdc.table': t.name,
  });
}

const WIDENINGS = new Set(['INTEGER>BIGINT', 'FLOAT>DOUBLE']);

function widens(from: string, to: string): boolean {
  if (WIDENINGS.has(`${from}>${to}`)) return true;
  const a = /^DECIMAL\((\d+),(\d+)\)$/.exec(from);
  const b = /^DECIMAL\((\d+),(\d+)\)$/.exec(to);
  return !!a && !!b && a[2] === b[2] && Number(b[1]) > Number(a[1]);
}

/**
 * Follow a Relation message: add new columns, drop removed ones, widen types; record the new
 * version in the schema history. Returns whether the schema changed.
 * @throws InvalidInputError for a change the lake cannot follow (a narrowed or changed type, a dropped key column).
 */
export async function followRelation(
  ctx: LakeContext,
  table: Table,
  t: SourceTable,
  columns: readonly SourceColumn[],
  lsn: bigint,
): Promise<boolean> {
  await table.refresh();
  const current = table.schema().fields;
  const changes: SchemaChange[] = [];
  let next = 0;
  for (const c of columns) {
    const want = duckTypeOf(c);
    const have = current.find((f) => f.name === c.name);
    if (!have) {
      changes.push({ op: 'add-column', name: c.name, type: duckdbToIcebergType(want, () => --next) });
      continue;
    }
    const was = icebergToDuckdbType(have.type);
    if (was === want) continue;
    if (widens(was, want))
      changes.push({ op: 'update-type', name: c.name, type: duckdbToIcebergType(want) as never });
    else
      throw new InvalidInputError(
        `column ${t.name}.${c.name} changed type from ${was} to ${want}, which the lake table cannot follow`,
        `re-snapshot the table: sluice cdc reset ${ctx.source}, then run the replication again`,
      );
  }
  for (const f of current) {
    if (columns.some((c) => c.name === f.name)) continue;
    if (t.key.includes(f.name))
      throw new InvalidInputError(
        `key column ${t.name}.${f.name} was dropped at the source`,
        're-snapshot the table',
      );
    changes.push({ op: 'drop-column', name: f.name });
  }
  if (changes.length === 0) return false;
  await table.evolveSchema(changes);
  await recordVersion(ctx, table, columns, lsn);
  return true;
}
