/**
 * 32-bit Murmur3 hash, x86 variant, seed 0, and the per-type hash rules of the Iceberg spec
 * (Appendix B) used by the bucket transform.
 */
import { InvalidInputError } from '../util/index.js';

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixK(k: number): number {
  let x = Math.imul(k, C1);
  x = (x << 15) | (x >>> 17);
  return Math.imul(x, C2);
}

function mixH(h: number, k: number): number {
  let x = h ^ mixK(k);
  x = (x << 13) | (x >>> 19);
  return (Math.imul(x, 5) + 0xe6546b64) | 0;
}

/** Murmur3 x86 32-bit hash of `bytes` as a signed 32-bit integer (Java `int`). */
export function murmur3Hash32(bytes: Uint8Array, seed = 0): number {
  const len = bytes.length;
  const blocks = len & ~3;
  let h = seed | 0;
  for (let i = 0; i < blocks; i += 4) {
    const k =
      (bytes[i] as number) |
      ((bytes[i + 1] as number) << 8) |
      ((bytes[i + 2] as number) << 16) |
      ((bytes[i + 3] as number) << 24);
    h = mixH(h, k);
  }
  const rem = len & 3;
  if (rem > 0) {
    let k = 0;
    if (rem === 3) k ^= (bytes[blocks + 2] as number) << 16;
    if (rem >= 2) k ^= (bytes[blocks + 1] as number) << 8;
    k ^= bytes[blocks] as number;
    h ^= mixK(k);
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Hash of a long (and of an int, date, time or timestamp): 8 bytes little-endian. */
export function hashLong(v: bigint | number): number {
  const buf = Buffer.alloc(8);
  buf.writeBigInt64LE(BigInt.asIntN(64, BigInt(v)));
  return murmur3Hash32(buf);
}

/** Hash of a string: its UTF-8 bytes. */
export function hashString(v: string): number {
  return murmur3Hash32(Buffer.from(v, 'utf8'));
}

/** Minimum two's-complement big-endian bytes of an integer (decimal unscaled values). */
export function minBigEndianBytes(v: bigint): Buffer {
  let n = 1;
  while (v < -(1n << BigInt(8 * n - 1)) || v >= 1n << BigInt(8 * n - 1)) n++;
  const out = Buffer.alloc(n);
  let x = BigInt.asUintN(8 * n, v);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** Hash of a decimal: minimum big-endian bytes of the unscaled value (scale is ignored). */
export function hashDecimal(unscaled: bigint): number {
  return murmur3Hash32(minBigEndianBytes(unscaled));
}

/** Hash of a float or double: the canonical IEEE 754 bits of the value as a double. */
export function hashDouble(v: number): number {
  if (Number.isNaN(v)) return hashLong(0x7ff8000000000000n);
  const buf = Buffer.alloc(8);
  buf.writeDoubleLE(v === 0 ? 0 : v);
  return murmur3Hash32(buf);
}

/** Hash of a UUID: its 16 bytes big-endian. */
export function hashUuid(uuid: string): number {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new InvalidInputError(`not a UUID: "${uuid}"`);
  return murmur3Hash32(Buffer.from(hex, 'hex'));
}
