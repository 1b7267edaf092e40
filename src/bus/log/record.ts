/**
 * On-disk framing of one record, little-endian:
 *
 *   u32 word | u32 checksum(body) | body
 *   body = u64 offset | u64 timestamp (epoch ms) | i32 keyLength (-1: no key) | key (UTF-8) | value
 *
 * The word holds the body length and the record's format version in its top bit:
 * - version 2 (top bit set, written since 2026-12): the checksum is CRC-32 (ISO-HDLC, as zlib
 *   and gzip compute it), computed natively by `node:zlib`;
 * - version 1 (top bit clear, older logs): the checksum is CRC-32C, computed in JavaScript.
 * Readers accept both, record by record, so segments written by older versions (and segments
 * that mix both) stay readable; new records are always version 2.
 *
 * A reader trusts a record only when the whole body is present and its checksum matches: a
 * torn or overwritten tail shows up as a short or mismatching record and ends the valid data.
 */
import { crc32 } from 'node:zlib';
import { crc32c } from './crc32c.js';

/** Bytes before the body: length and CRC. */
export const HEADER_BYTES = 8;
/** Fixed part of the body: offset, timestamp, key length. */
export const BODY_FIXED_BYTES = 20;
/** Largest record body accepted (value + key + fixed part). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** A record as the log keeps it in memory; offsets are numbers (exact below 2^53). */
export interface StoredRecord {
  offset: number;
  timestamp: number;
  key: string | undefined;
  value: Buffer;
}

/** A record to be written. */
export interface NewRecord {
  key?: string;
  value: Uint8Array;
}

const U32 = 0x1_0000_0000;
/** Top bit of the length word: the record is version 2 (CRC-32 checksum). */
const V2_FLAG = 0x8000_0000;

/** Bytes a record takes on disk, given its key's UTF-8 length. */
export function framedSize(keyBytes: number, valueBytes: number): number {
  return HEADER_BYTES + BODY_FIXED_BYTES + keyBytes + valueBytes;
}

/**
 * Encode records with consecutive offsets from `firstOffset` into one buffer. Returns the
 * buffer, each record's start position in it, and records whose values are slices of it.
 */
export function encodeRecords(
  records: readonly NewRecord[],
  firstOffset: number,
  timestamp: number,
): { bytes: Buffer; positions: number[]; stored: StoredRecord[] } {
  return frame(
    records,
    (i) => firstOffset + i,
    () => timestamp,
  );
}

/** Encode records that keep their offsets and timestamps (rewriting a segment). */
export function encodeStored(records: readonly StoredRecord[]): { bytes: Buffer; positions: number[] } {
  return frame(
    records,
    (i) => records[i]!.offset,
    (i) => records[i]!.timestamp,
  );
}

function frame(
  records: readonly NewRecord[],
  offsetOf: (i: number) => number,
  timestampOf: (i: number) => number,
): { bytes: Buffer; positions: number[]; stored: StoredRecord[] } {
  const keyLengths = records.map((r) => (r.key === undefined ? -1 : Buffer.byteLength(r.key)));
  let total = 0;
  for (let i = 0; i < records.length; i++) {
    total += framedSize(Math.max(0, keyLengths[i]!), records[i]!.value.byteLength);
  }
  const bytes = Buffer.allocUnsafe(total);
  const positions: number[] = new Array(records.length);
  const stored: StoredRecord[] = new Array(records.length);
  let pos = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const keyLength = keyLengths[i]!;
    const offset = offsetOf(i);
    const timestamp = timestampOf(i);
    const bodyStart = pos + HEADER_BYTES;
    bytes.writeUInt32LE(offset % U32, bodyStart);
    bytes.writeUInt32LE(Math.floor(offset / U32), bodyStart + 4);
    bytes.writeUInt32LE(timestamp % U32, bodyStart + 8);
    bytes.writeUInt32LE(Math.floor(timestamp / U32), bodyStart + 12);
    bytes.writeInt32LE(keyLength, bodyStart + 16);
    let p = bodyStart + BODY_FIXED_BYTES;
    if (keyLength > 0) p += bytes.write(r.key!, p, 'utf8');
    bytes.set(r.value, p);
    const end = p + r.value.byteLength;
    bytes.writeUInt32LE(end - bodyStart + V2_FLAG, pos);
    bytes.writeUInt32LE(crc32(bytes.subarray(bodyStart, end)), pos + 4);
    positions[i] = pos;
    stored[i] = { offset, timestamp, key: r.key, value: bytes.subarray(p, end) };
    pos = end;
  }
  return { bytes, positions, stored };
}

/** Outcome of decoding the record at one position. */
export type Decoded =
  | { kind: 'record'; record: StoredRecord; size: number }
  /** The buffer ends inside the record; `size` is its full framed size when known. */
  | { kind: 'short'; size: number | undefined }
  /** Not a valid record: bad length, CRC mismatch or a malformed key. */
  | { kind: 'invalid'; reason: string };

/** Decode the record starting at `pos`; values are slices of `buf`, not copies. */
export function decodeRecord(buf: Buffer, pos: number): Decoded {
  if (buf.length - pos < HEADER_BYTES) return { kind: 'short', size: undefined };
  const word = buf.readUInt32LE(pos);
  const v2 = word >= V2_FLAG;
  const bodyLength = v2 ? word - V2_FLAG : word;
  if (bodyLength < BODY_FIXED_BYTES || bodyLength > MAX_BODY_BYTES) {
    return { kind: 'invalid', reason: `record length ${bodyLength} out of range` };
  }
  const size = HEADER_BYTES + bodyLength;
  if (buf.length - pos < size) return { kind: 'short', size };
  const bodyStart = pos + HEADER_BYTES;
  const end = pos + size;
  const sum = v2 ? crc32(buf.subarray(bodyStart, end)) : crc32c(buf, bodyStart, end);
  if (sum !== buf.readUInt32LE(pos + 4)) {
    return { kind: 'invalid', reason: 'checksum mismatch' };
  }
  const offset = buf.readUInt32LE(bodyStart) + buf.readUInt32LE(bodyStart + 4) * U32;
  const timestamp = buf.readUInt32LE(bodyStart + 8) + buf.readUInt32LE(bodyStart + 12) * U32;
  const keyLength = buf.readInt32LE(bodyStart + 16);
  const keyStart = bodyStart + BODY_FIXED_BYTES;
  if (keyLength < -1 || keyStart + Math.max(0, keyLength) > end) {
    return { kind: 'invalid', reason: `key length ${keyLength} out of range` };
  }
  const valueStart = keyStart + Math.max(0, keyLength);
  const key = keyLength < 0 ? undefined : buf.toString('utf8', keyStart, valueStart);
  return { kind: 'record', record: { offset, timestamp, key, value: buf.subarray(valueStart, end) }, size };
}
