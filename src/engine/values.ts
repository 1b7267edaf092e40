/** DuckDB values as JSON: what the HTTP API, `sluice sql --format json|ndjson|csv` print. */
import type { DuckDBValue } from '@duckdb/node-api';
import {
  DuckDBArrayValue,
  DuckDBBlobValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
} from '../duck/node-api.js';

/** A JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/**
 * A DuckDB value as JSON: integers beyond 2^53 and decimals that a double cannot hold exactly
 * become strings; lists and arrays arrays; structs objects; maps objects (or key/value pairs
 * when keys are not text); blobs base64; dates, times and timestamps their ISO-like text.
 */
export function jsonValue(v: DuckDBValue): JsonValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof DuckDBDecimalValue) {
    const text = v.toString();
    const n = v.toDouble();
    return String(n) === text.replace(/\.?0+$/, '') || String(n) === text ? n : text;
  }
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) return v.items.map(jsonValue);
  if (v instanceof DuckDBStructValue) {
    const out: Record<string, JsonValue> = {};
    for (const [k, x] of Object.entries(v.entries)) out[k] = jsonValue(x);
    return out;
  }
  if (v instanceof DuckDBMapValue) {
    if (v.entries.every((e) => typeof e.key === 'string')) {
      const out: Record<string, JsonValue> = {};
      for (const e of v.entries) out[e.key as string] = jsonValue(e.value);
      return out;
    }
    return v.entries.map((e) => ({ key: jsonValue(e.key), value: jsonValue(e.value) }));
  }
  if (v instanceof DuckDBBlobValue) return Buffer.from(v.bytes).toString('base64');
  return String(v);
}

/** A row as JSON values. */
export function jsonRow(row: readonly DuckDBValue[]): JsonValue[] {
  return row.map(jsonValue);
}
