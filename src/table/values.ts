/**
 * Single-value serialization (spec Appendix D): the binary form used for lower/upper bounds
 * in manifests and partition summaries, and the JSON form used for defaults and REST.
 * See `PrimitiveValue` in types.ts for the in-memory representation of each type.
 */
import { InvalidInputError } from '../util/index.js';
import { formatDecimal, parseDecimal } from './decimal.js';
import { minBigEndianBytes } from './murmur3.js';
import { isPrimitive, parsePrimitive } from './primitives.js';
import {
  dateStringToDays,
  daysToDateString,
  MICROS_PER_DAY,
  microsToTimeString,
  microsToTimestampString,
  timeStringToMicros,
  timestampStringToMicros,
} from './temporal.js';
import type { IcebergType, JsonValue, PrimitiveType, PrimitiveValue } from './types.js';

function bad(type: IcebergType | string, value: unknown): never {
  const shown =
    typeof value === 'bigint'
      ? `${value}n`
      : typeof value === 'string'
        ? JSON.stringify(value)
        : String(value);
  throw new InvalidInputError(
    `invalid value ${shown} for Iceberg type ${typeof type === 'string' ? type : type.type}`,
  );
}

/** The 16 big-endian bytes of a UUID string. @throws InvalidInputError if malformed. */
export function uuidToBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new InvalidInputError(`not a UUID: "${uuid}"`);
  return Buffer.from(hex, 'hex');
}

/** The lowercase string form of 16 UUID bytes. */
export function bytesToUuid(bytes: Uint8Array): string {
  const h = Buffer.from(bytes).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Big-endian two's-complement bytes to a bigint. */
export function bigEndianToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  const v = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  return BigInt.asIntN(bytes.length * 8, v);
}

/**
 * Coerce a convenient JS value to the canonical in-memory value of a primitive type:
 * numbers for longs and timestamps become bigints, ISO strings for dates/times/timestamps
 * and decimal strings are parsed, `Date` objects are accepted for dates and timestamps.
 * @throws InvalidInputError when the value does not fit the type.
 */
export function coerceValue(type: PrimitiveType, value: unknown): PrimitiveValue {
  const info = parsePrimitive(type);
  switch (info.kind) {
    case 'boolean':
      if (typeof value === 'boolean') return value;
      return bad(type, value);
    case 'int':
      if (typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31)
        return value;
      if (typeof value === 'bigint' && value >= -(2n ** 31n) && value < 2n ** 31n) return Number(value);
      return bad(type, value);
    case 'long':
      if (typeof value === 'bigint') return BigInt.asIntN(64, value) === value ? value : bad(type, value);
      if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
      return bad(type, value);
    case 'float':
      if (typeof value === 'number') return Math.fround(value);
      return bad(type, value);
    case 'double':
      if (typeof value === 'number') return value;
      return bad(type, value);
    case 'date':
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      if (typeof value === 'string') return dateStringToDays(value);
      if (value instanceof Date) return Math.floor(value.getTime() / 86_400_000);
      return bad(type, value);
    case 'time':
      if (typeof value === 'string') return timeStringToMicros(value);
      if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
      if (typeof value === 'bigint') return value;
      return bad(type, value);
    case 'timestamp':
    case 'timestamptz':
      if (typeof value === 'bigint') return value;
      if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
      if (typeof value === 'string') return timestampStringToMicros(value);
      if (value instanceof Date) return BigInt(value.getTime()) * 1000n;
      return bad(type, value);
    case 'decimal':
      if (typeof value === 'bigint') return value;
      if (typeof value === 'string') return parseDecimal(value, info.scale);
      if (typeof value === 'number' && Number.isFinite(value))
        return parseDecimal(value.toFixed(info.scale), info.scale);
      return bad(type, value);
    case 'string':
      if (typeof value === 'string') return value;
      return bad(type, value);
    case 'uuid':
      if (typeof value === 'string') return bytesToUuid(uuidToBytes(value));
      if (value instanceof Uint8Array && value.length === 16) return bytesToUuid(value);
      return bad(type, value);
    case 'fixed':
      if (value instanceof Uint8Array && value.length === info.length) return value;
      return bad(type, value);
    case 'binary':
      if (value instanceof Uint8Array) return value;
      return bad(type, value);
  }
}

function le(size: number, write: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(size);
  write(b);
  return b;
}

/** Binary single-value serialization of a primitive (Appendix D). */
export function toBinary(type: PrimitiveType, value: unknown): Buffer {
  const v = coerceValue(type, value);
  const info = parsePrimitive(type);
  switch (info.kind) {
    case 'boolean':
      return Buffer.from([v ? 1 : 0]);
    case 'int':
    case 'date':
      return le(4, (b) => b.writeInt32LE(v as number));
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return le(8, (b) => b.writeBigInt64LE(v as bigint));
    case 'float':
      return le(4, (b) => b.writeFloatLE(v as number));
    case 'double':
      return le(8, (b) => b.writeDoubleLE(v as number));
    case 'decimal':
      return minBigEndianBytes(v as bigint);
    case 'string':
      return Buffer.from(v as string, 'utf8');
    case 'uuid':
      return uuidToBytes(v as string);
    case 'fixed':
    case 'binary':
      return Buffer.from(v as Uint8Array);
  }
}

/**
 * Read a binary single value. Bounds written before a type promotion are recognised by
 * their length (spec "Schema Evolution"): 4 bytes for a `long` are an int, 4 bytes for a
 * `double` are a float; the value is returned in the current type's representation.
 * @throws InvalidInputError when the length does not fit the type.
 */
export function fromBinary(type: PrimitiveType, bytes: Uint8Array): PrimitiveValue {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const info = parsePrimitive(type);
  const need = (...sizes: number[]) => {
    if (!sizes.includes(b.length)) throw new InvalidInputError(`cannot read ${type} from ${b.length} bytes`);
  };
  switch (info.kind) {
    case 'boolean':
      need(1);
      return b[0] !== 0;
    case 'int':
    case 'date':
      need(4);
      return b.readInt32LE(0);
    case 'long':
      need(4, 8);
      return b.length === 4 ? BigInt(b.readInt32LE(0)) : b.readBigInt64LE(0);
    case 'time':
      need(8);
      return b.readBigInt64LE(0);
    case 'timestamp':
    case 'timestamptz':
      need(4, 8);
      return b.length === 4 ? BigInt(b.readInt32LE(0)) * MICROS_PER_DAY : b.readBigInt64LE(0);
    case 'float':
      need(4);
      return b.readFloatLE(0);
    case 'double':
      need(4, 8);
      return b.length === 4 ? b.readFloatLE(0) : b.readDoubleLE(0);
    case 'decimal':
      return bigEndianToBigInt(b);
    case 'string':
      return b.toString('utf8');
    case 'uuid':
      need(16);
      return bytesToUuid(b);
    case 'fixed':
      need(info.length);
      return Buffer.from(b);
    case 'binary':
      return Buffer.from(b);
  }
}

function primitiveToJson(type: PrimitiveType, value: unknown): JsonValue {
  const v = coerceValue(type, value);
  const info = parsePrimitive(type);
  switch (info.kind) {
    case 'long': {
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : (v as bigint);
    }
    case 'decimal':
      return formatDecimal(v as bigint, info.scale);
    case 'date':
      return daysToDateString(v as number);
    case 'time':
      return microsToTimeString(v as bigint);
    case 'timestamp':
    case 'timestamptz':
      return microsToTimestampString(v as bigint, info.kind === 'timestamptz');
    case 'fixed':
    case 'binary':
      return Buffer.from(v as Uint8Array).toString('hex');
    default:
      return v as JsonValue;
  }
}

function primitiveFromJson(type: PrimitiveType, json: JsonValue): PrimitiveValue {
  const info = parsePrimitive(type);
  switch (info.kind) {
    case 'fixed':
    case 'binary':
      if (typeof json !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(json)) return bad(type, json);
      return coerceValue(type, Buffer.from(json, 'hex'));
    case 'float':
    case 'double':
    case 'int':
    case 'long':
    case 'boolean':
      return coerceValue(type, json);
    default:
      if (typeof json !== 'string') return bad(type, json);
      return coerceValue(type, json);
  }
}

/**
 * JSON single-value serialization (Appendix D). Struct values are objects keyed by field
 * name in memory and by field id in JSON; maps are `Map`s in memory.
 */
export function toJsonValue(type: IcebergType, value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (isPrimitive(type)) return primitiveToJson(type, value);
  if (type.type === 'struct') {
    const obj = value as Record<string, unknown>;
    const out: Record<string, JsonValue> = {};
    for (const f of type.fields) {
      if (obj[f.name] !== undefined) out[String(f.id)] = toJsonValue(f.type, obj[f.name]);
    }
    return out;
  }
  if (type.type === 'list') {
    if (!Array.isArray(value)) return bad(type, value);
    return value.map((v) => toJsonValue(type.element, v));
  }
  if (!(value instanceof Map)) return bad(type, value);
  const keys: JsonValue[] = [];
  const values: JsonValue[] = [];
  for (const [k, v] of value) {
    keys.push(toJsonValue(type.key, k));
    values.push(toJsonValue(type.value, v));
  }
  return { keys, values };
}

/** Parse a JSON single value (Appendix D) into its in-memory form. @throws InvalidInputError */
export function fromJsonValue(type: IcebergType, json: JsonValue): unknown {
  if (json === null) return null;
  if (isPrimitive(type)) return primitiveFromJson(type, json);
  if (type.type === 'struct') {
    if (typeof json !== 'object' || Array.isArray(json)) return bad(type, json);
    const obj = json as Record<string, JsonValue>;
    const out: Record<string, unknown> = {};
    for (const f of type.fields) {
      const v = obj[String(f.id)];
      if (v !== undefined) out[f.name] = fromJsonValue(f.type, v);
    }
    return out;
  }
  if (type.type === 'list') {
    if (!Array.isArray(json)) return bad(type, json);
    return json.map((v) => fromJsonValue(type.element, v));
  }
  const obj = json as { keys?: JsonValue; values?: JsonValue };
  if (
    typeof json !== 'object' ||
    !Array.isArray(obj.keys) ||
    !Array.isArray(obj.values) ||
    obj.keys.length !== obj.values.length
  ) {
    return bad(type, json);
  }
  const values = obj.values;
  return new Map(
    obj.keys.map((k, i) => [fromJsonValue(type.key, k), fromJsonValue(type.value, values[i] as JsonValue)]),
  );
}
