/**
 * Portable SQL helpers shared by both backends: identifier and channel validation, the
 * compare-and-swap statement, and `?` → `$n` placeholder rewriting for PostgreSQL.
 */
import { InvalidInputError } from '../util/index.js';
import type { CasRequest, SqlValue } from './types.js';

/** Table and column names we interpolate into SQL: lower-case, unquoted-safe on both backends. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Notification channel names (quoted in LISTEN, so dots are safe). */
const CHANNEL = /^[a-z_][a-z0-9_.]{0,62}$/;

/** PostgreSQL rejects NOTIFY payloads of 8000 bytes or more; both backends enforce it. */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7999;

/**
 * Validate an identifier before it is interpolated into SQL.
 * @throws InvalidInputError when it is not a plain lower-case name.
 */
export function assertIdentifier(name: unknown, what = 'identifier'): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new InvalidInputError(
      `invalid ${what} ${JSON.stringify(name)}`,
      `use lower-case letters, digits and "_" (matching ${IDENTIFIER.source})`,
    );
  }
  return name;
}

/**
 * Validate a notification channel name and payload.
 * @throws InvalidInputError
 */
export function assertChannel(channel: unknown, payload = ''): string {
  if (typeof channel !== 'string' || !CHANNEL.test(channel)) {
    throw new InvalidInputError(
      `invalid notification channel ${JSON.stringify(channel)}`,
      `use lower-case letters, digits, "_" and "." (matching ${CHANNEL.source})`,
    );
  }
  if (typeof payload !== 'string' || Buffer.byteLength(payload) > MAX_NOTIFY_PAYLOAD_BYTES) {
    throw new InvalidInputError(
      `notification payload on "${channel}" is not a string of at most ${MAX_NOTIFY_PAYLOAD_BYTES} bytes`,
      'send a reference (an id or a key) instead of the data itself',
    );
  }
  return channel;
}

/** One `UPDATE ... WHERE key = ? AND expected = ?` statement; NULLs compare with `IS NULL`. */
export function casStatement(req: CasRequest): { sql: string; params: SqlValue[] } {
  const table = assertIdentifier(req.table, 'table name');
  const set = Object.entries(req.set ?? {});
  const key = Object.entries(req.key ?? {});
  if (set.length === 0 || key.length === 0) {
    throw new InvalidInputError(
      `compareAndSwap on ${table} needs at least one "key" and one "set" column`,
      'key names the row (its primary key), set the new values, expected the values it must still have',
    );
  }
  const params: SqlValue[] = [];
  const assignments = set.map(([col, value]) => {
    params.push(value);
    return `${assertIdentifier(col, 'column name')} = ?`;
  });
  const conditions = [...key, ...Object.entries(req.expected ?? {})].map(([col, value]) => {
    assertIdentifier(col, 'column name');
    if (value === null || value === undefined) return `${col} IS NULL`;
    params.push(value);
    return `${col} = ?`;
  });
  return { sql: `UPDATE ${table} SET ${assignments.join(', ')} WHERE ${conditions.join(' AND ')}`, params };
}

/**
 * Rewrite `?` placeholders to `$1..$n`, leaving alone string literals ('...', E'...'),
 * quoted identifiers, dollar-quoted bodies and comments. PostgreSQL's jsonb `?` operators
 * cannot be written through this layer; use `jsonb_exists()` and friends instead.
 */
export function toPgPlaceholders(sql: string): string {
  if (!sql.includes('?')) return sql;
  let out = '';
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const end = skipLiteral(sql, i);
    if (end > i) {
      out += sql.slice(i, end);
      i = end;
    } else if (c === '?') {
      n += 1;
      out += `$${n}`;
      i += 1;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

/** The index just past the literal or comment starting at `i`, or `i` if none starts there. */
function skipLiteral(sql: string, i: number): number {
  const c = sql[i];
  const next = sql[i + 1];
  if (c === "'") return skipQuoted(sql, i + 1, "'", isEscapeString(sql, i));
  if (c === '"') return skipQuoted(sql, i + 1, '"', false);
  if (c === '-' && next === '-') {
    const nl = sql.indexOf('\n', i);
    return nl < 0 ? sql.length : nl + 1;
  }
  if (c === '/' && next === '*') return skipBlockComment(sql, i);
  if (c === '$') {
    const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
    if (tag && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
      const close = sql.indexOf(tag[0], i + tag[0].length);
      return close < 0 ? sql.length : close + tag[0].length;
    }
  }
  return i;
}

/** `E'...'` strings treat backslash as an escape character. */
function isEscapeString(sql: string, quoteAt: number): boolean {
  const prev = sql[quoteAt - 1];
  return (prev === 'E' || prev === 'e') && !/[A-Za-z0-9_]/.test(sql[quoteAt - 2] ?? '');
}

function skipQuoted(sql: string, from: number, quote: string, backslash: boolean): number {
  let i = from;
  while (i < sql.length) {
    const c = sql[i];
    if (backslash && c === '\\') {
      i += 2;
    } else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i += 1;
    }
  }
  return sql.length;
}

/** PostgreSQL block comments nest. */
function skipBlockComment(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth += 1;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else {
      i += 1;
    }
  }
  return sql.length;
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The integer rule both backends follow: 64-bit integers come back as JS numbers when
 * they are safe integers, and as bigint otherwise.
 */
export function normaliseInteger(v: bigint): number | bigint {
  return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
}
