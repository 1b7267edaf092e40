// Query engine: DuckDB over the lake's tables, sessions, limits, SQL writes of lake tables.

export { maskExpression } from './access.js';
export { planStatement, type StatementPlan } from './classify.js';
export { type EngineOptions, openEngine } from './engine.js';
export {
  engineError,
  QueryTimeoutError,
  QueueFullError,
  SqlCancelledError,
  SqlError,
  sqlStateOf,
} from './errors.js';
export { type ExportedFile, exportDir } from './export.js';
export { LAKE_VIEW_COMMENT, parseTimeTravel } from './lake.js';
export { splitStatements, type Token, tokenize } from './lexer.js';
export { type SqlTaskSpec, sqlTaskKind, sqlTaskSchema } from './sql-task.js';
export type {
  AccessHook,
  Engine,
  EngineSession,
  MaskMethod,
  PreparedShape,
  QueryResult,
  ResultColumn,
  RunOptions,
  SessionOptions,
  SessionUser,
  TableAccess,
} from './types.js';
export { type JsonValue, jsonRow, jsonValue } from './values.js';
