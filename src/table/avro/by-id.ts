/**
 * Reading Avro records by Iceberg field id rather than by name, so files written by other
 * implementations (older Java names, PyIceberg names) are read through the ids in the
 * writer schema.
 */
import { InvalidInputError } from '../../util/index.js';

type Json = Record<string, unknown>;

/** A field of a writer record schema. */
export interface WriterField {
  name: string;
  type: unknown;
  /** `iceberg-field-name` when the Avro name was sanitized. */
  icebergName?: string;
}

/** Named types of a writer schema, to resolve references and unions. */
export class WriterSchema {
  readonly named = new Map<string, Json>();

  constructor(readonly root: unknown) {
    this.collect(root);
  }

  private collect(t: unknown): void {
    if (Array.isArray(t)) {
      for (const b of t) this.collect(b);
      return;
    }
    if (!t || typeof t !== 'object') return;
    const o = t as Json;
    if (typeof o.name === 'string' && (o.type === 'record' || o.type === 'fixed' || o.type === 'enum')) {
      this.named.set(o.name, o);
      if (typeof o.namespace === 'string') this.named.set(`${o.namespace}.${o.name}`, o);
    }
    if (o.type === 'record' && Array.isArray(o.fields))
      for (const f of o.fields as Json[]) this.collect(f.type);
    if (o.type === 'array') this.collect(o.items);
    if (o.type === 'map') this.collect(o.values);
  }

  /** The non-null branch of an optional union, with named references resolved. */
  resolve(t: unknown): unknown {
    let out = t;
    if (Array.isArray(out)) out = out.find((b) => b !== 'null');
    if (typeof out === 'string' && this.named.has(out)) out = this.named.get(out);
    return out;
  }

  /** Fields of a record schema by field id. @throws InvalidInputError if not a record. */
  fieldsById(record: unknown): Map<number, WriterField> {
    const r = this.resolve(record) as Json | undefined;
    if (r?.type !== 'record' || !Array.isArray(r.fields))
      throw new InvalidInputError('unexpected Avro schema: expected a record');
    const out = new Map<number, WriterField>();
    for (const f of r.fields as Json[]) {
      const id = f['field-id'];
      if (typeof id === 'number') {
        out.set(id, {
          name: f.name as string,
          type: f.type,
          icebergName: f['iceberg-field-name'] as string | undefined,
        });
      }
    }
    return out;
  }
}

/** The value of field `id` in a decoded record, or null when the writer did not write it. */
export function valueById(record: unknown, fields: Map<number, WriterField>, id: number): unknown {
  const f = fields.get(id);
  if (!f) return null;
  return (record as Json)[f.name] ?? null;
}

/** A decoded int-keyed map (array of key/value records, or an Avro map) as a Map. */
export function decodeIntMap<V>(value: unknown, convert: (v: unknown) => V): Map<number, V> | null {
  if (value === null || value === undefined) return null;
  const out = new Map<number, V>();
  if (Array.isArray(value)) {
    for (const kv of value as Json[]) {
      const [k, v] = Object.values(kv);
      out.set(Number(k), convert(v));
    }
  } else {
    for (const [k, v] of Object.entries(value as Json)) out.set(Number(k), convert(v));
  }
  return out;
}

/** Encode a Map as the array of key/value records of an int-keyed Avro map. */
export function encodeIntMap<V, A>(
  map: Map<number, V> | null | undefined,
  convert: (v: V) => A,
): { key: number; value: A }[] | null {
  if (!map) return null;
  return [...map.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([key, value]) => ({ key, value: convert(value) }));
}

/** Number of a long decoded as a bigint (counts, sizes, sequence numbers). */
export function toNumber(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

/** A decoded long as a bigint (snapshot ids), or null. */
export function toBigInt(v: unknown): bigint | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'bigint' ? v : BigInt(v as number);
}
