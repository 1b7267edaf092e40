/**
 * Errors on the wire: every failure becomes an ErrorResponse with a SQLSTATE code
 * (PostgreSQL documentation, Appendix A).
 */
import { SluiceError } from '../../util/index.js';

/** An error this server reports with a chosen SQLSTATE; `fatal` ones close the connection. */
export class ProtocolError extends SluiceError {
  constructor(
    readonly sqlstate: string,
    message: string,
    readonly fatal = false,
    opts?: ErrorOptions & { hint?: string },
  ) {
    super('pgwire_error', message, undefined, opts);
    this.clientHint = opts?.hint;
  }
  /** Shown to the client as the HINT field. */
  readonly clientHint: string | undefined;
}

/** The fields of an ErrorResponse. */
export interface WireError {
  severity: 'ERROR' | 'FATAL';
  sqlstate: string;
  message: string;
  hint?: string;
  detail?: string;
  /** 1-based character position in the statement. */
  position?: number;
}

const DUCK_CLASSES: [RegExp, string][] = [
  [/^Parser Error/, '42601'],
  [/^Catalog Error: Table .*does not exist/, '42P01'],
  [/^Catalog Error: Schema .*does not exist/, '3F000'],
  [/^Catalog Error: .*Function .*does not exist/i, '42883'],
  [/^Catalog Error: .*already exists/, '42P07'],
  [/^Catalog Error/, '42704'],
  [/^Binder Error: Referenced column .*not found/, '42703'],
  [/^Binder Error: .*column .*not found/i, '42703'],
  [/^Binder Error: No function matches/, '42883'],
  [/^Binder Error/, '42803'],
  [/^Conversion Error/, '22P02'],
  [/^Invalid Input Error/, '22023'],
  [/^Out of Range Error: Overflow/, '22003'],
  [/^Out of Range Error/, '22003'],
  [/^Constraint Error: Duplicate key/, '23505'],
  [/^Constraint Error: NOT NULL/, '23502'],
  [/^Constraint Error/, '23000'],
  [/^Permission Error/, '42501'],
  [/^Not implemented Error/, '0A000'],
  [/^Out of Memory Error/, '53200'],
  [/^INTERRUPT Error/, '57014'],
  [/^TransactionContext Error/, '25000'],
];

const CODE_STATES: Record<string, string> = {
  query_cancelled: '57014',
  permission_denied: '42501',
  forbidden: '42501',
  read_only: '42501',
  not_found: '42P01',
  invalid_input: '22023',
  timeout: '57014',
  statement_timeout: '57014',
};

/** The ErrorResponse for any error: SQLSTATE from our error codes or DuckDB's error class. */
export function wireError(err: unknown): WireError {
  if (err instanceof ProtocolError) {
    return {
      severity: err.fatal ? 'FATAL' : 'ERROR',
      sqlstate: err.sqlstate,
      message: err.message,
      hint: err.clientHint,
    };
  }
  const raw = err instanceof Error ? err.message : String(err);
  const [message = raw, ...rest] = raw.split('\n');
  const hintLine = rest.find((l) => l.trim().startsWith('hint:'));
  const base: WireError = {
    severity: 'ERROR',
    sqlstate: 'XX000',
    message: message.replace(/^(\w[\w ]* Error): /, ''),
    hint: hintLine?.trim().slice(5).trim(),
  };
  // Engine errors carry their SQLSTATE (and a 0-based position when DuckDB gives one).
  const carried = err as { sqlState?: unknown; position?: unknown } | undefined;
  if (typeof carried?.sqlState === 'string' && /^[0-9A-Z]{5}$/.test(carried.sqlState)) {
    base.sqlstate = carried.sqlState;
    if (typeof carried.position === 'number' && carried.position >= 0) base.position = carried.position + 1;
    return base;
  }
  if (err instanceof Error && (err.name === 'PermissionError' || err.name === 'QueryCancelledError')) {
    base.sqlstate = err.name === 'PermissionError' ? '42501' : '57014';
    return base;
  }
  if (err instanceof SluiceError && CODE_STATES[err.code]) {
    base.sqlstate = CODE_STATES[err.code] as string;
    return base;
  }
  for (const [pattern, state] of DUCK_CLASSES) {
    if (pattern.test(message)) {
      base.sqlstate = state;
      return base;
    }
  }
  if (err instanceof SluiceError) base.sqlstate = '58000';
  return base;
}
