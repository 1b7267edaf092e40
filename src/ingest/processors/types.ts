/**
 * The contract between the ingest pipeline (sources, raw zone, sinks) and the processors
 * that clean records in between. Processors work on DuckDB tables, vectorised: the input
 * is a table of records, the output a table of good records and a table of rejected ones.
 */
import type { z } from 'zod';
import type { DuckConnection } from '../../duck/index.js';
import type { Logger } from '../../observe/index.js';

/**
 * Columns every input table carries besides the record's own columns; processors keep
 * them on every output row and never treat them as data.
 * - `__raw_object` VARCHAR: the raw-zone key of the payload the record came from;
 * - `__raw_row` BIGINT: the record's position in that payload (0-based).
 */
export const LINEAGE_COLUMNS = ['__raw_object', '__raw_row'] as const;

/** What processors get to run. */
export interface ProcessorContext {
  /** A connection held for the whole chain; temp tables created on it are private to it. */
  conn: DuckConnection;
  log: Logger;
  signal?: AbortSignal;
  /** Directory of the project, for resolving `ts:` module paths. */
  projectDir: string;
}

/** What a chain of processors produced. */
export interface ProcessorOutput {
  /** Temp table of good records (record columns + lineage columns). */
  output: string;
  /**
   * Temp table of rejected records, one row per record: `__reason` VARCHAR (every failed
   * check, `; `-separated, naming column and rule), `__processor` VARCHAR (which step),
   * `__record` JSON (the original record as it entered that step), plus the lineage columns.
   */
  rejected: string;
  /** Rows in `output` and `rejected`. */
  counts: { output: number; rejected: number };
}

/** A chain of processor steps as written in a pipeline file (validated by its schema). */
export interface Processors<Spec> {
  /** Schema of the `processors:` list of an ingest task. */
  schema: z.ZodType<Spec[]>;
  /** Run the steps in order over the table `input`. @throws InvalidInputError for a bad expression, naming the step */
  apply(ctx: ProcessorContext, input: string, steps: Spec[]): Promise<ProcessorOutput>;
}
