/**
 * Partition transforms (spec "Partition Transforms"): parsing, result types and evaluation
 * on in-memory values. Results use the internal representation of the result type: ints
 * for bucket/year/month/hour, day counts for day (result type `date`).
 */
import { InvalidInputError } from '../util/index.js';
import { hashDecimal, hashLong, hashString, murmur3Hash32 } from './murmur3.js';
import { isPrimitive, parsePrimitive } from './primitives.js';
import { daysToParts, floorDiv, MICROS_PER_DAY, MICROS_PER_HOUR } from './temporal.js';
import type { IcebergType, PrimitiveType, PrimitiveValue } from './types.js';
import { coerceValue, uuidToBytes } from './values.js';

/** A parsed transform. Unknown transforms are kept so metadata can still be read. */
export type Transform =
  | { kind: 'identity' }
  | { kind: 'bucket'; n: number }
  | { kind: 'truncate'; width: number }
  | { kind: 'year' }
  | { kind: 'month' }
  | { kind: 'day' }
  | { kind: 'hour' }
  | { kind: 'void' }
  | { kind: 'unknown'; text: string };

const SIMPLE = new Set(['identity', 'year', 'month', 'day', 'hour', 'void']);

/** Parse a transform string (`identity`, `bucket[16]`, `truncate[4]`, `day`, ...). */
export function parseTransform(text: string): Transform {
  const t = text.trim().toLowerCase();
  if (SIMPLE.has(t)) return { kind: t } as Transform;
  const m = /^(bucket|truncate)\s*\[\s*(\d+)\s*\]$/.exec(t);
  if (m) {
    const n = Number(m[2]);
    if (n < 1 || n > 2 ** 31 - 1)
      throw new InvalidInputError(`invalid transform "${text}": parameter must be a positive int`);
    return m[1] === 'bucket' ? { kind: 'bucket', n } : { kind: 'truncate', width: n };
  }
  return { kind: 'unknown', text };
}

/** The JSON string of a transform. */
export function transformToString(t: Transform): string {
  if (t.kind === 'bucket') return `bucket[${t.n}]`;
  if (t.kind === 'truncate') return `truncate[${t.width}]`;
  if (t.kind === 'unknown') return t.text;
  return t.kind;
}

function asTransform(t: Transform | string): Transform {
  return typeof t === 'string' ? parseTransform(t) : t;
}

const BUCKET_SOURCES = new Set([
  'int',
  'long',
  'decimal',
  'date',
  'time',
  'timestamp',
  'timestamptz',
  'string',
  'uuid',
  'fixed',
  'binary',
]);
const TRUNCATE_SOURCES = new Set(['int', 'long', 'decimal', 'string', 'binary']);
const DATE_SOURCES = new Set(['date', 'timestamp', 'timestamptz']);
const HOUR_SOURCES = new Set(['timestamp', 'timestamptz']);

/** True when the transform can be applied to values of the source type. */
export function canTransform(transform: Transform | string, sourceType: IcebergType): boolean {
  const t = asTransform(transform);
  if (t.kind === 'void') return true;
  if (!isPrimitive(sourceType) || t.kind === 'unknown') return false;
  const kind = parsePrimitive(sourceType).kind;
  switch (t.kind) {
    case 'identity':
      return true;
    case 'bucket':
      return BUCKET_SOURCES.has(kind);
    case 'truncate':
      return TRUNCATE_SOURCES.has(kind);
    case 'hour':
      return HOUR_SOURCES.has(kind);
    default:
      return DATE_SOURCES.has(kind);
  }
}

/**
 * Result type of a transform on a source type (`day` → `date`, `bucket` → `int`).
 * @throws InvalidInputError when the transform does not apply to the type.
 */
export function transformResultType(transform: Transform | string, sourceType: IcebergType): PrimitiveType {
  const t = asTransform(transform);
  if (!canTransform(t, sourceType)) {
    const shown = typeof sourceType === 'string' ? sourceType : sourceType.type;
    throw new InvalidInputError(`transform ${transformToString(t)} cannot be applied to type ${shown}`);
  }
  switch (t.kind) {
    case 'bucket':
    case 'year':
    case 'month':
    case 'hour':
      return 'int';
    case 'day':
      return 'date';
    case 'void':
      return isPrimitive(sourceType) ? sourceType : 'int';
    default:
      return sourceType as PrimitiveType;
  }
}

/** The 32-bit hash of a value by the spec's rules for its type (Appendix B). */
export function hashValue(sourceType: PrimitiveType, value: unknown): number {
  const info = parsePrimitive(sourceType);
  const v = coerceValue(sourceType, value);
  switch (info.kind) {
    case 'int':
    case 'date':
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return hashLong(v as number | bigint);
    case 'decimal':
      return hashDecimal(v as bigint);
    case 'string':
      return hashString(v as string);
    case 'uuid':
      return murmur3Hash32(uuidToBytes(v as string));
    case 'fixed':
    case 'binary':
      return murmur3Hash32(v as Uint8Array);
    default:
      throw new InvalidInputError(`type ${sourceType} cannot be bucketed`);
  }
}

/** `bucket[n]` of a hash: `(hash & Integer.MAX_VALUE) % n`. */
export function bucketOfHash(hash: number, n: number): number {
  return (hash & 0x7fffffff) % n;
}

function truncateValue(kind: string, width: number, v: PrimitiveValue): PrimitiveValue {
  switch (kind) {
    case 'int': {
      const x = v as number;
      return x - (((x % width) + width) % width);
    }
    case 'long':
    case 'decimal': {
      const x = v as bigint;
      const w = BigInt(width);
      return x - (((x % w) + w) % w);
    }
    case 'string': {
      const s = v as string;
      let end = 0;
      for (let count = 0; count < width && end < s.length; count++)
        end += (s.codePointAt(end) as number) > 0xffff ? 2 : 1;
      return s.slice(0, end);
    }
    default:
      return Buffer.from((v as Uint8Array).subarray(0, width));
  }
}

function epochDays(kind: string, v: PrimitiveValue): bigint {
  return kind === 'date' ? BigInt(v as number) : floorDiv(v as bigint, MICROS_PER_DAY);
}

/**
 * Apply a transform to a value of the source type; null in, null out. Years, months, days
 * and hours count from 1970 and round toward negative infinity (pre-epoch values are
 * negative). Truncation of decimals applies the width to the unscaled value.
 * @throws InvalidInputError when the transform does not apply or the value does not fit.
 */
export function applyTransform(
  transform: Transform | string,
  sourceType: PrimitiveType,
  value: unknown,
): PrimitiveValue | null {
  const t = asTransform(transform);
  transformResultType(t, sourceType);
  if (value === null || value === undefined || t.kind === 'void') return null;
  const kind = parsePrimitive(sourceType).kind;
  const v = coerceValue(sourceType, value);
  switch (t.kind) {
    case 'identity':
      return v;
    case 'bucket':
      return bucketOfHash(hashValue(sourceType, v), t.n);
    case 'truncate':
      return truncateValue(kind, t.width, v);
    case 'year':
      return daysToParts(Number(epochDays(kind, v))).year - 1970;
    case 'month': {
      const p = daysToParts(Number(epochDays(kind, v)));
      return (p.year - 1970) * 12 + p.month - 1;
    }
    case 'day':
      return Number(epochDays(kind, v));
    case 'hour':
      return Number(floorDiv(v as bigint, MICROS_PER_HOUR));
    default:
      throw new InvalidInputError(`cannot apply unknown transform "${t.text}"`);
  }
}
