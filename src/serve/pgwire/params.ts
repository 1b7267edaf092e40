/**
 * Bind parameters from the client (text or binary, typed by the OIDs of Parse or inferred by
 * DuckDB) → JS values the engine binds.
 */
import type { DuckDBType } from '@duckdb/node-api';
import { DuckDBBlobValue } from '../../duck/node-api.js';
import { OID, oidOf } from './oids.js';
import { ProtocolError } from './sqlstate.js';

const PG_EPOCH_MS = 946_684_800_000;

/** Decode one parameter; `oid` is the client's declared type, or DuckDB's inferred one when 0. */
export function decodeParam(
  raw: Buffer | null,
  binary: boolean,
  declared: number,
  inferred: DuckDBType | undefined,
): unknown {
  if (raw === null) return null;
  const oid = declared || (inferred ? oidOf(inferred) : 0);
  return binary ? fromBinary(raw, oid) : fromText(raw.toString('utf8'), oid);
}

function fromText(text: string, oid: number): unknown {
  switch (oid) {
    case OID.bool:
      return /^(t|true|y|yes|on|1)$/i.test(text.trim());
    case OID.int2:
    case OID.int4:
    case OID.float4:
    case OID.float8: {
      const n = Number(text);
      return Number.isNaN(n) && !/^nan$/i.test(text.trim()) ? text : n;
    }
    case OID.int8:
      return /^\s*-?\d+\s*$/.test(text) ? BigInt(text.trim()) : text;
    case OID.bytea:
      return DuckDBBlobValue.fromString(
        text.startsWith('\\x') ? hexToEscapes(text.slice(2)) : text.replace(/\\\\/g, '\\'),
      );
    default:
      return text;
  }
}

function hexToEscapes(hex: string): string {
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0) {
    throw new ProtocolError('22P02', `invalid hexadecimal bytea value "\\x${hex.slice(0, 20)}"`);
  }
  return hex.replace(/../g, (pair) => `\\x${pair}`);
}

function need(raw: Buffer, bytes: number, oid: number): void {
  if (raw.length !== bytes) {
    throw new ProtocolError(
      '22P03',
      `incorrect binary data format: type ${oid} needs ${bytes} bytes, got ${raw.length}`,
    );
  }
}

function fromBinary(raw: Buffer, oid: number): unknown {
  switch (oid) {
    case OID.bool:
      need(raw, 1, oid);
      return raw[0] !== 0;
    case OID.int2:
      need(raw, 2, oid);
      return raw.readInt16BE();
    case OID.int4:
    case OID.oid:
      need(raw, 4, oid);
      return raw.readInt32BE();
    case OID.int8:
      need(raw, 8, oid);
      return raw.readBigInt64BE();
    case OID.float4:
      need(raw, 4, oid);
      return raw.readFloatBE();
    case OID.float8:
      need(raw, 8, oid);
      return raw.readDoubleBE();
    case OID.bytea:
      return new DuckDBBlobValue(new Uint8Array(raw));
    case OID.date: {
      need(raw, 4, oid);
      return new Date(PG_EPOCH_MS + raw.readInt32BE() * 86_400_000).toISOString().slice(0, 10);
    }
    case OID.timestamp:
    case OID.timestamptz: {
      need(raw, 8, oid);
      const micros = raw.readBigInt64BE();
      const ms = Number(micros / 1000n);
      const frac = String(((micros % 1_000_000n) + 1_000_000n) % 1_000_000n).padStart(6, '0');
      const iso = new Date(PG_EPOCH_MS + ms).toISOString();
      return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${frac}${oid === OID.timestamptz ? '+00' : ''}`;
    }
    case OID.uuid: {
      need(raw, 16, oid);
      const h = raw.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    case OID.numeric:
      return numericFromBinary(raw);
    case OID.jsonb:
      return raw.subarray(1).toString('utf8');
    default:
      return raw.toString('utf8');
  }
}

function numericFromBinary(raw: Buffer): string {
  if (raw.length < 8) throw new ProtocolError('22P03', 'incorrect binary data format: numeric header');
  const ndigits = raw.readInt16BE(0);
  const weight = raw.readInt16BE(2);
  const sign = raw.readUInt16BE(4);
  const dscale = raw.readInt16BE(6);
  if (raw.length !== 8 + ndigits * 2 || ndigits < 0) {
    throw new ProtocolError('22P03', 'incorrect binary data format: numeric digits');
  }
  if (sign === 0xc000) return 'NaN';
  let int = '';
  let frac = '';
  for (let i = 0; i < ndigits; i++) {
    const group = String(raw.readUInt16BE(8 + i * 2)).padStart(4, '0');
    if (i <= weight) int += group;
    else frac += group;
  }
  for (let i = ndigits; i <= weight; i++) int += '0000';
  if (weight < -1) frac = '0000'.repeat(-weight - 1) + frac;
  int = int.replace(/^0+/, '') || '0';
  frac = frac.padEnd(dscale, '0').slice(0, dscale);
  return `${sign === 0x4000 ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}
