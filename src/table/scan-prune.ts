/**
 * File and manifest pruning: whether the rows of a file (or the files of a manifest) may
 * satisfy a predicate — or provably all satisfy it — judged from column bounds and null
 * counts, and from partition values through the partition transforms.
 */
import { compareValues } from './bounds.js';
import { type BoundPartitionField, evalPredicate, type Predicate, projectPredicate } from './partition.js';
import { parsePrimitive } from './primitives.js';
import type { ColumnPredicate } from './scan-filter.js';
import type { DataFile, FieldSummary, PrimitiveType, PrimitiveValue } from './types.js';
import { fromBinary } from './values.js';

/** What is known about one column's values in a file or a set of partitions. */
export interface ValueRange {
  lower?: PrimitiveValue;
  upper?: PrimitiveValue;
  nullCount?: number;
  valueCount?: number;
}

function decode(type: PrimitiveType, bytes: Uint8Array | null | undefined): PrimitiveValue | undefined {
  if (!bytes) return undefined;
  try {
    return fromBinary(type, bytes);
  } catch {
    return undefined;
  }
}

/**
 * Float bounds made safe for DuckDB's comparisons, where NaN is greater than every number and
 * -0.0 equals +0.0 (spec: bounds never hold NaN; writers may omit NaN counts): without a NaN
 * count of zero the upper bound is dropped, and a zero bound is widened to the other zero.
 */
function floatRange(r: ValueRange, nanCount: number | undefined): ValueRange {
  const out = { ...r };
  if (nanCount !== 0 || (typeof out.upper === 'number' && Number.isNaN(out.upper))) out.upper = undefined;
  if (typeof out.lower === 'number' && Number.isNaN(out.lower)) out.lower = undefined;
  if (out.lower === 0) out.lower = -0;
  if (out.upper === 0) out.upper = 0;
  return out;
}

const isFloat = (type: PrimitiveType) => {
  const kind = parsePrimitive(type).kind;
  return kind === 'float' || kind === 'double';
};

/** The range of a column in a data file, from its metrics. */
export function fileRange(file: DataFile, fieldId: number, type: PrimitiveType): ValueRange {
  const r: ValueRange = {
    lower: decode(type, file.lower_bounds?.get(fieldId)),
    upper: decode(type, file.upper_bounds?.get(fieldId)),
    nullCount: file.null_value_counts?.get(fieldId),
    valueCount: file.value_counts?.get(fieldId),
  };
  return isFloat(type) ? floatRange(r, file.nan_value_counts?.get(fieldId)) : r;
}

const valuesOf = (p: Predicate): unknown[] => ('values' in p ? p.values : 'value' in p ? [p.value] : []);

/** Whether some value in the range may satisfy the predicate. */
export function rangeMayMatch(pred: Predicate, type: PrimitiveType, r: ValueRange): boolean {
  const allNull = r.nullCount !== undefined && r.valueCount !== undefined && r.nullCount === r.valueCount;
  if (pred.op === 'is-null') return r.nullCount === undefined || r.nullCount > 0;
  if (pred.op === 'not-null') return !allNull;
  if (allNull) return false;
  const { lower, upper } = r;
  const c = (a: PrimitiveValue, b: unknown) => compareValues(type, a, b as PrimitiveValue);
  switch (pred.op) {
    case '=':
      return (
        (lower === undefined || c(lower, pred.value) <= 0) &&
        (upper === undefined || c(upper, pred.value) >= 0)
      );
    case '!=':
      return !(
        lower !== undefined &&
        upper !== undefined &&
        c(lower, pred.value) === 0 &&
        c(upper, pred.value) === 0
      );
    case '<':
      return lower === undefined || c(lower, pred.value) < 0;
    case '<=':
      return lower === undefined || c(lower, pred.value) <= 0;
    case '>':
      return upper === undefined || c(upper, pred.value) > 0;
    case '>=':
      return upper === undefined || c(upper, pred.value) >= 0;
    case 'in':
      return valuesOf(pred).some((v) => rangeMayMatch({ op: '=', value: v }, type, r));
  }
  return true;
}

/** Whether every value in the range satisfies the predicate (false when unsure). */
export function rangeAlwaysMatches(pred: Predicate, type: PrimitiveType, r: ValueRange): boolean {
  if (pred.op === 'is-null') return r.nullCount !== undefined && r.nullCount === r.valueCount;
  if (pred.op === 'not-null') return r.nullCount === 0;
  if (r.nullCount !== 0) return false;
  const kind = parsePrimitive(type).kind;
  if (kind === 'float' || kind === 'double') return false;
  const { lower, upper } = r;
  if (lower === undefined || upper === undefined) return false;
  const c = (a: PrimitiveValue, b: unknown) => compareValues(type, a, b as PrimitiveValue);
  const single = c(lower, upper) === 0;
  switch (pred.op) {
    case '=':
      return single && c(lower, pred.value) === 0;
    case '!=':
      return c(lower, pred.value) > 0 || c(upper, pred.value) < 0;
    case '<':
      return c(upper, pred.value) < 0;
    case '<=':
      return c(upper, pred.value) <= 0;
    case '>':
      return c(lower, pred.value) > 0;
    case '>=':
      return c(lower, pred.value) >= 0;
    case 'in':
      return single && valuesOf(pred).some((v) => c(lower, v) === 0);
  }
  return false;
}

/** Partition fields of a spec whose source is the predicate's column, with the projected predicate. */
function projections(
  bound: readonly BoundPartitionField[],
  p: ColumnPredicate,
): { field: BoundPartitionField; index: number; pred: Predicate | true }[] {
  const out: { field: BoundPartitionField; index: number; pred: Predicate | true }[] = [];
  bound.forEach((b, index) => {
    if (b.field['source-id'] !== p.fieldId) return;
    let pred: Predicate | true;
    try {
      pred = projectPredicate(b.transform, p.type, p.pred);
    } catch {
      pred = true;
    }
    out.push({ field: b, index, pred });
  });
  return out;
}

/** Whether a file's partition tuple may hold rows matching all predicates. */
export function partitionMayMatch(
  bound: readonly BoundPartitionField[],
  file: DataFile,
  predicates: readonly ColumnPredicate[],
): boolean {
  for (const p of predicates) {
    for (const { field, pred } of projections(bound, p)) {
      const value = file.partition[field.field.name] ?? null;
      if (!evalPredicate(pred, field.resultType, value)) return false;
    }
  }
  return true;
}

/** Whether an identity partition proves that every row of the file satisfies the predicate. */
export function partitionProves(
  bound: readonly BoundPartitionField[],
  file: DataFile,
  p: ColumnPredicate,
): boolean {
  return bound.some((b) => {
    if (b.field['source-id'] !== p.fieldId || b.transform.kind !== 'identity') return false;
    return evalPredicate(p.pred, b.resultType, file.partition[b.field.name] ?? null);
  });
}

/** Whether a manifest may hold files matching all predicates, from its partition summaries. */
export function manifestMayMatch(
  bound: readonly BoundPartitionField[],
  summaries: readonly FieldSummary[] | null | undefined,
  predicates: readonly ColumnPredicate[],
): boolean {
  if (!summaries) return true;
  for (const p of predicates) {
    for (const { field, index, pred } of projections(bound, p)) {
      const s = summaries[index];
      if (!s || pred === true) continue;
      let range: ValueRange = {
        lower: decode(field.resultType, s.lower_bound),
        upper: decode(field.resultType, s.upper_bound),
        nullCount: s.contains_null ? undefined : 0,
      };
      if (range.lower === undefined && range.upper === undefined && !s.contains_null && !s.contains_nan) {
        return false;
      }
      if (isFloat(field.resultType)) range = floatRange(range, s.contains_nan === false ? 0 : undefined);
      if (!rangeMayMatch(pred, field.resultType, range)) return false;
    }
  }
  return true;
}

/** Whether a file's metrics allow rows matching all predicates. */
export function metricsMayMatch(file: DataFile, predicates: readonly ColumnPredicate[]): boolean {
  for (const p of predicates) {
    if (
      !rangeMayMatch(p.pred, p.type, {
        ...fileRange(file, p.fieldId, p.type),
        valueCount: file.value_counts?.get(p.fieldId),
      })
    )
      return false;
  }
  return true;
}
