/** Partition values between their in-memory form and their Avro form in manifests. */
import { decimalRequiredBytes, parsePrimitive } from '../primitives.js';
import type { PartitionData, PrimitiveType, PrimitiveValue, StructType } from '../types.js';
import { bigEndianToBigInt, bytesToUuid, coerceValue, uuidToBytes } from '../values.js';
import type { WriterField } from './by-id.js';
import { sanitizeAvroName } from './schemas.js';

/** Two's-complement big-endian bytes of `v` padded to `size` bytes (decimal as Avro fixed). */
export function paddedBigEndian(v: bigint, size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = BigInt.asUintN(8 * size, v);
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** The Avro value of a partition value of the given result type. */
export function toAvroValue(type: PrimitiveType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const v = coerceValue(type, value);
  const info = parsePrimitive(type);
  switch (info.kind) {
    case 'decimal':
      return paddedBigEndian(v as bigint, decimalRequiredBytes(info.precision));
    case 'uuid':
      return uuidToBytes(v as string);
    case 'fixed':
    case 'binary':
      return Buffer.from(v as Uint8Array);
    default:
      return v;
  }
}

/** The in-memory value of a decoded Avro partition value; `type` may be unknown for foreign specs. */
export function fromAvroValue(type: PrimitiveType | undefined, value: unknown): PrimitiveValue | null {
  if (value === null || value === undefined) return null;
  if (!type) return value as PrimitiveValue;
  const kind = parsePrimitive(type).kind;
  switch (kind) {
    case 'decimal':
      return Buffer.isBuffer(value) ? bigEndianToBigInt(value) : BigInt(value as number);
    case 'uuid':
      return Buffer.isBuffer(value) ? bytesToUuid(value) : (value as string);
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return typeof value === 'bigint' ? value : BigInt(value as number);
    case 'int':
    case 'date':
      return Number(value);
    default:
      return value as PrimitiveValue;
  }
}

/** The Avro `r102` record of a partition tuple. */
export function encodePartition(partition: StructType, data: PartitionData): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of partition.fields)
    out[sanitizeAvroName(f.name)] = toAvroValue(f.type as PrimitiveType, data[f.name]);
  return out;
}

/**
 * Decode a partition record using the writer's field ids; values are keyed by the spec's
 * partition field names (`namesById`), falling back to the writer's names.
 */
export function decodePartition(
  record: unknown,
  writerFields: Map<number, WriterField>,
  namesById: Map<number, { name: string; type?: PrimitiveType }>,
): PartitionData {
  const out: PartitionData = {};
  for (const [id, f] of writerFields) {
    const known = namesById.get(id);
    const name = known?.name ?? f.icebergName ?? f.name;
    out[name] = fromAvroValue(known?.type, (record as Record<string, unknown>)[f.name]);
  }
  return out;
}
