/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of log records.
 * Table-driven, eight bytes per step ("slicing-by-8"): node:zlib has no crc32 in Node 20.
 */

const POLY = 0x82f63b78;

/** 8 tables of 256 entries: TABLES[k][b] is the CRC of byte b followed by k zero bytes. */
const TABLES: Int32Array = (() => {
  const t = new Int32Array(8 * 256);
  for (let b = 0; b < 256; b++) {
    let crc = b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ POLY : crc >>> 1;
    t[b] = crc;
  }
  for (let b = 0; b < 256; b++) {
    let crc = t[b]!;
    for (let k = 1; k < 8; k++) {
      crc = t[crc & 0xff]! ^ (crc >>> 8);
      t[k * 256 + b] = crc;
    }
  }
  return t;
})();

/** CRC-32C of `bytes[start, end)`, continuing from `crc` (0 for a fresh checksum). */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length, crc = 0): number {
  const t = TABLES;
  let c = ~crc;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    c =
      t[7 * 256 + (lo & 0xff)]! ^
      t[6 * 256 + ((lo >>> 8) & 0xff)]! ^
      t[5 * 256 + ((lo >>> 16) & 0xff)]! ^
      t[4 * 256 + (lo >>> 24)]! ^
      t[3 * 256 + bytes[i + 4]!]! ^
      t[2 * 256 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!;
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
