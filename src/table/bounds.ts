/**
 * Ordering of primitive values and truncation of column bounds. Iceberg's default metrics
 * mode is `truncate(16)`: string and binary bounds keep a prefix; an upper bound must
 * still be greater than or equal to every value, so its last kept code point (or byte) is
 * incremented.
 */
import { parsePrimitive } from './primitives.js';
import type { PrimitiveType, PrimitiveValue } from './types.js';

/** Default truncation length of string/binary bounds (`write.metadata.metrics.default`). */
export const DEFAULT_BOUND_LENGTH = 16;

function cmp<T extends number | bigint | string>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareDoubles(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : -1;
  if (a === 0 && b === 0) return Object.is(a, -0) ? (Object.is(b, -0) ? 0 : -1) : Object.is(b, -0) ? 1 : 0;
  return cmp(a, b);
}

/**
 * Compare two values of the same primitive type: strings by code point (UTF-8 byte order),
 * binary/fixed/uuid as unsigned bytes, floats with -0 before +0 and NaN last.
 */
export function compareValues(type: PrimitiveType, a: PrimitiveValue, b: PrimitiveValue): number {
  const kind = parsePrimitive(type).kind;
  switch (kind) {
    case 'boolean':
      return cmp(Number(a), Number(b));
    case 'float':
    case 'double':
      return compareDoubles(a as number, b as number);
    case 'string':
      return Buffer.compare(Buffer.from(a as string, 'utf8'), Buffer.from(b as string, 'utf8'));
    case 'uuid':
      return cmp((a as string).toLowerCase(), (b as string).toLowerCase());
    case 'fixed':
    case 'binary':
      return Buffer.compare(Buffer.from(a as Uint8Array), Buffer.from(b as Uint8Array));
    default:
      return cmp(a as number | bigint, b as number | bigint);
  }
}

/** A lower bound no longer than `length` code points (strings) or bytes (binary). */
export function truncateLowerBound(
  type: PrimitiveType,
  value: PrimitiveValue,
  length = DEFAULT_BOUND_LENGTH,
): PrimitiveValue {
  const kind = parsePrimitive(type).kind;
  if (kind === 'string') {
    const cps = Array.from(value as string);
    return cps.length <= length ? value : cps.slice(0, length).join('');
  }
  if (kind === 'binary') {
    const b = value as Uint8Array;
    return b.length <= length ? b : Buffer.from(b.subarray(0, length));
  }
  return value;
}

/**
 * An upper bound no longer than `length` code points (strings) or bytes (binary), or null
 * when no such bound exists (every kept code point is U+10FFFF, every kept byte 0xFF).
 */
export function truncateUpperBound(
  type: PrimitiveType,
  value: PrimitiveValue,
  length = DEFAULT_BOUND_LENGTH,
): PrimitiveValue | null {
  const kind = parsePrimitive(type).kind;
  if (kind === 'string') {
    const cps = Array.from(value as string);
    if (cps.length <= length) return value;
    const kept = cps.slice(0, length);
    for (let i = kept.length - 1; i >= 0; i--) {
      const cp = (kept[i] as string).codePointAt(0) as number;
      if (cp < 0x10ffff) {
        const next = cp + 1 >= 0xd800 && cp + 1 <= 0xdfff ? 0xe000 : cp + 1;
        return kept.slice(0, i).join('') + String.fromCodePoint(next);
      }
    }
    return null;
  }
  if (kind === 'binary') {
    const b = value as Uint8Array;
    if (b.length <= length) return b;
    const kept = Buffer.from(b.subarray(0, length));
    for (let i = kept.length - 1; i >= 0; i--) {
      if ((kept[i] as number) < 0xff) {
        kept[i] = (kept[i] as number) + 1;
        return kept.subarray(0, i + 1);
      }
    }
    return null;
  }
  return value;
}
