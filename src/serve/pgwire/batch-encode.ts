/**
 * Encoding many rows at once: the DataRows (or COPY lines) of a whole batch are written into
 * one growing Buffer, by writers chosen once per column from its type OID and format, so
 * streaming a large result costs one allocation and one socket write per batch rather than
 * several small Buffers per value.
 */
import type { DuckDBDateValue, DuckDBValue } from '@duckdb/node-api';
import { DuckDBDecimalValue } from '../../duck/node-api.js';
import type { BatchColumn, ColumnBatch } from '../../engine/types.js';
import { toBinary, toText } from './encode.js';
import { OID } from './oids.js';
import type { CopyOptions } from './plan.js';

/** A Buffer written front to back that doubles when a write would not fit. */
export class WireBuffer {
  buf: Buffer;
  at = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(Math.max(size, 64));
  }

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  int32(n: number): void {
    this.buf.writeInt32BE(n, this.at);
    this.at += 4;
  }

  /** A value prefixed by its int32 length, from text in UTF-8 (`ascii`: known to be ASCII). */
  text(s: string, ascii: boolean): void {
    this.ensure(4 + (ascii ? s.length : s.length * 3));
    const n = this.#put(s, this.at + 4, ascii);
    this.buf.writeInt32BE(n, this.at);
    this.at += 4 + n;
  }

  /** Raw text without a length prefix. */
  raw(s: string, ascii: boolean): void {
    this.ensure(ascii ? s.length : s.length * 3);
    this.at += this.#put(s, this.at, ascii);
  }

  /** Write `s` at `at` (room already ensured); returns the bytes written. */
  #put(s: string, at: number, ascii: boolean): number {
    const len = s.length;
    if (len <= 32) {
      // Short values (numbers, dates, most strings): byte by byte beats a native call each.
      const b = this.buf;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[at + i] = c;
      }
      if (i === len) return len;
    }
    return this.buf.write(s, at, ascii ? 'latin1' : 'utf8');
  }

  bytes(b: Uint8Array): void {
    this.ensure(4 + b.length);
    this.buf.writeInt32BE(b.length, this.at);
    this.buf.set(b, this.at + 4);
    this.at += 4 + b.length;
  }

  /** The bytes written so far. */
  done(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}

/** Writes one non-null value (length-prefixed) of a column. */
type ValueWriter = (out: WireBuffer, value: DuckDBValue) => void;

/** Text of one non-null value, and whether it is known to be plain ASCII. */
interface TextForm {
  text: (value: DuckDBValue) => string;
  ascii: boolean;
}

/** The column's text form, chosen once from its type OID. */
function textForm(oid: number): TextForm {
  switch (oid) {
    case OID.bool:
      return { text: (v) => (v ? 't' : 'f'), ascii: true };
    case OID.int2:
    case OID.int4:
    case OID.int8:
    case OID.oid:
      return { text: (v) => String(v), ascii: true };
    case OID.numeric:
      return {
        text: (v) =>
          v instanceof DuckDBDecimalValue
            ? decimalText(v)
            : typeof v === 'number'
              ? toText(v, oid)
              : String(v),
        ascii: true,
      };
    case OID.float4:
    case OID.float8:
      return { text: (v) => toText(v, oid), ascii: true };
    case OID.date:
      return { text: dateText, ascii: true };
    default:
      return { text: (v) => (typeof v === 'string' ? v : toText(v, oid)), ascii: false };
  }
}

function textWriter(oid: number): ValueWriter {
  const { text, ascii } = textForm(oid);
  return (out, v) => out.text(text(v), ascii);
}

/** A fixed-size binary value: its length, then what `write` puts at `at` (returning the end). */
function fixedWriter(size: number, write: (b: Buffer, v: DuckDBValue, at: number) => number): ValueWriter {
  return (out, v) => {
    out.ensure(4 + size);
    out.int32(size);
    out.at = write(out.buf, v, out.at);
  };
}

function binaryWriter(oid: number): ValueWriter {
  switch (oid) {
    case OID.bool:
      return fixedWriter(1, (b, v, at) => b.writeUInt8(v ? 1 : 0, at));
    case OID.int2:
      return fixedWriter(2, (b, v, at) => b.writeInt16BE(Number(v), at));
    case OID.int4:
      return fixedWriter(4, (b, v, at) => b.writeInt32BE(Number(v), at));
    case OID.int8:
      return fixedWriter(8, (b, v, at) => b.writeBigInt64BE(BigInt(v as number | bigint), at));
    case OID.float4:
      return fixedWriter(4, (b, v, at) => b.writeFloatBE(Number(v), at));
    case OID.float8:
      return fixedWriter(8, (b, v, at) => b.writeDoubleBE(Number(v), at));
    default:
      return (out, v) => out.bytes(toBinary(v, oid));
  }
}

/** A column as sent: its type OID and format (0 text, 1 binary). */
export interface EncodedColumn {
  type: { oid: number };
  format: number;
}

/** The value writers of a row's columns, chosen once per result (and format change). */
export function rowWriters(columns: readonly EncodedColumn[]): ValueWriter[] {
  return columns.map((c) => (c.format === 1 ? binaryWriter(c.type.oid) : textWriter(c.type.oid)));
}

/** The DataRow messages of rows [from, to) of a batch, as one Buffer. */
export function dataRows(batch: ColumnBatch, from: number, to: number, writers: ValueWriter[]): Buffer {
  const n = writers.length;
  const out = new WireBuffer((to - from) * (7 + n * 12));
  const columns = batch.columns;
  for (let row = from; row < to; row++) {
    out.ensure(7 + 4 * n);
    const start = out.at;
    out.buf[start] = 0x44; // 'D'
    out.buf.writeInt16BE(n, start + 5);
    out.at = start + 7;
    for (let c = 0; c < n; c++) {
      const v = (columns[c] as BatchColumn).getItem(row);
      if (v === null) {
        out.ensure(4);
        out.int32(-1);
      } else (writers[c] as ValueWriter)(out, v);
    }
    out.buf.writeInt32BE(out.at - start - 1, start + 1);
  }
  return out.done();
}

/** Rows already materialised (arrays of values) seen as a batch. */
export function rowsAsBatch(rows: readonly DuckDBValue[][], width: number): ColumnBatch {
  const columns: BatchColumn[] = [];
  for (let c = 0; c < width; c++) columns.push({ getItem: (r) => (rows[r] as DuckDBValue[])[c] ?? null });
  return { rowCount: rows.length, columns };
}

/** Writes COPY TO STDOUT lines (text or CSV format) of whole batches as CopyData messages. */
export class CopyLineWriter {
  readonly #forms: TextForm[];
  readonly #needsEscape: RegExp;
  readonly #escape: (s: string) => string;
  readonly #delimiter: string;
  readonly #null: string;

  constructor(
    oids: number[],
    readonly o: CopyOptions,
  ) {
    this.#forms = oids.map(textForm);
    const delim = o.delimiter.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    this.#needsEscape = o.csv ? new RegExp(`["\\r\\n]|${delim}`) : new RegExp(`[\\\\\\n\\r\\t]|${delim}`);
    this.#escape = o.csv ? csvField(o) : textField(o);
    this.#delimiter = o.delimiter;
    this.#null = o.null;
  }

  /** One field as written in a line. */
  field(s: string): string {
    if (this.o.csv && s === this.#null) return this.#escape(s);
    return this.#needsEscape.test(s) ? this.#escape(s) : s;
  }

  /** CopyData messages of every row of the batch, as one Buffer. */
  lines(batch: ColumnBatch): Buffer {
    const n = this.#forms.length;
    const out = new WireBuffer(batch.rowCount * (6 + n * 12));
    const delimAscii = this.#delimiter.charCodeAt(0) < 0x80;
    for (let row = 0; row < batch.rowCount; row++) {
      out.ensure(5);
      const start = out.at;
      out.buf[start] = 0x64; // 'd'
      out.at = start + 5;
      for (let c = 0; c < n; c++) {
        if (c > 0) out.raw(this.#delimiter, delimAscii);
        const v = (batch.columns[c] as BatchColumn).getItem(row);
        if (v === null) {
          out.raw(this.#null, false);
          continue;
        }
        const form = this.#forms[c] as TextForm;
        out.raw(this.field(form.text(v)), false);
      }
      out.ensure(1);
      out.buf[out.at++] = 0x0a;
      out.buf.writeInt32BE(out.at - start - 1, start + 1);
    }
    return out.done();
  }
}

function textField(o: CopyOptions): (s: string) => string {
  const escapes: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  return (s) =>
    s
      .replace(/[\\\n\r\t]/g, (c) => escapes[c] as string)
      .split(o.delimiter)
      .join(`\\${o.delimiter}`);
}

function csvField(o: CopyOptions): (s: string) => string {
  return (s) =>
    s === o.null || s.includes(o.delimiter) || /["\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const DATE_INF = 2147483647;
const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * A date as PostgreSQL prints it (ISO): computed from the day number (civil-from-days, proleptic
 * Gregorian) for years 1-9999, DuckDB's own formatting otherwise (BC years, far future).
 */
export function dateText(value: DuckDBValue): string {
  const days = (value as DuckDBDateValue).days;
  if (days === DATE_INF) return 'infinity';
  if (days === -DATE_INF) return '-infinity';
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  if (y < 1 || y > 9999) return toText(value, OID.date);
  return `${y < 1000 ? String(y).padStart(4, '0') : y}-${pad2(m)}-${pad2(d)}`;
}

/** A decimal's digits with the point placed by its scale (one bigint-to-string per value). */
export function decimalText(v: DuckDBDecimalValue): string {
  const { value, scale } = v;
  if (scale === 0) return String(value);
  const negative = value < 0n;
  let digits = String(negative ? -value : value);
  if (digits.length <= scale) digits = digits.padStart(scale + 1, '0');
  const cut = digits.length - scale;
  return `${negative ? '-' : ''}${digits.slice(0, cut)}.${digits.slice(cut)}`;
}
