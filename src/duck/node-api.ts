/**
 * The values of @duckdb/node-api, loaded with require(). An ESM `import` of this CommonJS
 * package makes Node scan each of its ~40 files for export names before running them
 * (~200 ms of CPU on every start of `sluice sql`); require() runs them directly. The same
 * module instance either way, so `instanceof` holds against values imported elsewhere.
 * Types come from `import type { ... } from '@duckdb/node-api'`.
 */
import { createRequire } from 'node:module';
import type * as NodeApi from '@duckdb/node-api';

const api = createRequire(import.meta.url)('@duckdb/node-api') as typeof NodeApi;

export const {
  BIGINT,
  BLOB,
  DuckDBArrayValue,
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBIntervalValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBScalarFunction,
  DuckDBStructValue,
  DuckDBTimeNSValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeValue,
  DuckDBTypeId,
  INTEGER,
  StatementType,
  VARCHAR,
} = api;

export type DuckDBArrayValue = NodeApi.DuckDBArrayValue;
export type DuckDBBlobValue = NodeApi.DuckDBBlobValue;
export type DuckDBDateValue = NodeApi.DuckDBDateValue;
export type DuckDBDecimalValue = NodeApi.DuckDBDecimalValue;
export type DuckDBInstance = NodeApi.DuckDBInstance;
export type DuckDBIntervalValue = NodeApi.DuckDBIntervalValue;
export type DuckDBListValue = NodeApi.DuckDBListValue;
export type DuckDBMapValue = NodeApi.DuckDBMapValue;
export type DuckDBScalarFunction = NodeApi.DuckDBScalarFunction;
export type DuckDBStructValue = NodeApi.DuckDBStructValue;
export type DuckDBTimeNSValue = NodeApi.DuckDBTimeNSValue;
export type DuckDBTimestampMillisecondsValue = NodeApi.DuckDBTimestampMillisecondsValue;
export type DuckDBTimestampNanosecondsValue = NodeApi.DuckDBTimestampNanosecondsValue;
export type DuckDBTimestampSecondsValue = NodeApi.DuckDBTimestampSecondsValue;
export type DuckDBTimestampTZValue = NodeApi.DuckDBTimestampTZValue;
export type DuckDBTimestampValue = NodeApi.DuckDBTimestampValue;
export type DuckDBTimeValue = NodeApi.DuckDBTimeValue;
export type DuckDBTypeId = NodeApi.DuckDBTypeId;
