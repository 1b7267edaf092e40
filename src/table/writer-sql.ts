/**
 * SQL of the write path: the source of rows, the cast of its columns to the table schema
 * (by name, with type checks that reject lossy or meaningless conversions), and the
 * partition value expressions.
 */
import type { DuckConnection } from '../duck/index.js';
import { sqlStringList } from '../duck/index.js';
import { InvalidInputError } from '../util/index.js';
import { duckdbToIcebergType, icebergToDuckdbType, quoteIdent } from './duckdb-types.js';
import { bindPartitionSpec } from './partition.js';
import { isPrimitive, parsePrimitive, typeToString } from './primitives.js';
import { indexById } from './schema.js';
import { partitionValueSqlExpr } from './transforms-sql.js';
import type {
  IcebergType,
  PartitionSpec,
  PrimitiveType,
  PrimitiveValue,
  Schema,
  StructType,
} from './types.js';
import { coerceValue } from './values.js';

/**
 * Refuse a schema with `fixed[n]` columns for writing: the spec stores them as Parquet
 * FIXED_LEN_BYTE_ARRAY, which DuckDB cannot write (it writes BLOB as BYTE_ARRAY, and
 * FIXED_LEN_BYTE_ARRAY only for UUID and wide decimals, with those logical types). Files
 * with the wrong physical type would break other readers, so Sluice writes none; tables with
 * fixed columns written by other engines are still read.
 * @throws InvalidInputError naming the first fixed column.
 */
export function assertWritableSchema(schema: StructType, what = 'write to this table'): void {
  const walk = (type: IcebergType, path: string): void => {
    if (isPrimitive(type)) {
      if (parsePrimitive(type).kind === 'fixed')
        throw new InvalidInputError(
          `cannot ${what}: column "${path}" is ${type}, which Parquet files must store as FIXED_LEN_BYTE_ARRAY, and DuckDB, which writes Sluice's data files, cannot write that type`,
          'use binary instead of fixed; tables with fixed columns written by other engines can still be read',
        );
      return;
    }
    if (type.type === 'struct') for (const f of type.fields) walk(f.type, `${path}.${f.name}`);
    else if (type.type === 'list') walk(type.element, `${path}.element`);
    else {
      walk(type.key, `${path}.key`);
      walk(type.value, `${path}.value`);
    }
  };
  for (const f of schema.fields) walk(f.type, f.name);
}

/** Rows to write: a DuckDB SELECT, local files (Parquet, CSV or JSON by extension), or a view/table name. */
export type WriteSource = string | { sql: string } | { files: string[] } | { view: string };

/** The SELECT producing a source's rows. */
export function sourceSql(source: WriteSource): string {
  if (typeof source === 'string') return source;
  if ('sql' in source) return source.sql;
  if ('view' in source) return `SELECT * FROM ${quoteIdent(source.view)}`;
  const files = source.files;
  if (files.length === 0) throw new InvalidInputError('no files to write');
  const ext = /\.([a-z]+)(\.gz|\.zst)?$/i.exec(files[0] ?? '')?.[1]?.toLowerCase();
  const reader =
    ext === 'csv' || ext === 'tsv'
      ? 'read_csv'
      : ext === 'json' || ext === 'ndjson'
        ? 'read_json'
        : 'read_parquet';
  return `SELECT * FROM ${reader}(${sqlStringList(files)})`;
}

/**
 * Whether values of `from` can be stored in a column of type `to` without losing meaning:
 * equal types, integers of any width (range-checked by the cast), floats of either width,
 * widening numbers,
 * date → timestamp. Strings never convert implicitly.
 */
export function assignable(from: IcebergType, to: IcebergType): boolean {
  if (!isPrimitive(from) || !isPrimitive(to)) {
    if (isPrimitive(from) || isPrimitive(to)) return false;
    return from.type === to.type;
  }
  const a = parsePrimitive(from);
  const b = parsePrimitive(to);
  if (typeToString(from) === typeToString(to)) return true;
  if (a.kind === 'int' || a.kind === 'long') {
    // Narrowing is checked by DuckDB's cast: out-of-range values fail, nothing is silently lost.
    if (b.kind === 'int' || b.kind === 'long') return true;
    if (b.kind === 'float' || b.kind === 'double') return true;
    if (b.kind === 'decimal') return b.precision - b.scale >= (a.kind === 'int' ? 10 : 19);
    return false;
  }
  if (a.kind === 'float' || a.kind === 'double') return b.kind === 'float' || b.kind === 'double';
  if (a.kind === 'decimal') {
    if (b.kind === 'float' || b.kind === 'double') return true;
    return b.kind === 'decimal' && b.scale >= a.scale && b.precision - b.scale >= a.precision - a.scale;
  }
  if (a.kind === 'date') return b.kind === 'timestamp' || b.kind === 'timestamptz';
  if (a.kind === 'binary') return b.kind === 'fixed';
  return false;
}

/** A source column as DESCRIBE reports it. */
export interface SourceColumn {
  name: string;
  type: string;
}

/** Columns of a query, without running it. @throws QueryError when it does not bind */
export async function describeSql(
  conn: DuckConnection,
  sql: string,
  signal?: AbortSignal,
): Promise<SourceColumn[]> {
  // Binding the query alone costs half of running DESCRIBE over it.
  const bound = await conn.columns(sql, { signal });
  if (bound) return bound;
  const rows = await conn.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sql}`, undefined, {
    signal,
  });
  return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
}

/**
 * `SELECT CAST(col AS type) AS col, ...` over the source, in schema order, matching source
 * columns by name (exact, then case-insensitive). Missing optional columns become NULL.
 * @throws InvalidInputError for a missing required column, an extra column, or a type that does not fit.
 */
export function castSelect(schema: Schema, columns: readonly SourceColumn[], inner: string): string {
  const used = new Set<string>();
  const items = schema.fields.map((f) => {
    const col =
      columns.find((c) => c.name === f.name) ??
      columns.find((c) => c.name.toLowerCase() === f.name.toLowerCase());
    const target = icebergToDuckdbType(f.type);
    if (!col) {
      if (f.required)
        throw new InvalidInputError(
          `required column "${f.name}" is missing from the rows to write`,
          `select a value for "${f.name}" (${typeToString(f.type)})`,
        );
      return `CAST(NULL AS ${target}) AS ${quoteIdent(f.name)}`;
    }
    used.add(col.name);
    if (col.type !== '"NULL"' && col.type !== 'NULL') {
      let from: IcebergType | undefined;
      try {
        from = duckdbToIcebergType(col.type);
      } catch {
        from = undefined;
      }
      if (!from || !assignable(from, f.type)) {
        throw new InvalidInputError(
          `column "${f.name}" is ${typeToString(f.type)} in the table, but the rows to write have ${col.type}`,
          `cast it in the query: CAST(${quoteIdent(col.name)} AS ${target})`,
        );
      }
    }
    return `CAST(${quoteIdent(col.name)} AS ${target}) AS ${quoteIdent(f.name)}`;
  });
  const extra = columns.filter((c) => !used.has(c.name));
  if (extra.length > 0) {
    throw new InvalidInputError(
      `column${extra.length > 1 ? 's' : ''} ${extra.map((c) => `"${c.name}"`).join(', ')} of the rows to write ${extra.length > 1 ? 'are' : 'is'} not in the table schema`,
      'add the column to the table first (schema evolution), or leave it out of the query',
    );
  }
  return `SELECT ${items.join(', ')} FROM (${inner}) AS __source`;
}

/** A partition column of the write: its SQL name, the expression, and how to read DuckDB's text of it back. */
export interface PartitionColumn {
  sqlName: string;
  fieldName: string;
  expr: string;
  resultType: PrimitiveType;
}

/** Partition value expressions over the cast columns; binary values travel as hex text. */
export function partitionColumns(spec: PartitionSpec, schema: Schema): PartitionColumn[] {
  return bindPartitionSpec(spec, schema).map((b, i) => {
    const path = indexById(schema).get(b.field['source-id'])?.path;
    const col = path ? path.map(quoteIdent).join('.') : 'NULL';
    let expr = partitionValueSqlExpr(b.transform, col, b.sourceType);
    const kind = parsePrimitive(b.resultType).kind;
    if (kind === 'binary' || kind === 'fixed') expr = `hex(${expr})`;
    return { sqlName: `__p${i}`, fieldName: b.field.name, expr, resultType: b.resultType };
  });
}

/** A partition value from the text DuckDB reports for a partition column (null stays null). */
export function partitionValueFromText(
  type: PrimitiveType,
  text: string | null | undefined,
): PrimitiveValue | null {
  if (text === null || text === undefined) return null;
  switch (parsePrimitive(type).kind) {
    case 'boolean':
      return text === 'true';
    case 'int':
    case 'date':
      return Number(text);
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return BigInt(text);
    case 'float':
    case 'double':
      return text === 'inf' ? Infinity : text === '-inf' ? -Infinity : Number(text);
    case 'binary':
    case 'fixed':
      return Buffer.from(text, 'hex');
    default:
      return coerceValue(type, text);
  }
}
