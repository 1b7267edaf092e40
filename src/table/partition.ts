/**
 * Partition specs applied to a schema: the partition tuple type, partition values of a row,
 * human-readable partition paths (`ts_day=2024-01-02/id_bucket=3`), and the inclusive
 * projection of column predicates onto partition values used to prune files.
 */
import { InvalidInputError } from '../util/index.js';
import { compareValues } from './bounds.js';
import { formatDecimal } from './decimal.js';
import { isPrimitive, parsePrimitive } from './primitives.js';
import { findFieldById } from './schema.js';
import {
  daysToDateString,
  daysToParts,
  floorDiv,
  floorMod,
  MICROS_PER_DAY,
  MICROS_PER_SECOND,
} from './temporal.js';
import { applyTransform, parseTransform, type Transform, transformResultType } from './transforms.js';
import type {
  PartitionData,
  PartitionField,
  PartitionSpec,
  PrimitiveType,
  PrimitiveValue,
  Schema,
  StructType,
} from './types.js';
import { coerceValue } from './values.js';

/** A partition field resolved against a schema. */
export interface BoundPartitionField {
  field: PartitionField;
  transform: Transform;
  sourceType: PrimitiveType;
  resultType: PrimitiveType;
}

/**
 * Resolve each field of a spec against a schema.
 * @throws InvalidInputError when a source column is missing, not primitive, or the transform does not apply.
 */
export function bindPartitionSpec(spec: PartitionSpec, schema: Schema): BoundPartitionField[] {
  return spec.fields.map((field) => {
    const transform = parseTransform(field.transform);
    const source = findFieldById(schema, field['source-id']);
    if (!source) {
      if (transform.kind === 'void') return { field, transform, sourceType: 'int', resultType: 'int' };
      throw new InvalidInputError(
        `partition field "${field.name}" refers to missing source column id ${field['source-id']}`,
      );
    }
    if (!isPrimitive(source.type))
      throw new InvalidInputError(
        `partition field "${field.name}": source column "${source.name}" is not a primitive`,
      );
    if (transform.kind === 'unknown')
      return { field, transform, sourceType: source.type, resultType: source.type };
    return {
      field,
      transform,
      sourceType: source.type,
      resultType: transformResultType(transform, source.type),
    };
  });
}

/** The partition tuple struct of a spec: one optional field per partition field, ids = partition field ids. */
export function partitionType(spec: PartitionSpec, schema: Schema): StructType {
  return {
    type: 'struct',
    fields: bindPartitionSpec(spec, schema).map((b) => ({
      id: b.field['field-id'],
      name: b.field.name,
      required: false,
      type: b.resultType,
    })),
  };
}

/** Partition values of one row; `sourceValue` returns the row's value of a source column id. */
export function partitionDataFor(
  spec: PartitionSpec,
  schema: Schema,
  sourceValue: (sourceId: number) => unknown,
): PartitionData {
  const out: PartitionData = {};
  for (const b of bindPartitionSpec(spec, schema)) {
    out[b.field.name] = applyTransform(b.transform, b.sourceType, sourceValue(b.field['source-id']));
  }
  return out;
}

const pad = (n: number | bigint, w: number) => String(n).padStart(w, '0');

function humanTime(micros: bigint): string {
  const secs = micros / MICROS_PER_SECOND;
  const frac = micros % MICROS_PER_SECOND;
  let out = `${pad(secs / 3600n, 2)}:${pad((secs / 60n) % 60n, 2)}`;
  if (secs % 60n !== 0n || frac !== 0n) out += `:${pad(secs % 60n, 2)}`;
  if (frac !== 0n) out += frac % 1000n === 0n ? `.${pad(frac / 1000n, 3)}` : `.${pad(frac, 6)}`;
  return out;
}

function humanValue(type: PrimitiveType, value: PrimitiveValue): string {
  const info = parsePrimitive(type);
  switch (info.kind) {
    case 'date':
      return daysToDateString(value as number);
    case 'time':
      return humanTime(value as bigint);
    case 'timestamp':
    case 'timestamptz': {
      const days = floorDiv(value as bigint, MICROS_PER_DAY);
      const t = `${daysToDateString(Number(days))}T${humanTime(floorMod(value as bigint, MICROS_PER_DAY))}`;
      return info.kind === 'timestamptz' ? `${t}Z` : t;
    }
    case 'decimal':
      return formatDecimal(value as bigint, info.scale);
    case 'fixed':
    case 'binary':
      return Buffer.from(value as Uint8Array).toString('base64');
    default:
      return String(value);
  }
}

/** The human string of a partition value, as used in partition paths (Java `toHumanString`). */
export function humanPartitionValue(
  transform: Transform | string,
  resultType: PrimitiveType,
  value: PrimitiveValue | null,
): string {
  const t = typeof transform === 'string' ? parseTransform(transform) : transform;
  if (value === null || value === undefined) return 'null';
  switch (t.kind) {
    case 'year':
      return pad(1970 + Number(value), 4);
    case 'month': {
      const m = Number(value);
      return `${pad(1970 + Math.floor(m / 12), 4)}-${pad((((m % 12) + 12) % 12) + 1, 2)}`;
    }
    case 'day':
      return daysToDateString(Number(value));
    case 'hour': {
      const h = Number(value);
      const days = Math.floor(h / 24);
      const p = daysToParts(days);
      return `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}-${pad(h - days * 24, 2)}`;
    }
    default:
      return humanValue(resultType, value);
  }
}

/** URL-encode like Java's `URLEncoder` (UTF-8; space → `+`). */
export function escapePathPart(text: string): string {
  return encodeURIComponent(text)
    .replace(/%20/g, '+')
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The partition path of a tuple, e.g. `ts_day=2024-01-02/id_bucket=3`; names and values URL-encoded. */
export function partitionPath(spec: PartitionSpec, schema: Schema, data: PartitionData): string {
  return bindPartitionSpec(spec, schema)
    .map(
      (b) =>
        `${escapePathPart(b.field.name)}=${escapePathPart(humanPartitionValue(b.transform, b.resultType, data[b.field.name] ?? null))}`,
    )
    .join('/');
}

/** A comparison with one value. */
export interface ComparisonPredicate {
  op: '=' | '!=' | '<' | '<=' | '>' | '>=';
  value: unknown;
}

/** A simple predicate on one column (or on one partition field). */
export type Predicate =
  | ComparisonPredicate
  | { op: 'in'; values: unknown[] }
  | { op: 'is-null' | 'not-null' };

const isComparison = (p: Predicate): p is ComparisonPredicate => 'value' in p;

function step(v: PrimitiveValue, delta: -1 | 1): PrimitiveValue {
  return typeof v === 'bigint' ? v + BigInt(delta) : (v as number) + delta;
}

const TIME_KINDS = new Set(['year', 'month', 'day', 'hour']);

/**
 * Inclusive projection of a column predicate through a transform: a predicate on the
 * partition value that every partition holding a matching row satisfies. Returns `true`
 * when nothing can be pruned. For time transforms, negative results are widened by one
 * to keep files written by implementations with the old pre-epoch rounding.
 */
export function projectPredicate(
  transform: Transform | string,
  sourceType: PrimitiveType,
  pred: Predicate,
): Predicate | true {
  const t = typeof transform === 'string' ? parseTransform(transform) : transform;
  if (t.kind === 'void' || t.kind === 'unknown') return true;
  if (pred.op === 'is-null' || pred.op === 'not-null') return pred;
  const apply = (v: unknown) => applyTransform(t, sourceType, v) as PrimitiveValue;
  if (!isComparison(pred)) {
    const map = t.kind === 'identity' ? (v: unknown) => coerceValue(sourceType, v) : apply;
    return 'values' in pred ? fixTime(t, { op: 'in', values: pred.values.map(map) }) : pred;
  }
  if (t.kind === 'identity') return { op: pred.op, value: coerceValue(sourceType, pred.value) };
  if (pred.op === '!=') return true;
  if (pred.op === '=') return fixTime(t, { op: '=', value: apply(pred.value) });
  if (t.kind === 'bucket') return true;
  const kind = parsePrimitive(sourceType).kind;
  const discrete = kind !== 'string' && kind !== 'binary';
  const v = coerceValue(sourceType, pred.value);
  let out: Predicate;
  if (pred.op === '<') out = { op: '<=', value: apply(discrete ? step(v, -1) : v) };
  else if (pred.op === '>') out = { op: '>=', value: apply(discrete ? step(v, 1) : v) };
  else out = { op: pred.op, value: apply(v) };
  return fixTime(t, out);
}

function fixTime(t: Transform, p: Predicate): Predicate {
  if (!TIME_KINDS.has(t.kind)) return p;
  if (p.op === '<=' && (p.value as number) < 0) return { op: '<=', value: (p.value as number) + 1 };
  if (p.op === '=' && (p.value as number) < 0)
    return { op: 'in', values: [p.value, (p.value as number) + 1] };
  if (p.op === 'in') {
    const values = new Set(p.values as number[]);
    for (const v of p.values as number[]) if (v < 0) values.add(v + 1);
    return { op: 'in', values: [...values] };
  }
  return p;
}

/** Whether a (partition) value satisfies a predicate; null matches only `is-null`. */
export function evalPredicate(
  pred: Predicate | true,
  type: PrimitiveType,
  value: PrimitiveValue | null,
): boolean {
  if (pred === true) return true;
  if (pred.op === 'is-null') return value === null;
  if (pred.op === 'not-null') return value !== null;
  if (value === null) return false;
  const c = (x: unknown) => compareValues(type, value, coerceValue(type, x));
  if (!isComparison(pred)) return 'values' in pred && pred.values.some((x) => c(x) === 0);
  switch (pred.op) {
    case '=':
      return c(pred.value) === 0;
    case '!=':
      return c(pred.value) !== 0;
    case '<':
      return c(pred.value) < 0;
    case '<=':
      return c(pred.value) <= 0;
    case '>':
      return c(pred.value) > 0;
    default:
      return c(pred.value) >= 0;
  }
}
