/**
 * Casting records to the sink table's schema in DuckDB. Columns whose type already matches
 * pass through; others are converted with TRY_CAST, and a row where a non-null value does not
 * convert (or a key column is null) gets a `__reason` naming every failed column, so it goes to
 * quarantine instead of failing the load.
 */
import { sqlString } from '../../duck/index.js';
import { type IcebergType, icebergToDuckdbType, quoteIdent, type Schema } from '../../table/index.js';
import { type DuckType, parseDuckType } from './duck-type.js';
import type { SourceColumn } from './schema.js';

/** The SQL pieces of one batch's cast. */
export interface CastPlan {
  /** `expr AS "col"` per table column, in schema order. */
  items: string[];
  /** SQL of the failure reason (NULL when the row is good), or undefined when no row can fail. */
  reason?: string;
  /** SQL of the original record as JSON text. */
  record: string;
}

const normal = (t: string) => t.replace(/\s+/g, '').toUpperCase();

const INTEGER = /^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|INT\d*)$/;

/** Whether a DuckDB type holds fractional numbers. */
export const isFractional = (duckType: string): boolean =>
  /^(DOUBLE|FLOAT|REAL|DECIMAL)/.test(normal(duckType));

/** A value's conversion: the SQL expression, and per nested path that can fail, SQL of its first failing value. */
interface Conversion {
  expr: string;
  /** SQL of whether a value at `path` does not convert, and of that value (as text). */
  fails: { path: string; target: string; failed: string; value: string }[];
}

/** The field named `name`, or else the one named so ignoring case. */
export const fieldOf = <T extends { name: string }>(fields: readonly T[], name: string): T | undefined =>
  fields.find((f) => f.name === name) ?? fields.find((f) => f.name.toLowerCase() === name.toLowerCase());

/** A failure inside the elements of list `list` (element variable `v`): its first failed value. */
function inList(list: string, v: string, f: Conversion['fails'][number]): Conversion['fails'][number] {
  const value = `list_filter(list_transform(${list}, ${v} -> CASE WHEN ${f.failed} THEN ${f.value} END), ${v} -> ${v} IS NOT NULL)[1]`;
  return { ...f, failed: `${value} IS NOT NULL`, value };
}

/**
 * Convert `e` (of DuckDB type `src`) to `target`. Structs are rebuilt field by field (fields
 * the table lacks are left out, fields the records lack are NULL), lists and map values
 * element by element, so a value that does not convert deep inside is found and named by its
 * path (`customer.tier`, `lines[].qty`) instead of silently becoming NULL.
 */
function convert(e: string, src: DuckType, target: IcebergType, path: string, depth: number): Conversion {
  const to = icebergToDuckdbType(target);
  if (normal(src.text) === normal(to)) return { expr: e, fails: [] };
  if (src.text === 'NULL' || src.text === '"NULL"') return { expr: `CAST(${e} AS ${to})`, fails: [] };
  if (typeof target === 'object' && target.type === 'struct' && src.kind === 'struct') {
    const fails: Conversion['fails'] = [];
    const parts = target.fields.map((f) => {
      const s = fieldOf(src.fields, f.name);
      if (!s) return `${quoteIdent(f.name)} := CAST(NULL AS ${icebergToDuckdbType(f.type)})`;
      const c = convert(
        `struct_extract(${e}, ${sqlString(s.name)})`,
        s.type,
        f.type,
        `${path}.${f.name}`,
        depth,
      );
      fails.push(...c.fails);
      return `${quoteIdent(f.name)} := ${c.expr}`;
    });
    return { expr: `CASE WHEN ${e} IS NULL THEN NULL ELSE struct_pack(${parts.join(', ')}) END`, fails };
  }
  if (typeof target === 'object' && target.type === 'list' && src.kind === 'list') {
    const v = `__e${depth}`;
    const c = convert(v, src.element, target.element, `${path}[]`, depth + 1);
    return {
      expr: `list_transform(${e}, ${v} -> ${c.expr})`,
      fails: c.fails.map((f) => inList(e, v, f)),
    };
  }
  if (typeof target === 'object' && target.type === 'map' && src.kind === 'map') {
    const v = `__e${depth}`;
    const k = convert(`struct_extract(${v}, 'key')`, src.key, target.key, `${path}.key`, depth + 1);
    const val = convert(`struct_extract(${v}, 'value')`, src.value, target.value, `${path}.value`, depth + 1);
    return {
      expr: `map_from_entries(list_transform(map_entries(${e}), ${v} -> struct_pack("key" := ${k.expr}, "value" := ${val.expr})))`,
      fails: [...k.fails, ...val.fails].map((f) => inList(`map_entries(${e})`, v, f)),
    };
  }
  // DuckDB rounds fractions when casting to an integer type: such values do not convert.
  const exact = isFractional(src.text) && INTEGER.test(normal(to));
  const expr = exact
    ? `CASE WHEN ${e} = trunc(${e}) THEN TRY_CAST(${e} AS ${to}) END`
    : `TRY_CAST(${e} AS ${to})`;
  return {
    expr,
    fails: [
      {
        path,
        target: to,
        failed: `${e} IS NOT NULL AND ${expr} IS NULL`,
        value: `CAST(${e} AS VARCHAR)`,
      },
    ],
  };
}

/** Plan the cast of `cols` (the records' columns, minus ignored ones) to `schema`. */
export function planCast(schema: Schema, cols: readonly SourceColumn[], key: readonly string[]): CastPlan {
  const items: string[] = [];
  const checks: string[] = [];
  for (const f of schema.fields) {
    const col = fieldOf(cols, f.name);
    const out = quoteIdent(f.name);
    if (!col) {
      items.push(`CAST(NULL AS ${icebergToDuckdbType(f.type)}) AS ${out}`);
      if (key.includes(f.name)) checks.push(`${sqlString(`key column "${f.name}" is missing`)}`);
      continue;
    }
    const src = quoteIdent(col.name);
    const c = convert(src, parseDuckType(col.type), f.type, f.name, 0);
    items.push(`${c.expr} AS ${out}`);
    for (const fail of c.fails) {
      checks.push(
        `CASE WHEN ${fail.failed} THEN ${sqlString(`column "${fail.path}": cannot convert `)} || left(${fail.value}, 80) || ${sqlString(` to ${fail.target}`)} END`,
      );
    }
    if (key.includes(f.name))
      checks.push(`CASE WHEN ${src} IS NULL THEN ${sqlString(`key column "${f.name}" is null`)} END`);
  }
  const record = cols.length
    ? `CAST(to_json(struct_pack(${cols.map((c) => `${quoteIdent(c.name)} := ${quoteIdent(c.name)}`).join(', ')})) AS VARCHAR)`
    : 'NULL';
  return {
    items,
    reason: checks.length ? `NULLIF(concat_ws('; ', ${checks.join(', ')}), '')` : undefined,
    record,
  };
}

/**
 * SQL of the cursor value of a column as text: timestamps as ISO 8601 UTC with milliseconds
 * (`2024-01-01T00:29:00.000Z`, truncated, so a later run re-reads rather than skips), dates as
 * `YYYY-MM-DD`, anything else as DuckDB's text.
 */
export function cursorTextSql(col: string, duckType: string): string {
  const t = duckType.toUpperCase();
  if (t.startsWith('TIMESTAMP WITH TIME ZONE') || t === 'TIMESTAMPTZ')
    return `strftime(timezone('UTC', max(${col})), '%Y-%m-%dT%H:%M:%S.%gZ')`;
  if (t.startsWith('TIMESTAMP')) return `strftime(max(${col}), '%Y-%m-%dT%H:%M:%S.%gZ')`;
  if (t === 'DATE') return `strftime(max(${col}), '%Y-%m-%d')`;
  return `CAST(max(${col}) AS VARCHAR)`;
}
