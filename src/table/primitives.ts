/** Parsing and inspection of Iceberg type strings (`decimal(9,2)`, `fixed[16]`, ...). */
import { InvalidInputError } from '../util/index.js';
import type { IcebergType, NestedType, PrimitiveType } from './types.js';

const SIMPLE = new Set<string>([
  'boolean',
  'int',
  'long',
  'float',
  'double',
  'date',
  'time',
  'timestamp',
  'timestamptz',
  'string',
  'uuid',
  'binary',
]);
const V3_ONLY = new Set<string>(['timestamp_ns', 'timestamptz_ns', 'unknown', 'variant']);

/** A parsed primitive type. */
export type PrimitiveInfo =
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'fixed'; length: number }
  | { kind: Exclude<PrimitiveType, `decimal(${string}` | `fixed[${string}`> };

/** True when the type is a primitive (a type string). */
export function isPrimitive(type: IcebergType): type is PrimitiveType {
  return typeof type === 'string';
}

/** True when the type is a struct, list or map. */
export function isNested(type: IcebergType): type is NestedType {
  return typeof type === 'object';
}

/**
 * Parse a primitive type string, accepting whitespace around parameters (Appendix C).
 * @throws InvalidInputError for unknown types and types that need format v3.
 */
export function parsePrimitive(text: string): PrimitiveInfo {
  const t = text.trim().toLowerCase();
  if (SIMPLE.has(t)) return { kind: t } as PrimitiveInfo;
  const dec = /^decimal\s*\(\s*(\d+)\s*,\s*(-?\d+)\s*\)$/.exec(t);
  if (dec) {
    const precision = Number(dec[1]);
    const scale = Number(dec[2]);
    if (precision < 1 || precision > 38)
      throw new InvalidInputError(`invalid type "${text}": decimal precision must be 1..38`);
    return { kind: 'decimal', precision, scale };
  }
  const fixed = /^fixed\s*\[\s*(\d+)\s*\]$/.exec(t);
  if (fixed) {
    const length = Number(fixed[1]);
    if (length < 1) throw new InvalidInputError(`invalid type "${text}": fixed length must be positive`);
    return { kind: 'fixed', length };
  }
  if (V3_ONLY.has(t) || /^(geometry|geography)\b/.test(t)) {
    throw new InvalidInputError(
      `type "${text}" needs Iceberg format v3, which is not supported`,
      'use a format v2 type',
    );
  }
  throw new InvalidInputError(`unknown Iceberg type "${text}"`);
}

/** The canonical string of a primitive type (`decimal(9, 2)` → `decimal(9,2)`). */
export function canonicalPrimitive(text: string): PrimitiveType {
  const info = parsePrimitive(text);
  if (info.kind === 'decimal') return `decimal(${info.precision},${info.scale})`;
  if (info.kind === 'fixed') return `fixed[${info.length}]`;
  return info.kind;
}

/** The kind of a primitive type: its name without parameters. */
export function primitiveKind(type: PrimitiveType): PrimitiveInfo['kind'] {
  return parsePrimitive(type).kind;
}

/** Precision and scale of a decimal type. @throws InvalidInputError if not a decimal. */
export function decimalParams(type: PrimitiveType): { precision: number; scale: number } {
  const info = parsePrimitive(type);
  if (info.kind !== 'decimal') throw new InvalidInputError(`type "${type}" is not a decimal`);
  return info;
}

/** Length of a fixed type. @throws InvalidInputError if not fixed. */
export function fixedLength(type: PrimitiveType): number {
  const info = parsePrimitive(type);
  if (info.kind !== 'fixed') throw new InvalidInputError(`type "${type}" is not fixed`);
  return info.length;
}

/** Minimum number of bytes holding any unscaled value of the given decimal precision. */
export function decimalRequiredBytes(precision: number): number {
  const max = 10n ** BigInt(precision) - 1n;
  let bytes = 1;
  while (max >= 1n << BigInt(8 * bytes - 1)) bytes++;
  return bytes;
}

/** A short human form of any type, used in error messages. */
export function typeToString(type: IcebergType): string {
  if (typeof type === 'string') return type;
  if (type.type === 'struct')
    return `struct<${type.fields.map((f) => `${f.name}: ${typeToString(f.type)}`).join(', ')}>`;
  if (type.type === 'list') return `list<${typeToString(type.element)}>`;
  return `map<${typeToString(type.key)}, ${typeToString(type.value)}>`;
}
