/**
 * PostgreSQL column types → lake column types. Values travel in PostgreSQL's text form (what
 * pgoutput and `::text` give) and are cast in DuckDB; types without an exact lake equivalent
 * (unconstrained numeric, json, enums, intervals, ...) stay text.
 */
import { quoteIdent } from '../../table/index.js';

/** A replicated column: its name and PostgreSQL type. */
export interface SourceColumn {
  name: string;
  typeOid: number;
  typmod: number;
}

const SCALARS: Record<number, string> = {
  16: 'BOOLEAN',
  20: 'BIGINT',
  21: 'INTEGER',
  23: 'INTEGER',
  700: 'FLOAT',
  701: 'DOUBLE',
  1082: 'DATE',
  1083: 'TIME',
  1114: 'TIMESTAMP',
  1184: 'TIMESTAMP WITH TIME ZONE',
  2950: 'UUID',
  17: 'BLOB',
};

/** Array type oid → element type oid, for the arrays of the scalar types above and of text. */
const ARRAYS: Record<number, number> = {
  1000: 16,
  1016: 20,
  1005: 21,
  1007: 23,
  1021: 700,
  1022: 701,
  1231: 1700,
  1009: 25,
  1015: 1043,
  2951: 2950,
  1182: 1082,
  1115: 1114,
  1185: 1184,
};

function scalarType(typeOid: number, typmod: number): string {
  if (typeOid === 1700) {
    if (typmod < 4) return 'VARCHAR';
    const precision = ((typmod - 4) >> 16) & 0xffff;
    const scale = (typmod - 4) & 0xffff;
    return precision <= 38 && scale <= precision ? `DECIMAL(${precision},${scale})` : 'VARCHAR';
  }
  return SCALARS[typeOid] ?? 'VARCHAR';
}

/** The DuckDB type a PostgreSQL column is stored as. */
export function duckTypeOf(c: Pick<SourceColumn, 'typeOid' | 'typmod'>): string {
  const element = ARRAYS[c.typeOid];
  if (element === undefined) return scalarType(c.typeOid, c.typmod);
  const inner = scalarType(element, c.typmod);
  return inner === 'BLOB' ? 'VARCHAR' : `${inner}[]`;
}

/** DuckDB SQL converting the text form `expr` of a PostgreSQL value to `duckType`. */
export function castFromText(expr: string, duckType: string): string {
  if (duckType === 'VARCHAR') return expr;
  if (duckType === 'BLOB') return `from_hex(substr(${expr}, 3))`;
  if (duckType.endsWith('[]'))
    return `CAST('[' || substr(${expr}, 2, length(${expr}) - 2) || ']' AS ${duckType})`;
  return `CAST(${expr} AS ${duckType})`;
}

/** DuckDB SELECT list turning the text array column `arrayCol` into typed, named columns. */
export function typedColumns(columns: readonly SourceColumn[], arrayCol: string): string {
  return columns
    .map((c, i) => `${castFromText(`${arrayCol}[${i + 1}]`, duckTypeOf(c))} AS ${quoteIdent(c.name)}`)
    .join(', ');
}

/** PostgreSQL SQL quoting an identifier. */
export function pgIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
