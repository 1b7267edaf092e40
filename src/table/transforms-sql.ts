/**
 * DuckDB SQL for partition transforms, so the write path computes partition values inside
 * DuckDB. Each expression yields exactly what `applyTransform` yields (tested side by side):
 * INTEGER for bucket/year/month/day/hour (day = days from 1970-01-01), the source type for
 * identity/truncate/void. Time transforms floor toward negative infinity and read
 * TIMESTAMPTZ values as UTC whatever the session time zone.
 *
 * Bucket needs Murmur3, which DuckDB lacks: the engine registers the scalar UDFs listed in
 * `BUCKET_UDFS` (all return INTEGER and are deterministic). DuckDB passes NULLs to JS UDFs, so
 * `compute` returns null when any argument is null and the adapter must write that null:
 *   iceberg_bucket_long(v BIGINT, n INTEGER)     int, long, date (days), time and timestamps (micros)
 *   iceberg_bucket_string(v VARCHAR, n INTEGER)  UTF-8 bytes of the string
 *   iceberg_bucket_binary(v BLOB, n INTEGER)     binary, fixed, and uuid as 16 big-endian bytes
 *   iceberg_bucket_decimal(v VARCHAR, scale INTEGER, n INTEGER)  decimal text at the column's scale
 */
import { InvalidInputError } from '../util/index.js';
import { formatDecimal, parseDecimal } from './decimal.js';
import { icebergToDuckdbType } from './duckdb-types.js';
import { hashDecimal, hashLong, hashString, murmur3Hash32 } from './murmur3.js';
import { decimalParams, parsePrimitive } from './primitives.js';
import {
  bucketOfHash,
  parseTransform,
  type Transform,
  transformResultType,
  transformToString,
} from './transforms.js';
import type { PrimitiveType } from './types.js';

/** A scalar UDF the engine must register for bucket transforms. */
export interface BucketUdf {
  name: string;
  /** DuckDB parameter type names, in order. */
  parameterTypes: string[];
  returnType: 'INTEGER';
  /** One result, null when an argument is null; arguments are JS values (bigint/number, string, Uint8Array). */
  compute(...args: unknown[]): number | null;
}

const toBucketCount = (n: unknown) => Number(n);

function nullSafe(fn: (...args: unknown[]) => number): (...args: unknown[]) => number | null {
  return (...args) => (args.some((a) => a === null || a === undefined) ? null : fn(...args));
}

/** The UDFs used by bucket expressions; register each under its name. */
export const BUCKET_UDFS: readonly BucketUdf[] = [
  {
    name: 'iceberg_bucket_long',
    parameterTypes: ['BIGINT', 'INTEGER'],
    returnType: 'INTEGER',
    compute: nullSafe((v, n) => bucketOfHash(hashLong(v as bigint | number), toBucketCount(n))),
  },
  {
    name: 'iceberg_bucket_string',
    parameterTypes: ['VARCHAR', 'INTEGER'],
    returnType: 'INTEGER',
    compute: nullSafe((v, n) => bucketOfHash(hashString(v as string), toBucketCount(n))),
  },
  {
    name: 'iceberg_bucket_binary',
    parameterTypes: ['BLOB', 'INTEGER'],
    returnType: 'INTEGER',
    compute: nullSafe((v, n) => bucketOfHash(murmur3Hash32(v as Uint8Array), toBucketCount(n))),
  },
  {
    name: 'iceberg_bucket_decimal',
    parameterTypes: ['VARCHAR', 'INTEGER', 'INTEGER'],
    returnType: 'INTEGER',
    compute: nullSafe((v, scale, n) =>
      bucketOfHash(hashDecimal(parseDecimal(v as string, Number(scale))), toBucketCount(n)),
    ),
  },
];

/** Exact floor division of a BIGINT expression by a positive constant. */
function floorDivSql(a: string, b: bigint): string {
  return `((${a} - (((${a} % ${b}) + ${b}) % ${b})) // ${b})`;
}

function epochMicrosSql(col: string): string {
  return `epoch_us(${col})`;
}

/** The column as a TIMESTAMP/DATE whose calendar fields are UTC. */
function utcCalendarSql(col: string, kind: string): string {
  return kind === 'timestamptz' ? `make_timestamp(epoch_us(${col}))` : col;
}

function bucketSql(col: string, kind: string, n: number, type: PrimitiveType): string {
  switch (kind) {
    case 'int':
    case 'long':
      return `iceberg_bucket_long(CAST(${col} AS BIGINT), ${n})`;
    case 'date':
      return `iceberg_bucket_long(CAST(${col} - DATE '1970-01-01' AS BIGINT), ${n})`;
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return `iceberg_bucket_long(${epochMicrosSql(col)}, ${n})`;
    case 'string':
      return `iceberg_bucket_string(${col}, ${n})`;
    case 'uuid':
      return `iceberg_bucket_binary(unhex(replace(CAST(${col} AS VARCHAR), '-', '')), ${n})`;
    case 'fixed':
    case 'binary':
      return `iceberg_bucket_binary(${col}, ${n})`;
    case 'decimal':
      return `iceberg_bucket_decimal(CAST(${col} AS VARCHAR), ${decimalParams(type).scale}, ${n})`;
    default:
      throw new InvalidInputError(`bucket cannot be applied to ${type}`);
  }
}

function truncateSql(col: string, kind: string, w: number, type: PrimitiveType): string {
  switch (kind) {
    case 'int':
    case 'long':
      return `(${col} - (((${col} % ${w}) + ${w}) % ${w}))`;
    case 'decimal': {
      const { scale } = decimalParams(type);
      const sqlType = icebergToDuckdbType(type);
      const width = `CAST('${formatDecimal(BigInt(w), scale)}' AS DECIMAL(38,${scale}))`;
      return `CAST(${col} - (((${col} % ${width}) + ${width}) % ${width}) AS ${sqlType})`;
    }
    case 'string':
      return `substring(${col}, 1, ${w})`;
    default:
      return `${col}[1:${w}]`;
  }
}

/**
 * DuckDB SQL computing a transform over a column expression (`columnSql` is inserted
 * verbatim, so pass a quoted identifier). Bucket expressions call the `BUCKET_UDFS`.
 * @throws InvalidInputError when the transform does not apply to the source type.
 */
export function transformSqlExpr(
  transform: Transform | string,
  columnSql: string,
  sourceType: PrimitiveType,
): string {
  const t = typeof transform === 'string' ? parseTransform(transform) : transform;
  const resultType = transformResultType(t, sourceType);
  const kind = parsePrimitive(sourceType).kind;
  const col = `(${columnSql})`;
  switch (t.kind) {
    case 'identity':
      return col;
    case 'void':
      return `CAST(NULL AS ${icebergToDuckdbType(resultType)})`;
    case 'bucket':
      return bucketSql(col, kind, t.n, sourceType);
    case 'truncate':
      return truncateSql(col, kind, t.width, sourceType);
    case 'year':
      return `CAST(year(${utcCalendarSql(col, kind)}) - 1970 AS INTEGER)`;
    case 'month': {
      const c = utcCalendarSql(col, kind);
      return `CAST((year(${c}) - 1970) * 12 + month(${c}) - 1 AS INTEGER)`;
    }
    case 'day':
      if (kind === 'date') return `CAST(${col} - DATE '1970-01-01' AS INTEGER)`;
      return `CAST(${floorDivSql(epochMicrosSql(col), 86_400_000_000n)} AS INTEGER)`;
    case 'hour':
      return `CAST(${floorDivSql(epochMicrosSql(col), 3_600_000_000n)} AS INTEGER)`;
    default:
      throw new InvalidInputError(`cannot compute unknown transform "${transformToString(t)}" in SQL`);
  }
}

/**
 * Like `transformSqlExpr`, but the result is in the in-memory representation of the result
 * type (see `PrimitiveValue`) as far as SQL can express it: dates as INTEGER days, times and
 * timestamps as BIGINT microseconds, uuids as VARCHAR. Decimals stay DECIMAL (DuckDB returns
 * the unscaled value), binary stays BLOB.
 */
export function partitionValueSqlExpr(
  transform: Transform | string,
  columnSql: string,
  sourceType: PrimitiveType,
): string {
  const expr = transformSqlExpr(transform, columnSql, sourceType);
  const resultKind = parsePrimitive(transformResultType(transform, sourceType)).kind;
  const t = typeof transform === 'string' ? parseTransform(transform) : transform;
  if (t.kind === 'day' || t.kind === 'void') return expr;
  switch (resultKind) {
    case 'date':
      return `CAST(${expr} - DATE '1970-01-01' AS INTEGER)`;
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return epochMicrosSql(expr);
    case 'uuid':
      return `CAST(${expr} AS VARCHAR)`;
    default:
      return expr;
  }
}
