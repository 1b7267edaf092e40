/**
 * Casting records to the sink table's schema in DuckDB. Columns whose type already matches
 * pass through; others are converted with TRY_CAST, and a row where a non-null value does not
 * convert (or a key column is null) gets a `__reason` naming every failed column, so it goes to
 * quarantine instead of failing the load.
 */
import { sqlString } from '../../duck/index.js';
import { icebergToDuckdbType, quoteIdent, type Schema } from '../../table/index.js';
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

/** Plan the cast of `cols` (the records' columns, minus ignored ones) to `schema`. */
export function planCast(schema: Schema, cols: readonly SourceColumn[], key: readonly string[]): CastPlan {
  const items: string[] = [];
  const checks: string[] = [];
  const used = new Set<string>();
  for (const f of schema.fields) {
    const col =
      cols.find((c) => c.name === f.name) ?? cols.find((c) => c.name.toLowerCase() === f.name.toLowerCase());
    const target = icebergToDuckdbType(f.type);
    const out = quoteIdent(f.name);
    if (!col) {
      items.push(`CAST(NULL AS ${target}) AS ${out}`);
      if (key.includes(f.name)) checks.push(`${sqlString(`key column "${f.name}" is missing`)}`);
      continue;
    }
    used.add(col.name);
    const src = quoteIdent(col.name);
    if (normal(col.type) === normal(target)) {
      items.push(`${src} AS ${out}`);
    } else if (col.type === 'NULL' || col.type === '"NULL"') {
      items.push(`CAST(${src} AS ${target}) AS ${out}`);
    } else {
      // DuckDB rounds fractions when casting to an integer type: such values do not convert.
      const exact = isFractional(col.type) && INTEGER.test(normal(target));
      const conv = exact
        ? `CASE WHEN ${src} = trunc(${src}) THEN TRY_CAST(${src} AS ${target}) END`
        : `TRY_CAST(${src} AS ${target})`;
      items.push(`${conv} AS ${out}`);
      const shown = `left(CAST(${src} AS VARCHAR), 80)`;
      checks.push(
        `CASE WHEN ${src} IS NOT NULL AND ${conv} IS NULL THEN ${sqlString(`column "${f.name}": cannot convert `)} || ${shown} || ${sqlString(` to ${target}`)} END`,
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
