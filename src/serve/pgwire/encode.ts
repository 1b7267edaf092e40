/**
 * DuckDB values → PostgreSQL wire values, in text format (what `psql` prints) and binary
 * format (the typsend layouts of the PostgreSQL documentation and source).
 */
import type { DuckDBTimeTZValue, DuckDBValue } from '@duckdb/node-api';
import {
  DuckDBArrayValue,
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBIntervalValue,
  DuckDBListValue,
  DuckDBTimeNSValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeValue,
} from '../../duck/node-api.js';
import { ELEMENT_OF, OID } from './oids.js';

/** Days between 1970-01-01 (DuckDB's epoch) and 2000-01-01 (PostgreSQL's). */
const PG_EPOCH_DAYS = 10957;
const PG_EPOCH_MICROS = 946_684_800_000_000n;
const DATE_INF = 2147483647;

/** The text form of a value as PostgreSQL would print it for the column's type. */
export function toText(value: DuckDBValue, oid: number): string {
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return oid === OID.float4 ? float4Text(value) : floatText(value);
  if (typeof value === 'string' || typeof value === 'bigint') return String(value);
  if (value instanceof DuckDBDateValue) {
    if (value.days === DATE_INF) return 'infinity';
    if (value.days === -DATE_INF) return '-infinity';
    return value.toString();
  }
  if (value instanceof DuckDBTimestampTZValue) {
    const text = new DuckDBTimestampValue(value.micros).toString();
    return text.endsWith('infinity') ? text : `${text}+00`;
  }
  if (value instanceof DuckDBIntervalValue) return intervalText(value);
  if (value instanceof DuckDBBlobValue) return `\\x${Buffer.from(value.bytes).toString('hex')}`;
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue) {
    const element = ELEMENT_OF[oid];
    if (element !== undefined) return arrayText(value.items, element);
  }
  return String(value);
}

function floatText(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return 'Infinity';
  if (n === Number.NEGATIVE_INFINITY) return '-Infinity';
  return String(n);
}

/** The shortest decimal that reads back as the same 32-bit float (1.1, not 1.100000023841858). */
function float4Text(n: number): string {
  if (!Number.isFinite(n)) return floatText(n);
  for (let digits = 1; digits <= 9; digits++) {
    const text = n.toPrecision(digits);
    if (Math.fround(Number(text)) === n) return String(Number(text));
  }
  return String(n);
}

function intervalText(v: DuckDBIntervalValue): string {
  const parts: string[] = [];
  const years = Math.trunc(v.months / 12);
  const months = v.months % 12;
  if (years) parts.push(`${years} year${Math.abs(years) === 1 ? '' : 's'}`);
  if (months) parts.push(`${months} mon${Math.abs(months) === 1 ? '' : 's'}`);
  if (v.days) parts.push(`${v.days} day${Math.abs(v.days) === 1 ? '' : 's'}`);
  if (v.micros !== 0n || parts.length === 0) {
    const negative = v.micros < 0n;
    let us = negative ? -v.micros : v.micros;
    const hours = us / 3_600_000_000n;
    us %= 3_600_000_000n;
    const minutes = us / 60_000_000n;
    us %= 60_000_000n;
    const seconds = us / 1_000_000n;
    const fraction = us % 1_000_000n;
    const pad = (n: bigint) => String(n).padStart(2, '0');
    let time = `${negative ? '-' : ''}${pad(hours)}:${pad(minutes)}:${pad(seconds)}`;
    if (fraction) time += `.${String(fraction).padStart(6, '0').replace(/0+$/, '')}`;
    parts.push(time);
  }
  return parts.join(' ');
}

function arrayText(items: readonly DuckDBValue[], element: number): string {
  const out = items.map((item) => {
    if (item === null) return 'NULL';
    if (item instanceof DuckDBListValue || item instanceof DuckDBArrayValue) {
      return arrayText(item.items, element);
    }
    const text = toText(item, element);
    return text === '' || /^null$/i.test(text) || /[{},"\\\s]/.test(text)
      ? `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`
      : text;
  });
  return `{${out.join(',')}}`;
}

/** The binary (typsend) form of a non-null value for the column's type OID. */
export function toBinary(value: DuckDBValue, oid: number): Buffer {
  switch (oid) {
    case OID.bool:
      return Buffer.from([value ? 1 : 0]);
    case OID.int2:
      return fixed(2, (b) => b.writeInt16BE(Number(value)));
    case OID.int4:
      return fixed(4, (b) => b.writeInt32BE(Number(value)));
    case OID.int8:
      return fixed(8, (b) => b.writeBigInt64BE(BigInt(value as number | bigint)));
    case OID.float4:
      return fixed(4, (b) => b.writeFloatBE(Number(value)));
    case OID.float8:
      return fixed(8, (b) => b.writeDoubleBE(Number(value)));
    case OID.numeric:
      return numericBinary(value instanceof DuckDBDecimalValue ? value.toString() : String(value));
    case OID.bytea:
      return value instanceof DuckDBBlobValue ? Buffer.from(value.bytes) : Buffer.from(String(value));
    case OID.date: {
      const days = (value as DuckDBDateValue).days;
      const b = Buffer.alloc(4);
      b.writeInt32BE(Math.abs(days) === DATE_INF ? days : days - PG_EPOCH_DAYS);
      return b;
    }
    case OID.time:
      return int64(timeMicros(value));
    case OID.timestamp:
    case OID.timestamptz:
      return int64(timestampMicros(value) - PG_EPOCH_MICROS);
    case OID.interval: {
      const v = value as DuckDBIntervalValue;
      const b = Buffer.alloc(16);
      b.writeBigInt64BE(v.micros, 0);
      b.writeInt32BE(v.days, 8);
      b.writeInt32BE(v.months, 12);
      return b;
    }
    case OID.timetz: {
      const v = value as DuckDBTimeTZValue;
      const b = Buffer.alloc(12);
      b.writeBigInt64BE(v.micros, 0);
      b.writeInt32BE(-v.offset, 8);
      return b;
    }
    case OID.uuid:
      return Buffer.from(String(value).replace(/-/g, ''), 'hex');
    default: {
      const element = ELEMENT_OF[oid];
      if (element !== undefined && (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue)) {
        return arrayBinary(value.items, element);
      }
      return Buffer.from(toText(value, oid));
    }
  }
}

/** A fixed-size value written by `write`. */
function fixed(size: number, write: (b: Buffer) => unknown): Buffer {
  const b = Buffer.alloc(size);
  write(b);
  return b;
}

function int64(n: bigint): Buffer {
  return fixed(8, (b) => b.writeBigInt64BE(n));
}

function timeMicros(value: DuckDBValue): bigint {
  if (value instanceof DuckDBTimeValue) return value.micros;
  if (value instanceof DuckDBTimeNSValue) return value.nanos / 1000n;
  return 0n;
}

function timestampMicros(value: DuckDBValue): bigint {
  if (value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue) return value.micros;
  if (value instanceof DuckDBTimestampSecondsValue) return value.seconds * 1_000_000n;
  if (value instanceof DuckDBTimestampMillisecondsValue) return value.millis * 1000n;
  if (value instanceof DuckDBTimestampNanosecondsValue) return value.nanos / 1000n;
  return 0n;
}

/** One-dimensional array: ndim, has-null flag, element OID, length, lower bound, then elements. */
function arrayBinary(items: readonly DuckDBValue[], element: number): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(20);
  head.writeInt32BE(items.length === 0 ? 0 : 1, 0);
  head.writeInt32BE(items.some((i) => i === null) ? 1 : 0, 4);
  head.writeInt32BE(element, 8);
  head.writeInt32BE(items.length, 12);
  head.writeInt32BE(1, 16);
  parts.push(items.length === 0 ? head.subarray(0, 12) : head);
  for (const item of items) {
    const len = Buffer.alloc(4);
    if (item === null) {
      len.writeInt32BE(-1);
      parts.push(len);
      continue;
    }
    const body = toBinary(item, element);
    len.writeInt32BE(body.length);
    parts.push(len, body);
  }
  return Buffer.concat(parts);
}

/** numeric_send: ndigits, weight, sign, dscale, then base-10000 digits. */
export function numericBinary(text: string): Buffer {
  if (!/^-?\d*\.?\d*$/.test(text) || text === '' || text === '-') {
    const b = Buffer.alloc(8);
    b.writeUInt16BE(0xc000, 4); // NaN (and anything non-finite)
    return b;
  }
  const negative = text.startsWith('-');
  const [intPart = '', fracPart = ''] = (negative ? text.slice(1) : text).split('.');
  const intDigits = intPart.replace(/^0+/, '');
  const padInt = intDigits.padStart(Math.ceil(intDigits.length / 4) * 4, '0');
  const padFrac = fracPart.padEnd(Math.ceil(fracPart.length / 4) * 4, '0');
  const groups: number[] = [];
  for (let i = 0; i < padInt.length; i += 4) groups.push(Number(padInt.slice(i, i + 4)));
  for (let i = 0; i < padFrac.length; i += 4) groups.push(Number(padFrac.slice(i, i + 4)));
  let weight = padInt.length / 4 - 1;
  while (groups.length > 0 && groups[0] === 0) {
    groups.shift();
    weight--;
  }
  while (groups.length > 0 && groups[groups.length - 1] === 0) groups.pop();
  if (groups.length === 0) weight = 0;
  const b = Buffer.alloc(8 + groups.length * 2);
  b.writeInt16BE(groups.length, 0);
  b.writeInt16BE(weight, 2);
  b.writeUInt16BE(negative && groups.length > 0 ? 0x4000 : 0, 4);
  b.writeInt16BE(fracPart.length, 6);
  groups.forEach((g, i) => {
    b.writeUInt16BE(g, 8 + i * 2);
  });
  return b;
}
