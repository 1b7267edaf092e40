import { SluiceError } from '../util/index.js';

/** A DuckDB statement failed: carries DuckDB's message and the first line of the SQL. */
export class QueryError extends SluiceError {
  constructor(
    message: string,
    readonly sqlLine: string,
    hint?: string,
    opts?: ErrorOptions,
  ) {
    super('query_failed', `${message}\n  in: ${sqlLine}`, hint, opts);
  }
}

/** A DuckDB statement was cancelled through its AbortSignal. */
export class QueryCancelledError extends SluiceError {
  constructor(sqlLine: string, opts?: ErrorOptions) {
    super('query_cancelled', `query cancelled\n  in: ${sqlLine}`, undefined, opts);
  }
}

/** The first non-empty line of a SQL text, shortened for messages. */
export function firstLine(sql: string): string {
  const line = sql.split('\n').find((l) => l.trim() !== '') ?? '';
  const t = line.trim();
  return t.length > 160 ? `${t.slice(0, 157)}...` : t;
}

const USER_ERRORS = /^(Binder|Parser|Conversion|Constraint|Invalid Input|Catalog|Out of Range) Error/;

/** Wrap a DuckDB error: user-caused errors (binding, parsing, conversions) become InvalidInputError-like QueryErrors. */
export function queryError(err: unknown, sql: string, signal?: AbortSignal): SluiceError {
  if (err instanceof SluiceError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const line = firstLine(sql);
  if (signal?.aborted || /^INTERRUPT Error/.test(message))
    return new QueryCancelledError(line, { cause: err });
  const hint = USER_ERRORS.test(message)
    ? 'check the column names and types used by the query'
    : /Out of Memory/i.test(message)
      ? 'raise the DuckDB memory limit or set a temp directory for spilling'
      : undefined;
  return new QueryError(message, line, hint, { cause: err });
}

/** Whether a QueryError was caused by the statement itself (binding, parsing, casting) rather than the engine. */
export function isUserQueryError(err: unknown): boolean {
  return err instanceof QueryError && USER_ERRORS.test(err.message);
}
