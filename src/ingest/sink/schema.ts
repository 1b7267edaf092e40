/**
 * The sink table's schema: built from the records' columns (DuckDB's inferred types, or the
 * declared ones) on the first run, and evolved on later runs by the drift policy.
 */
import type { DuckConnection } from '../../duck/index.js';
import {
  canonicalPrimitive,
  describeSql,
  duckdbToIcebergType,
  type IcebergType,
  icebergToDuckdbType,
  isLegalPromotion,
  isPrimitive,
  type PrimitiveType,
  parseTransform,
  type Schema,
  type SchemaChange,
  type SortField,
  type StructType,
  type UnboundPartitionField,
} from '../../table/index.js';
import { InvalidInputError } from '../../util/index.js';
import { LINEAGE_COLUMNS } from '../processors/types.js';
import type { SinkSpec } from '../spec.js';
import { isFractional } from './cast.js';

const typeText = (t: IcebergType): string => (typeof t === 'string' ? t : t.type);

/** A column of the records as DuckDB describes it. */
export interface SourceColumn {
  name: string;
  /** DuckDB type name. */
  type: string;
}

const LINEAGE = new Set<string>(LINEAGE_COLUMNS);

/** The record columns of a query (lineage columns left out). */
export async function recordColumns(
  conn: DuckConnection,
  sql: string,
  signal?: AbortSignal,
): Promise<SourceColumn[]> {
  return (await describeSql(conn, sql, signal)).filter((c) => !LINEAGE.has(c.name));
}

/** Iceberg type of a declared type: an Iceberg name (`long`, `decimal(12,2)`) or a DuckDB one (`BIGINT`). */
export function declaredType(text: string, where: string): IcebergType {
  try {
    return canonicalPrimitive(text.trim().toLowerCase());
  } catch {}
  try {
    return duckdbToIcebergType(text.trim().toUpperCase());
  } catch (err) {
    throw new InvalidInputError(
      `${where}: unknown type "${text}"`,
      'use an Iceberg type (long, string, decimal(12,2), timestamptz) or a DuckDB one',
      {
        cause: err,
      },
    );
  }
}

/** Iceberg type of an inferred DuckDB column type; all-NULL and JSON columns become strings. */
export function inferredType(col: SourceColumn): IcebergType {
  if (col.type === 'NULL' || col.type === '"NULL"' || col.type === 'JSON') return 'string';
  try {
    return duckdbToIcebergType(
      col.type.replace(/\bJSON\b/g, 'VARCHAR').replace(/"NULL"|\bNULL\b/g, 'VARCHAR'),
    );
  } catch (err) {
    throw new InvalidInputError(
      `column "${col.name}" has type ${col.type}, which a table cannot hold`,
      'declare its type in sink.schema',
      {
        cause: err,
      },
    );
  }
}

function typeFor(col: SourceColumn, sink: SinkSpec): IcebergType {
  const declared = sink.schema?.[col.name];
  return declared ? declaredType(declared, `sink.schema.${col.name}`) : inferredType(col);
}

/** The schema of a new sink table (ids are placeholders; the catalog assigns fresh ones). Key columns are required. */
export function newTableSchema(
  cols: readonly SourceColumn[],
  sink: SinkSpec,
): StructType & { 'identifier-field-ids'?: number[] } {
  const all = [...cols];
  for (const name of Object.keys(sink.schema ?? {}))
    if (!all.some((c) => c.name === name)) all.push({ name, type: 'NULL' });
  if (all.length === 0)
    throw new InvalidInputError('the records have no columns to create the sink table from');
  const keys = new Set(sink.key ?? []);
  const fields = all.map((c, i) => ({ id: i + 1, name: c.name, required: false, type: typeFor(c, sink) }));
  for (const k of keys)
    if (!fields.some((f) => f.name === k))
      throw new InvalidInputError(
        `key column "${k}" is not among the record columns`,
        `columns: ${fields.map((f) => f.name).join(', ')}`,
      );
  return { type: 'struct', fields };
}

/** `country`, `day(created_at)`, `bucket(16, id)`, `truncate(4, name)` → an unbound partition field. */
export function partitionFieldOf(expr: string, schema: StructType): UnboundPartitionField {
  const m = /^\s*(?:(\w+)\s*\(\s*(?:(\d+)\s*,\s*)?([\w]+)\s*\)|([\w]+))\s*$/.exec(expr);
  if (!m)
    throw new InvalidInputError(
      `sink.partition_by: cannot read "${expr}"`,
      'write a column or transform(column), e.g. day(created_at)',
    );
  const column = (m[3] ?? m[4]) as string;
  const fn = (m[1] ?? 'identity').toLowerCase();
  const transform = m[2] !== undefined ? `${fn}[${m[2]}]` : fn;
  parseTransform(transform);
  const field = schema.fields.find((f) => f.name === column);
  if (!field)
    throw new InvalidInputError(
      `sink.partition_by: unknown column "${column}"`,
      `columns: ${schema.fields.map((f) => f.name).join(', ')}`,
    );
  const kind = parseTransform(transform).kind;
  const name = kind === 'identity' ? column : kind === 'truncate' ? `${column}_trunc` : `${column}_${kind}`;
  return { 'source-id': field.id, transform, name };
}

/** Sort fields of the sink's `sort_by` (ascending, nulls first). */
export function sortFieldsOf(columns: readonly string[], schema: StructType): SortField[] {
  return columns.map((name) => {
    const field = schema.fields.find((f) => f.name === name);
    if (!field) throw new InvalidInputError(`sink.sort_by: unknown column "${name}"`);
    return { transform: 'identity', 'source-id': field.id, direction: 'asc', 'null-order': 'nulls-first' };
  });
}

/** What the drift policy decided for a batch. */
export interface DriftPlan {
  /** Schema changes to commit before writing (policy `evolve`). */
  changes: SchemaChange[];
  /** Record columns left out of the write (policy `ignore`). */
  ignored: string[];
}

/**
 * Compare the records' columns with the table: new columns are added (evolve), refused (fail)
 * or left out (ignore); a column whose records are wider (int → long, float → double) is
 * widened (evolve) — other type differences are cast, and rows that do not cast are quarantined.
 * @throws InvalidInputError under policy `fail`, naming the columns.
 */
export function planDrift(table: Schema, cols: readonly SourceColumn[], sink: SinkSpec): DriftPlan {
  const changes: SchemaChange[] = [];
  const ignored: string[] = [];
  const problems: string[] = [];
  for (const col of cols) {
    const field =
      table.fields.find((f) => f.name === col.name) ??
      table.fields.find((f) => f.name.toLowerCase() === col.name.toLowerCase());
    if (!field) {
      if (sink.schema_drift === 'ignore') ignored.push(col.name);
      else if (sink.schema_drift === 'fail') problems.push(`new column "${col.name}" (${col.type})`);
      else changes.push({ op: 'add-column', name: col.name, type: typeFor(col, sink) });
      continue;
    }
    if (!isPrimitive(field.type) || sink.schema?.[col.name]) continue;
    let incoming: IcebergType;
    try {
      incoming = inferredType(col);
    } catch {
      continue;
    }
    if ((field.type === 'int' || field.type === 'long') && isFractional(col.type)) {
      // No legal promotion exists (Iceberg has no long → double): values with a fraction are
      // quarantined by the cast, or refused here under `fail`.
      if (sink.schema_drift === 'fail')
        problems.push(
          `column "${field.name}" holds fractional numbers (${col.type}) but the table has ${field.type}`,
        );
      continue;
    }
    if (
      isPrimitive(incoming) &&
      incoming !== field.type &&
      isLegalPromotion(field.type, incoming as PrimitiveType)
    ) {
      if (sink.schema_drift === 'evolve')
        changes.push({ op: 'update-type', name: field.name, type: incoming as PrimitiveType });
      else if (sink.schema_drift === 'fail')
        problems.push(`column "${field.name}" widens from ${typeText(field.type)} to ${typeText(incoming)}`);
    }
  }
  if (problems.length > 0)
    throw new InvalidInputError(
      `the records do not match table ${sink.table} (schema_drift: fail): ${problems.join('; ')}`,
      'set sink.schema_drift to evolve, or change the table first',
    );
  return { changes, ignored };
}

/** DuckDB type of a table column. */
export const duckTypeOf = (t: IcebergType): string => icebergToDuckdbType(t);
