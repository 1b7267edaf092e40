/** What `sluice sql` prints: results of statements run embedded or on a server, as JSON values. */
import type { JsonValue } from '../../engine/values.js';

export type { JsonValue };

/** One statement's result, rows pulled as they are printed. */
export interface SqlRows {
  columns: { name: string; type: string }[];
  statementType: string;
  rowsChanged?: number;
  rows: AsyncIterable<JsonValue[][]>;
}

/** Runs statements: the embedded engine or a server's HTTP API. */
export interface SqlRunner {
  /** @throws the engine's or server's error */
  run(sql: string, signal: AbortSignal): Promise<SqlRows>;
  /** Copy a query's rows into a Parquet file; the number of rows (NaN when a server did not say). */
  toParquet(sql: string, file: string, signal: AbortSignal): Promise<number>;
  close(): Promise<void>;
}
