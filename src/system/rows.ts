/**
 * Checking and encoding system table rows at record time: a row that does not fit its
 * definition fails in the caller's code, naming table, row and column, before anything is
 * written. Rows are stored as JSON text whose values DuckDB casts back exactly
 * (64-bit integers, decimals and times as strings, binary as hex).
 */
import { parsePrimitive } from '../table/index.js';
import { InvalidInputError } from '../util/index.js';
import { SYSTEM_NAMESPACE, type SystemColumnDef, type SystemTable } from './definition.js';

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const TIME_RE = /^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$/;
const TS_RE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$/;
const TSTZ_RE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DECIMAL_RE = /^[+-]?(\d+)(?:\.(\d+))?$/;

type Encoded = string | number | boolean;

/** Largest row accepted, encoded (history rows are small; big payloads belong in data tables). */
export const MAX_ROW_BYTES = 1 << 20;

class RowError extends Error {}

function wrong(c: SystemColumnDef, value: unknown, expected: string): never {
  const shown =
    typeof value === 'string'
      ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
      : value instanceof Date
        ? 'an invalid Date'
        : typeof value;
  throw new RowError(`column "${c.name}" (${c.type}) expects ${expected}, got ${shown}`);
}

function integer(c: SystemColumnDef, v: unknown, min: bigint, max: bigint): string | number {
  let n: bigint;
  if (typeof v === 'number' && Number.isInteger(v)) n = BigInt(v);
  else if (typeof v === 'bigint') n = v;
  else if (typeof v === 'string' && /^[+-]?\d+$/.test(v)) n = BigInt(v);
  else return wrong(c, v, 'an integer');
  if (n < min || n > max) throw new RowError(`column "${c.name}" (${c.type}): ${n} is out of range`);
  return Number.isSafeInteger(Number(n)) ? Number(n) : n.toString();
}

function timestamp(c: SystemColumnDef, v: unknown, zoned: boolean): string {
  let d: Date | undefined;
  if (v instanceof Date) d = v;
  else if (typeof v === 'number' && Number.isFinite(v)) d = new Date(v);
  else if (typeof v === 'string' && (zoned ? TSTZ_RE : TS_RE).test(v)) return v;
  if (!d || Number.isNaN(d.getTime())) return wrong(c, v, 'a Date, epoch milliseconds or an ISO-8601 string');
  const iso = d.toISOString();
  return zoned ? iso : iso.slice(0, -1);
}

function encodeValue(c: SystemColumnDef, v: unknown): Encoded {
  const info = parsePrimitive(c.type);
  switch (info.kind) {
    case 'boolean':
      return typeof v === 'boolean' ? v : wrong(c, v, 'a boolean');
    case 'int':
      return integer(c, v, BigInt(INT_MIN), BigInt(INT_MAX));
    case 'long':
      return integer(c, v, LONG_MIN, LONG_MAX);
    case 'float':
    case 'double':
      if (typeof v !== 'number') return wrong(c, v, 'a number');
      return Number.isFinite(v) ? v : String(v);
    case 'decimal': {
      const text = typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'string' ? v : '';
      const m = DECIMAL_RE.exec(text);
      if (!m) return wrong(c, v, 'a decimal number or numeric string');
      const whole = (m[1] ?? '').replace(/^0+(?=\d)/, '');
      if ((m[2]?.length ?? 0) > info.scale || whole.length > info.precision - info.scale)
        throw new RowError(`column "${c.name}" (${c.type}): ${text} does not fit`);
      return text;
    }
    case 'string':
      return typeof v === 'string' ? v : wrong(c, v, 'a string');
    case 'uuid':
      return typeof v === 'string' && UUID_RE.test(v) ? v.toLowerCase() : wrong(c, v, 'a UUID string');
    case 'binary':
      return v instanceof Uint8Array ? Buffer.from(v).toString('hex') : wrong(c, v, 'a Uint8Array');
    case 'date':
      if (v instanceof Date && !Number.isNaN(v.getTime())) return v.toISOString().slice(0, 10);
      return typeof v === 'string' && DATE_RE.test(v) ? v : wrong(c, v, 'a Date or YYYY-MM-DD');
    case 'time':
      return typeof v === 'string' && TIME_RE.test(v) ? v : wrong(c, v, 'HH:MM:SS[.ffffff]');
    case 'timestamp':
      return timestamp(c, v, false);
    case 'timestamptz':
      return timestamp(c, v, true);
    default:
      throw new RowError(`column "${c.name}" has unsupported type ${c.type}`);
  }
}

/** One row as JSON text; unknown keys, missing required values and wrong types throw RowError. */
function encodeRow(table: SystemTable, row: unknown): string {
  if (row === null || typeof row !== 'object' || Array.isArray(row))
    throw new RowError(`expected an object, got ${Array.isArray(row) ? 'an array' : typeof row}`);
  const values = row as Record<string, unknown>;
  const out: Record<string, Encoded> = {};
  for (const c of table.columns) {
    const v = values[c.name];
    if (v === null || v === undefined) {
      if (c.required) throw new RowError(`required column "${c.name}" (${c.type}) is missing`);
      continue;
    }
    out[c.name] = encodeValue(c, v);
  }
  const unknown = Object.keys(values).filter((k) => !table.columns.some((c) => c.name === k));
  if (unknown.length > 0)
    throw new RowError(
      `unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`,
    );
  const text = JSON.stringify(out);
  if (text.length > MAX_ROW_BYTES / 4 && Buffer.byteLength(text) > MAX_ROW_BYTES)
    throw new RowError(
      `the row is ${Buffer.byteLength(text)} bytes encoded, above the limit of ${MAX_ROW_BYTES}`,
    );
  return text;
}

/**
 * Encode rows for the outbox.
 * @throws InvalidInputError naming the table, the row's index and the column for the first row that does not fit.
 */
export function encodeRows(table: SystemTable, rows: readonly unknown[]): string[] {
  if (!Array.isArray(rows))
    throw new InvalidInputError(`system table ${SYSTEM_NAMESPACE}.${table.name}: rows must be an array`);
  return rows.map((row, i) => {
    try {
      return encodeRow(table, row);
    } catch (err) {
      if (!(err instanceof RowError)) throw err;
      throw new InvalidInputError(
        `system table ${SYSTEM_NAMESPACE}.${table.name}, row ${i}: ${err.message}`,
        `columns: ${table.columns.map((c) => `${c.name} ${c.type}${c.required ? ' required' : ''}`).join(', ')}`,
      );
    }
  });
}
