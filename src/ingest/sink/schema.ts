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
import { fieldOf, isFractional } from './cast.js';
import { type DuckType, parseDuckType } from './duck-type.js';

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
  /** Record columns left out of the write (policy `ignore`; new fields of nested columns are left out by the cast). */
  ignored: string[];
}

/** One comparison of record types with table types, collecting changes and problems. */
class Drift {
  readonly changes: SchemaChange[] = [];
  readonly problems: string[] = [];
  constructor(readonly sink: SinkSpec) {}

  /** A field of the records missing from a struct of the table (at `parent`, shown as `path`). */
  added(parent: string[], name: string, path: string, duckType: string): void {
    if (this.sink.schema_drift === 'fail') this.problems.push(`new column "${path}" (${duckType})`);
    else if (this.sink.schema_drift === 'evolve')
      this.changes.push({
        op: 'add-column',
        ...(parent.length ? { parent } : {}),
        name,
        type: inferredType({ name: path, type: duckType }),
      });
  }

  /**
   * Compare a record value type with the table type at `name` (full path), shown as `path`:
   * new struct fields are added, wider primitives widened, down through structs, list
   * elements and map values.
   */
  compare(table: IcebergType, src: DuckType, name: string[], path: string): void {
    if (!isPrimitive(table)) {
      if (table.type === 'struct' && src.kind === 'struct') {
        for (const f of src.fields) {
          const field = fieldOf(table.fields, f.name);
          if (field) this.compare(field.type, f.type, [...name, field.name], `${path}.${field.name}`);
          else this.added(name, f.name, `${path}.${f.name}`, f.type.text);
        }
      } else if (table.type === 'list' && src.kind === 'list') {
        this.compare(table.element, src.element, [...name, 'element'], `${path}[]`);
      } else if (table.type === 'map' && src.kind === 'map') {
        this.compare(table.value, src.value, [...name, 'value'], `${path}.value`);
      }
      return;
    }
    let incoming: IcebergType;
    try {
      incoming = inferredType({ name: path, type: src.text });
    } catch {
      return;
    }
    if ((table === 'int' || table === 'long') && isFractional(src.text)) {
      // No legal promotion exists (Iceberg has no long → double): values with a fraction are
      // quarantined by the cast, or refused here under `fail`.
      if (this.sink.schema_drift === 'fail')
        this.problems.push(
          `column "${path}" holds fractional numbers (${src.text}) but the table has ${table}`,
        );
      return;
    }
    if (isPrimitive(incoming) && incoming !== table && isLegalPromotion(table, incoming as PrimitiveType)) {
      if (this.sink.schema_drift === 'evolve')
        this.changes.push({
          op: 'update-type',
          name: name.length === 1 ? (name[0] as string) : name,
          type: incoming as PrimitiveType,
        });
      else if (this.sink.schema_drift === 'fail')
        this.problems.push(`column "${path}" widens from ${typeText(table)} to ${typeText(incoming)}`);
    }
  }
}

/**
 * Compare the records' columns with the table: new columns, and new fields of struct columns
 * (also inside lists and map values), are added (evolve), refused (fail) or left out (ignore);
 * a column or nested field whose records are wider (int → long, float → double, decimal
 * precision) is widened (evolve) — other type differences are cast, and rows that do not cast
 * are quarantined.
 * @throws InvalidInputError under policy `fail`, naming the columns by path (`customer.tier`, `lines[].qty`).
 */
export function planDrift(table: Schema, cols: readonly SourceColumn[], sink: SinkSpec): DriftPlan {
  const drift = new Drift(sink);
  const ignored: string[] = [];
  for (const col of cols) {
    const field = fieldOf(table.fields, col.name);
    if (!field) {
      if (sink.schema_drift === 'ignore') ignored.push(col.name);
      else if (sink.schema_drift === 'fail') drift.problems.push(`new column "${col.name}" (${col.type})`);
      else drift.changes.push({ op: 'add-column', name: col.name, type: typeFor(col, sink) });
      continue;
    }
    if (sink.schema?.[col.name]) continue;
    drift.compare(field.type, parseDuckType(col.type), [field.name], field.name);
  }
  if (drift.problems.length > 0)
    throw new InvalidInputError(
      `the records do not match table ${sink.table} (schema_drift: fail): ${drift.problems.join('; ')}`,
      'set sink.schema_drift to evolve, or change the table first',
    );
  return { changes: drift.changes, ignored };
}

/** DuckDB type of a table column. */
export const duckTypeOf = (t: IcebergType): string => icebergToDuckdbType(t);
