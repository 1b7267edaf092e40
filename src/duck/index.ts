// DuckDB: the process's in-memory engine (connection pool, Iceberg bucket UDFs, errors).
export {
  Duck,
  type DuckConnection,
  type DuckOptions,
  openDuck,
  type QueryOptions,
  type Row,
  type SqlParams,
} from './duck.js';
export { firstLine, isUserQueryError, QueryCancelledError, QueryError } from './errors.js';
export { sqlString, sqlStringList } from './sql.js';
export { registerBucketUdfs } from './udfs.js';
