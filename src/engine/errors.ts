/**
 * Errors of SQL statements, each with the SQLSTATE the PostgreSQL wire protocol reports and,
 * where DuckDB gives one, the character position in the statement.
 */
import { firstLine, QueryCancelledError, QueryError } from '../duck/index.js';
import { errorMessage, PermissionError, SluiceError } from '../util/index.js';

/** A statement failed in the engine: syntax, unknown names, types, limits. */
export class SqlError extends QueryError {
  constructor(
    message: string,
    sql: string,
    /** SQLSTATE, e.g. 42601 syntax error, 42P01 undefined table, 42703 undefined column. */
    readonly sqlState: string,
    /** 0-based character offset in the statement, when known. */
    readonly position?: number,
    hint?: string,
    opts?: ErrorOptions,
  ) {
    super(message, firstLine(sql), hint, opts);
  }
}

/** A statement was cancelled by its client (SQLSTATE 57014). */
export class SqlCancelledError extends QueryCancelledError {
  readonly sqlState = '57014';
}

/** A statement ran longer than its timeout (SQLSTATE 57014, like statement_timeout). */
export class QueryTimeoutError extends QueryCancelledError {
  readonly sqlState = '57014';
  constructor(sql: string, timeoutMs: number, opts?: ErrorOptions) {
    super(firstLine(sql), opts);
    this.message = `query cancelled after the statement timeout of ${timeoutMs} ms\n  in: ${firstLine(sql)}\n  hint: raise engine.statementTimeoutMs or make the query cheaper`;
  }
}

/** Too many statements are running and waiting (SQLSTATE 53000). */
export class QueueFullError extends SluiceError {
  readonly sqlState = '53000';
  constructor(running: number, queued: number) {
    super(
      'rate_limited',
      `the SQL engine is busy: ${running} statements running and ${queued} waiting`,
      'retry later, or raise engine.maxConcurrentQueries / engine.queueSize',
    );
  }
}

interface DuckJsonError {
  exception_type?: string;
  exception_message?: string;
  error_subtype?: string;
  position?: string;
}

function parseDuckError(message: string): DuckJsonError | undefined {
  const at = message.indexOf('{"');
  if (at < 0) return undefined;
  try {
    return JSON.parse(message.slice(at)) as DuckJsonError;
  } catch {
    return undefined;
  }
}

function stateOf(type: string, subtype: string, message: string): string {
  if (type === 'Parser') return '42601';
  if (type === 'Catalog') {
    if (/Table|View/i.test(message) && /does not exist/i.test(message)) return '42P01';
    if (/Schema .* does not exist/i.test(message)) return '3F000';
    if (/Function|Macro/i.test(message)) return '42883';
    return '42704';
  }
  if (type === 'Binder') {
    if (subtype === 'COLUMN_NOT_FOUND' || /column .* not found|Referenced column/i.test(message))
      return '42703';
    if (/No function matches|function/i.test(message)) return '42883';
    return '42P18';
  }
  if (type === 'Conversion' || type === 'Invalid Input') return '22P02';
  if (type === 'Out of Range') return '22003';
  if (type === 'Constraint') return '23000';
  if (type === 'Permission') return '42501';
  if (type === 'Out of Memory') return '53200';
  if (type === 'IO') return '58030';
  if (type === 'Not implemented') return '0A000';
  if (type === 'Divide by Zero' || /division by zero/i.test(message)) return '22012';
  return 'XX000';
}

const HINTS: Record<string, string> = {
  '42P01': 'list tables with SELECT * FROM information_schema.tables or `sluice tables list`',
  '42703': 'check the column names with DESCRIBE <table>',
  '53200': 'the engine ran out of memory: raise engine.memoryLimit, or make the query cheaper',
};

/**
 * The engine error for a DuckDB failure of `sql` (parsed from DuckDB's JSON error format).
 * `aborted` says why the statement was interrupted, if it was.
 */
export function engineError(
  err: unknown,
  sql: string,
  aborted?: { timeoutMs?: number; cancelled?: boolean },
): SluiceError {
  if (err instanceof SluiceError && 'sqlState' in err) return err;
  if (aborted?.timeoutMs !== undefined) return new QueryTimeoutError(sql, aborted.timeoutMs, { cause: err });
  const message = errorMessage(err);
  if (aborted?.cancelled || /INTERRUPT/i.test(message))
    return new SqlCancelledError(firstLine(sql), { cause: err });
  if (err instanceof SluiceError && !(err instanceof QueryError)) return err;
  const inner = err instanceof QueryError && err.cause ? errorMessage(err.cause) : message;
  const parsed = parseDuckError(inner);
  const type = parsed?.exception_type ?? /^([A-Za-z ]+?) Error:/.exec(inner)?.[1] ?? '';
  const text = parsed?.exception_message ?? inner.replace(/\n\s*in: .*$/s, '');
  const state = /out of memory|could not allocate/i.test(text)
    ? '53200'
    : stateOf(type, parsed?.error_subtype ?? '', text);
  const position = parsed?.position !== undefined ? Number(parsed.position) : undefined;
  const label = type ? `${type} Error: ` : '';
  return new SqlError(`${label}${text}`, sql, state, position, HINTS[state], { cause: err });
}

/** The SQLSTATE of any error a statement can raise (XX000 when nothing more specific is known). */
export function sqlStateOf(err: unknown): string {
  const state = (err as { sqlState?: unknown } | undefined)?.sqlState;
  if (typeof state === 'string') return state;
  if (err instanceof PermissionError) return '42501';
  if (err instanceof SluiceError) {
    switch (err.code) {
      case 'not_found':
        return '42P01';
      case 'invalid_input':
        return '22023';
      case 'conflict':
        return '40001';
      case 'forbidden':
        return '42501';
      case 'query_cancelled':
        return '57014';
      case 'backend_unavailable':
        return '58000';
      case 'unsupported_operation':
        return '0A000';
    }
  }
  return 'XX000';
}
