/**
 * Column metrics of written Parquet files (spec "Manifests", data_file fields 108-128): sizes,
 * value and null counts per leaf field id, lower/upper bounds. They come from the statistics
 * DuckDB's `COPY ... (RETURN_STATS)` reports for the files it wrote (`metricsFromCopyStats`),
 * or else from one query over `parquet_metadata()` (one row per file and leaf column), casting
 * the statistics text to each column's type; JavaScript only encodes the few resulting values
 * per file.
 */
import type { DuckConnection } from '../duck/index.js';
import { sqlStringList } from '../duck/index.js';
import { DEFAULT_BOUND_LENGTH, truncateLowerBound, truncateUpperBound } from './bounds.js';
import { icebergToDuckdbType, quoteIdent } from './duckdb-types.js';
import { isPrimitive, parsePrimitive } from './primitives.js';
import type { IcebergType, PrimitiveType, PrimitiveValue, StructType } from './types.js';
import { coerceValue, toBinary } from './values.js';

/** A leaf column of a Parquet file written for an Iceberg schema, in Parquet column order. */
export interface LeafColumn {
  id: number;
  type: PrimitiveType;
  /** Top-level name path (for messages). */
  path: string;
  /** The names from the top-level column down (`element`, `key`, `value` inside lists and maps). */
  names: string[];
  /** Bounds are kept for leaves outside lists and maps. */
  bounded: boolean;
  /** Required all the way from the top (a null here breaks the schema). */
  required: boolean;
}

/** Metrics of one data file, keyed by field id. */
export interface FileMetrics {
  recordCount: number;
  columnSizes: Map<number, number>;
  valueCounts: Map<number, number>;
  nullValueCounts: Map<number, number>;
  lowerBounds: Map<number, Uint8Array>;
  upperBounds: Map<number, Uint8Array>;
  /** NaN counts of float and double columns outside lists and maps. */
  nanValueCounts: Map<number, number>;
}

/** Leaves of a schema depth-first, as DuckDB lays out Parquet columns (list element; map key, value). */
export function leafColumns(schema: StructType): LeafColumn[] {
  const out: LeafColumn[] = [];
  const walk = (type: IcebergType, id: number, names: string[], bounded: boolean, required: boolean) => {
    if (isPrimitive(type)) {
      out.push({ id, type, path: names.join('.'), names, bounded, required });
      return;
    }
    if (type.type === 'struct') {
      for (const f of type.fields) walk(f.type, f.id, [...names, f.name], bounded, required && f.required);
    } else if (type.type === 'list') {
      walk(type.element, type['element-id'], [...names, 'element'], false, false);
    } else {
      walk(type.key, type['key-id'], [...names, 'key'], false, false);
      walk(type.value, type['value-id'], [...names, 'value'], false, false);
    }
  };
  for (const f of schema.fields) walk(f.type, f.id, [f.name], true, f.required);
  return out;
}

/** SQL giving a bound in the form `coerceValue` reads exactly (days, micros, decimal text, uuid text). */
function boundRepr(expr: string, type: PrimitiveType): string {
  switch (parsePrimitive(type).kind) {
    case 'date':
      return `CAST(${expr} - DATE '1970-01-01' AS INTEGER)`;
    case 'time':
      return `datediff('microsecond', TIME '00:00:00', ${expr})`;
    case 'timestamp':
    case 'timestamptz':
      return `epoch_us(${expr})`;
    case 'decimal':
    case 'uuid':
      return `CAST(${expr} AS VARCHAR)`;
    case 'float':
    case 'double':
      return `CASE WHEN isnan(${expr}) THEN NULL ELSE CAST(${expr} AS DOUBLE) END`;
    default:
      return expr;
  }
}

/**
 * Typed bound columns of the metrics query: one min and one max per distinct column type, each
 * filtered to the leaves of that type, so the query's aggregates grow with the number of
 * types, not of columns (DuckDB's cost grows faster than linearly with filtered aggregates).
 */
function boundGroups(leaves: readonly LeafColumn[]): { sql: string[]; byLeaf: Map<number, number> } {
  const groups = new Map<string, { type: PrimitiveType; ids: number[] }>();
  leaves.forEach((leaf, i) => {
    if (!leaf.bounded || parsePrimitive(leaf.type).kind === 'boolean') return;
    const t = icebergToDuckdbType(leaf.type);
    const g = groups.get(t) ?? { type: leaf.type, ids: [] };
    g.ids.push(i);
    groups.set(t, g);
  });
  const sql: string[] = [];
  const byLeaf = new Map<number, number>();
  [...groups].forEach(([t, g], n) => {
    const where = `FILTER (WHERE column_id IN (${g.ids.join(', ')}))`;
    sql.push(
      `${boundRepr(`min(TRY_CAST(stats_min_value AS ${t})) ${where}`, g.type)} AS lo${n}`,
      `${boundRepr(`max(TRY_CAST(stats_max_value AS ${t})) ${where}`, g.type)} AS hi${n}`,
    );
    for (const i of g.ids) byLeaf.set(i, n);
  });
  return { sql, byLeaf };
}

const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));

function boundValue(type: PrimitiveType, v: unknown): PrimitiveValue | undefined {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Date) return undefined;
  return coerceValue(type, typeof v === 'bigint' && parsePrimitive(type).kind === 'int' ? Number(v) : v);
}

function emptyMetrics(): FileMetrics {
  return {
    recordCount: 0,
    columnSizes: new Map(),
    valueCounts: new Map(),
    nullValueCounts: new Map(),
    lowerBounds: new Map(),
    upperBounds: new Map(),
    nanValueCounts: new Map(),
  };
}

const isFloatLeaf = (leaf: LeafColumn) => {
  const kind = parsePrimitive(leaf.type).kind;
  return leaf.bounded && (kind === 'float' || kind === 'double');
};

/** A float column of a file whose row groups lack statistics. */
interface FloatScan {
  file: string;
  leaf: LeafColumn;
  m: FileMetrics;
}

/**
 * NaN counts and NaN-free bounds of float columns from their values, for the column chunks
 * DuckDB wrote without statistics: it writes none for chunks holding NaN or ±Infinity, so
 * a chunk with statistics holds no NaN and needs no scan. One query over the files concerned.
 */
async function scanFloats(conn: DuckConnection, scans: readonly FloatScan[], signal?: AbortSignal) {
  if (scans.length === 0) return;
  const files = [...new Set(scans.map((s) => s.file))];
  const leaves = [...new Map(scans.map((s) => [s.leaf.id, s.leaf])).values()];
  const cols = leaves.flatMap((leaf, i) => {
    const col = leaf.names.map(quoteIdent).join('.');
    const real = `FILTER (WHERE NOT isnan(${col}))`;
    return [
      `count_if(isnan(${col})) AS n${i}`,
      `CAST(min(${col}) ${real} AS DOUBLE) AS lo${i}`,
      `CAST(max(${col}) ${real} AS DOUBLE) AS hi${i}`,
    ];
  });
  const rows = await conn.all(
    `SELECT filename, ${cols.join(', ')} FROM read_parquet(${sqlStringList(files)}, filename = true) GROUP BY filename`,
    undefined,
    { signal },
  );
  const byFile = new Map(rows.map((r) => [String(r.filename), r]));
  for (const s of scans) {
    const i = leaves.indexOf(s.leaf);
    const r = byFile.get(s.file);
    if (!r) continue;
    s.m.nanValueCounts.set(s.leaf.id, Number(r[`n${i}`]));
    const lo = boundValue(s.leaf.type, r[`lo${i}`]);
    const hi = boundValue(s.leaf.type, r[`hi${i}`]);
    if (lo !== undefined) s.m.lowerBounds.set(s.leaf.id, toBinary(s.leaf.type, lo));
    if (hi !== undefined) s.m.upperBounds.set(s.leaf.id, toBinary(s.leaf.type, hi));
  }
}

/**
 * Metrics of Parquet files written with `leafColumns(schema)` layout, one query for all files.
 * Boolean bounds are left out (they prune nothing), as are bounds of row groups without
 * statistics. Float columns also get NaN counts, and bounds that leave NaN out (spec:
 * bounds are never NaN), read from the values where DuckDB wrote no statistics.
 */
export async function collectMetrics(
  conn: DuckConnection,
  files: readonly string[],
  schema: StructType,
  signal?: AbortSignal,
): Promise<Map<string, FileMetrics>> {
  const out = new Map<string, FileMetrics>();
  if (files.length === 0) return out;
  const leaves = leafColumns(schema);
  const bounds = boundGroups(leaves);
  const empty = 'stats_null_count = num_values';
  const select = [
    'file_name',
    'column_id',
    'sum(row_group_num_rows) AS rows',
    'sum(total_compressed_size) AS s',
    'sum(num_values) AS v',
    'sum(stats_null_count) AS n',
    `bool_and(stats_min_value IS NOT NULL OR ${empty}) AS lok`,
    `bool_and((stats_max_value IS NOT NULL AND max_is_exact) OR ${empty}) AS hik`,
    ...bounds.sql,
  ];
  // One row per file and leaf column.
  const rows = await conn.all(
    `SELECT ${select.join(', ')} FROM parquet_metadata(${sqlStringList(files)}) GROUP BY file_name, column_id`,
    undefined,
    { signal },
  );
  const floatsToScan: FloatScan[] = [];
  for (const r of rows) {
    const file = String(r.file_name);
    let m = out.get(file);
    if (!m) {
      m = emptyMetrics();
      out.set(file, m);
    }
    const i = Number(r.column_id);
    const leaf = leaves[i];
    if (i === 0) m.recordCount = num(r.rows) ?? 0;
    if (!leaf) continue;
    const size = num(r.s);
    const values = num(r.v);
    const nulls = num(r.n);
    if (size !== undefined) m.columnSizes.set(leaf.id, size);
    if (values !== undefined) m.valueCounts.set(leaf.id, values);
    if (nulls !== undefined) m.nullValueCounts.set(leaf.id, nulls);
    if (isFloatLeaf(leaf)) {
      if (r.lok === true && r.hik === true) m.nanValueCounts.set(leaf.id, 0);
      else floatsToScan.push({ file, leaf, m });
    }
    const g = bounds.byLeaf.get(i);
    if (g === undefined) continue;
    const lo = r.lok === true ? boundValue(leaf.type, r[`lo${g}`]) : undefined;
    const hi = r.hik === true ? boundValue(leaf.type, r[`hi${g}`]) : undefined;
    if (lo !== undefined) m.lowerBounds.set(leaf.id, toBinary(leaf.type, truncateLowerBound(leaf.type, lo)));
    const upper = hi === undefined ? null : truncateUpperBound(leaf.type, hi, DEFAULT_BOUND_LENGTH);
    if (upper !== null) m.upperBounds.set(leaf.id, toBinary(leaf.type, upper));
  }
  await scanFloats(conn, floatsToScan, signal);
  for (const f of files) if (!out.has(f)) out.set(f, emptyMetrics());
  return out;
}

/** One row of `COPY ... (RETURN_STATS)`: a file DuckDB wrote and its column statistics. */
export interface CopyStatsRow {
  filename: string;
  count: bigint | number;
  file_size_bytes: bigint | number;
  /** Per leaf column (`"a"."b"`), its statistics as text: min, max, null_count, num_values, ... */
  column_statistics: { key: string; value: { key: string; value: string }[] }[] | null;
}

/** Leaf types whose bounds are read from the footers: DuckDB's statistics text of bytes is ambiguous. */
const FOOTER_BOUND_KINDS = new Set(['binary', 'fixed']);

/** DuckDB's column name path of a leaf in RETURN_STATS (`"list"."element"`). */
function statsKey(leaf: LeafColumn): string {
  return leaf.names.map(quoteIdent).join('.');
}

/** A bound from DuckDB's statistics text. @throws for text it does not read (the caller falls back). */
function boundFromText(type: PrimitiveType, text: string): PrimitiveValue {
  const kind = parsePrimitive(type).kind;
  if (kind === 'int' || kind === 'long') return coerceValue(type, BigInt(text));
  if (kind === 'float' || kind === 'double') {
    const n = text === 'inf' ? Infinity : text === '-inf' ? -Infinity : Number(text);
    if (Number.isNaN(n)) throw new Error(`not a number: ${text}`);
    return coerceValue(type, n);
  }
  return coerceValue(type, text);
}

/**
 * Metrics of unpartitioned files from the statistics `COPY ... (RETURN_STATS)` returned, or
 * undefined when a leaf's statistics are missing or of a type read only from the files (the
 * caller then uses `collectMetrics`). String statistics may be a prefix of the value (DuckDB
 * keeps 256 bytes); bounds keep 16 characters, so a prefix still gives valid bounds. Float
 * columns holding NaN get their NaN count and bounds from one scan of their values.
 */
export async function metricsFromCopyStats(
  conn: DuckConnection,
  rows: readonly CopyStatsRow[],
  schema: StructType,
  signal?: AbortSignal,
): Promise<Map<string, FileMetrics> | undefined> {
  const leaves = leafColumns(schema);
  const bounded = (leaf: LeafColumn) => leaf.bounded && parsePrimitive(leaf.type).kind !== 'boolean';
  if (leaves.some((leaf) => bounded(leaf) && FOOTER_BOUND_KINDS.has(parsePrimitive(leaf.type).kind)))
    return undefined;
  const out = new Map<string, FileMetrics>();
  const floatsToScan: FloatScan[] = [];
  for (const row of rows) {
    const m = emptyMetrics();
    m.recordCount = Number(row.count);
    const stats = new Map(
      (row.column_statistics ?? []).map((c) => [c.key, new Map(c.value.map((kv) => [kv.key, kv.value]))]),
    );
    for (const leaf of leaves) {
      const st = stats.get(statsKey(leaf));
      if (!st) {
        if (m.recordCount === 0) continue;
        return undefined;
      }
      const size = num(st.get('column_size_bytes'));
      const values = num(st.get('num_values'));
      const nulls = num(st.get('null_count'));
      if (values === undefined || nulls === undefined) return undefined;
      if (size !== undefined) m.columnSizes.set(leaf.id, size);
      m.valueCounts.set(leaf.id, values);
      m.nullValueCounts.set(leaf.id, nulls);
      const lo = st.get('min');
      const hi = st.get('max');
      if (isFloatLeaf(leaf)) {
        const nan = st.get('has_nan');
        if (nan !== 'false' && !(nan === undefined && nulls === values)) {
          floatsToScan.push({ file: row.filename, leaf, m });
          continue;
        }
        m.nanValueCounts.set(leaf.id, 0);
      }
      if (!bounded(leaf) || lo === undefined || hi === undefined) continue;
      let low: PrimitiveValue;
      let high: PrimitiveValue;
      try {
        low = boundFromText(leaf.type, lo);
        high = boundFromText(leaf.type, hi);
      } catch {
        return undefined;
      }
      m.lowerBounds.set(leaf.id, toBinary(leaf.type, truncateLowerBound(leaf.type, low)));
      const upper = truncateUpperBound(leaf.type, high, DEFAULT_BOUND_LENGTH);
      if (upper !== null) m.upperBounds.set(leaf.id, toBinary(leaf.type, upper));
    }
    out.set(row.filename, m);
  }
  await scanFloats(conn, floatsToScan, signal);
  return out;
}
