/**
 * PostgreSQL type OIDs (pg_type.dat) and the mapping of DuckDB result types onto them.
 */
import type { DuckDBType } from '@duckdb/node-api';
import { DuckDBTypeId } from '../../duck/node-api.js';

/** The OIDs this server sends or understands. */
export const OID = {
  bool: 16,
  bytea: 17,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  unknown: 705,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  timetz: 1266,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

/** Array type OID of each element type OID. */
export const ARRAY_OF: Record<number, number> = {
  [OID.bool]: 1000,
  [OID.bytea]: 1001,
  [OID.int2]: 1005,
  [OID.int4]: 1007,
  [OID.text]: 1009,
  [OID.varchar]: 1015,
  [OID.int8]: 1016,
  [OID.float4]: 1021,
  [OID.float8]: 1022,
  [OID.timestamp]: 1115,
  [OID.date]: 1182,
  [OID.time]: 1183,
  [OID.timestamptz]: 1185,
  [OID.interval]: 1187,
  [OID.numeric]: 1231,
  [OID.uuid]: 2951,
  [OID.json]: 199,
  [OID.jsonb]: 3807,
};

/** Element type OID of each array type OID. */
export const ELEMENT_OF: Record<number, number> = Object.fromEntries(
  Object.entries(ARRAY_OF).map(([elem, arr]) => [arr, Number(elem)]),
);

const TYPLEN: Record<number, number> = {
  [OID.bool]: 1,
  [OID.int2]: 2,
  [OID.int4]: 4,
  [OID.int8]: 8,
  [OID.float4]: 4,
  [OID.float8]: 8,
  [OID.date]: 4,
  [OID.time]: 8,
  [OID.timestamp]: 8,
  [OID.timestamptz]: 8,
  [OID.interval]: 16,
  [OID.uuid]: 16,
  [OID.oid]: 4,
};

/** How one result column is described in a RowDescription. */
export interface PgType {
  oid: number;
  /** pg_type.typlen: fixed size in bytes, -1 for variable length. */
  size: number;
  /** Type modifier (numeric precision/scale), -1 when none. */
  modifier: number;
}

/** The PostgreSQL type that carries a DuckDB type on the wire (text when nothing fits). */
export function pgTypeOf(type: DuckDBType): PgType {
  const oid = oidOf(type);
  let modifier = -1;
  if (type.typeId === DuckDBTypeId.DECIMAL) modifier = ((type.width << 16) | type.scale) + 4;
  return { oid, size: TYPLEN[oid] ?? -1, modifier };
}

/** The OID for a DuckDB type: scalars by kind, lists/arrays of mapped scalars as PostgreSQL arrays. */
export function oidOf(type: DuckDBType): number {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return OID.bool;
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.SMALLINT:
      return OID.int2;
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.INTEGER:
      return OID.int4;
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.BIGINT:
      return OID.int8;
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
    case DuckDBTypeId.DECIMAL:
      return OID.numeric;
    case DuckDBTypeId.FLOAT:
      return OID.float4;
    case DuckDBTypeId.DOUBLE:
      return OID.float8;
    case DuckDBTypeId.VARCHAR:
      return type.alias?.toUpperCase() === 'JSON' ? OID.json : OID.text;
    case DuckDBTypeId.BLOB:
      return OID.bytea;
    case DuckDBTypeId.DATE:
      return OID.date;
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_NS:
      return OID.time;
    case DuckDBTypeId.TIME_TZ:
      return OID.timetz;
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return OID.timestamp;
    case DuckDBTypeId.TIMESTAMP_TZ:
      return OID.timestamptz;
    case DuckDBTypeId.INTERVAL:
      return OID.interval;
    case DuckDBTypeId.UUID:
      return OID.uuid;
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const element = oidOf(type.valueType);
      return ARRAY_OF[element] ?? OID.text;
    }
    default:
      return OID.text;
  }
}
