/**
 * Replacing a table with the result of a query (`CREATE OR REPLACE TABLE ... AS SELECT`):
 * all rows are replaced and the schema becomes the query's columns, in one commit that adds
 * the new schema, makes it current and adds the overwrite snapshot. Field ids carry over where
 * a column keeps its name and type (or its type is promoted), so older snapshots keep reading
 * their own columns. When the columns are unchanged this is a plain overwrite.
 */
import { InvalidInputError } from '../util/index.js';
import { duckdbToIcebergType } from './duckdb-types.js';
import { currentSchema, defaultSortOrder, defaultSpec } from './lookup.js';
import { bindPartitionSpec } from './partition.js';
import { isPrimitive, typeToString } from './primitives.js';
import { planScan } from './scan.js';
import { findFieldById, highestFieldId, schemasEquivalent } from './schema.js';
import { isLegalPromotion } from './schema-evolution.js';
import { type CommitResult, commitSnapshot, type TableContext } from './table-commit.js';
import { conflictCheck, overwriteRows, type WriteOptions, writeCurrent } from './table-ops.js';
import type { IcebergType, NestedField, Schema, TableMetadata } from './types.js';
import { describeSql, sourceSql, type WriteSource } from './writer-sql.js';

/** A column of the query, as DuckDB's DESCRIBE reports it. */
export interface QueryColumn {
  name: string;
  type: string;
}

/** A type's shape without field ids or nested required flags (what a query can express). */
function shapeOf(type: IcebergType): unknown {
  if (isPrimitive(type)) return typeToString(type);
  if (type.type === 'struct') return type.fields.map((f) => [f.name, shapeOf(f.type)]);
  if (type.type === 'list') return ['list', shapeOf(type.element)];
  return ['map', shapeOf(type.key), shapeOf(type.value)];
}

const sameShape = (a: IcebergType, b: IcebergType) =>
  JSON.stringify(shapeOf(a)) === JSON.stringify(shapeOf(b));

const promotes = (from: IcebergType, to: IcebergType) =>
  isPrimitive(from) && isPrimitive(to) && isLegalPromotion(from, to);

/**
 * The schema of a table replaced by a query with these columns, in the query's order. A column
 * keeps its field (id, required flag, doc) when its name matches (exactly, else ignoring case)
 * and its type is the same or can be promoted to the table's (int stays long); a type that the
 * table's can be promoted to (int → long, float → double, decimal precision widening) keeps the
 * id with the wider type; any other type change gets a new field id, as do new names. Columns
 * not in the query are dropped. Identifier fields are kept when all of them are still there
 * under their ids, else the table no longer has identifier fields.
 * @throws InvalidInputError for a column type without an Iceberg equivalent.
 */
export function replacementSchema(
  current: Schema,
  lastColumnId: number,
  columns: readonly QueryColumn[],
): { schema: Schema; lastColumnId: number } {
  let last = Math.max(lastColumnId, highestFieldId(current));
  const next = () => ++last;
  const fields = columns.map((c): NestedField => {
    const old =
      current.fields.find((f) => f.name === c.name) ??
      current.fields.find((f) => f.name.toLowerCase() === c.name.toLowerCase());
    const untyped = c.type === 'NULL' || c.type === '"NULL"';
    if (old && untyped) return old;
    let type: IcebergType;
    try {
      type = duckdbToIcebergType(c.type, () => 0);
    } catch (err) {
      throw new InvalidInputError(
        `column "${c.name}" of the query has type ${c.type}, which an Iceberg table cannot store`,
        `cast it to a supported type in the query (${c.name}::VARCHAR, ...)`,
        { cause: err },
      );
    }
    if (old && (sameShape(old.type, type) || promotes(type, old.type))) return old;
    if (old && promotes(old.type, type)) return { ...old, type };
    const id = next();
    return { id, name: c.name, required: false, type: duckdbToIcebergType(c.type, next) };
  });
  const schema: Schema = { type: 'struct', 'schema-id': current['schema-id'] + 1, fields };
  const keys = current['identifier-field-ids'] ?? [];
  if (keys.length > 0 && keys.every((id) => findFieldById(schema, id)))
    schema['identifier-field-ids'] = [...keys];
  return { schema, lastColumnId: last };
}

/**
 * Refuse a schema that the table's default partition spec or sort order cannot use: a
 * partition or sort source column that the query drops or changes type incompatibly.
 */
function checkLayout(md: TableMetadata, schema: Schema, table: string): void {
  const old = currentSchema(md);
  const nameOf = (id: number) => findFieldById(old, id)?.name ?? `with id ${id}`;
  const hint =
    'keep the column (with the same type) in the query, or drop the table and create it again; dropping it also drops its history';
  const spec = defaultSpec(md);
  for (const f of spec.fields) {
    if (f.transform !== 'void' && !findFieldById(schema, f['source-id']))
      throw new InvalidInputError(
        `cannot replace ${table}: it is partitioned by column "${nameOf(f['source-id'])}", which the query drops or changes to an incompatible type`,
        hint,
      );
  }
  try {
    bindPartitionSpec(spec, schema);
  } catch (err) {
    throw new InvalidInputError(
      `cannot replace ${table}: its partitioning does not fit the query's columns: ${(err as Error).message}`,
      hint,
      { cause: err },
    );
  }
  for (const f of defaultSortOrder(md).fields) {
    if (!findFieldById(schema, f['source-id']))
      throw new InvalidInputError(
        `cannot replace ${table}: it is sorted by column "${nameOf(f['source-id'])}", which the query drops or changes to an incompatible type`,
        hint,
      );
  }
}

/**
 * Replace all rows with the source's and make the schema the source's columns, as one
 * snapshot. With unchanged columns this is `overwriteRows`; otherwise the new schema is added
 * and made current in the same commit as the snapshot, guarded by the current schema id and
 * last column id (a concurrent schema change makes it fail with ConflictError).
 * @throws InvalidInputError when the default partition spec or sort order uses a column the query drops.
 */
export async function replaceRows(
  ctx: TableContext,
  source: WriteSource,
  o: WriteOptions = {},
): Promise<CommitResult> {
  const md = ctx.loaded.metadata;
  const current = currentSchema(md);
  const columns = await ctx.duck.withConnection((c) => describeSql(c, sourceSql(source), o.signal), o);
  const next = replacementSchema(current, md['last-column-id'], columns);
  const described = { ...o, columns };
  if (schemasEquivalent(next.schema, current)) return overwriteRows(ctx, source, described);
  const table = [...ctx.id.namespace, ctx.id.name].join('.');
  checkLayout(md, next.schema, table);
  const spec = defaultSpec(md);
  // The files to replace are planned while the new ones are written.
  const [written, plan] = await Promise.all([
    ctx.duck.withConnection((c) => writeCurrent(c, ctx, source, described, next.schema), o),
    planScan(ctx.io, md, { resolvePaths: false, signal: o.signal }),
  ]);
  return commitSnapshot(ctx, {
    operation: plan.files.length === 0 ? 'append' : 'overwrite',
    added: written.files,
    schema: next.schema,
    newSchema: {
      lastColumnId: next.lastColumnId,
      baseSchemaId: md['current-schema-id'],
      baseLastColumnId: md['last-column-id'],
    },
    spec,
    removed: plan.files.map((f) => f.live),
    baseSnapshotId: md['current-snapshot-id'],
    properties: o.properties,
    validate: conflictCheck(md, [], false, 'overwrite'),
    signal: o.signal,
  });
}
