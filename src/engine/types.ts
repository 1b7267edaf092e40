/**
 * The query engine's contract, shared by every surface that runs SQL for users
 * (`sluice sql`, POST /api/v1/sql, the PostgreSQL wire server, models).
 */
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import type { ExportedFile } from './export.js';

/** Who runs a statement and what they may do. */
export interface SessionUser {
  name: string;
  /** Read-only users cannot write tables or change engine state (SQLSTATE 42501). */
  readOnly: boolean;
}

/** How a masked column reads: a SHA-256 hex digest of its text, `****`, or NULL. */
export type MaskMethod = 'hash' | 'redact' | 'null';

/** A lake table a statement reads or writes, as the access hook sees it. */
export interface TableAccess {
  /** `namespace.table` */
  name: string;
  /** The table's properties (empty for a table a CREATE makes). */
  properties: Readonly<Record<string, string>>;
  /** Columns of its current schema. */
  columns: string[];
}

/**
 * Per-table authorization of a session, called for every lake table each statement reads or
 * writes (before it runs, so a revoked grant applies to the next statement).
 */
export interface AccessHook {
  /**
   * May the session do `action` on `table`? Answers a read with the columns to mask.
   * @throws PermissionError to refuse
   */
  authorize(
    action: 'read' | 'write',
    table: TableAccess,
  ):
    | Promise<{ mask?: Record<string, MaskMethod> } | undefined>
    | { mask?: Record<string, MaskMethod> }
    | undefined;
  /**
   * Trusted sessions (administrators) may read files, call file-reading table functions
   * (read_parquet...) and run statements whose tables cannot be determined (CREATE TEMP VIEW).
   */
  trusted: boolean;
  /** Told after each statement was checked: the tables it reads and writes (for audit). */
  checked?(statement: { sql: string; read: string[]; written: string[] }): void;
}

/** Options of a session. */
export interface SessionOptions {
  /** Without one, the session may read every table (and write unless read-only). */
  access?: AccessHook;
}

/** Options of one statement. */
export interface RunOptions {
  /** Positional parameters for `$1`, `$2`, ... (already converted to JS values). */
  params?: unknown[];
  /** Aborting cancels the statement; it then fails with QueryCancelledError. */
  signal?: AbortSignal;
  /** Overrides the engine's default statement timeout (ms; 0 = none). */
  timeoutMs?: number;
  /**
   * Key columns of an `INSERT OR REPLACE` into a table without identifier columns (model
   * builds merge by their `unique_key`); default: the table's identifier columns.
   */
  replaceKey?: string[];
  /**
   * Properties set on the lake table or view a `CREATE` statement makes (on a replaced view,
   * merged into its properties): model builds tag a view's PII columns with it.
   */
  properties?: Record<string, string>;
}

/** A result column. */
export interface ResultColumn {
  name: string;
  /** DuckDB's type object, e.g. for mapping to PostgreSQL type OIDs. */
  type: DuckDBType;
}

/** One column of a batch: the value of each row (null for SQL NULL). */
export interface BatchColumn {
  getItem(row: number): DuckDBValue;
}

/** Rows of a result column by column (a DuckDB data chunk). */
export interface ColumnBatch {
  readonly rowCount: number;
  readonly columns: readonly BatchColumn[];
}

/** The result of one statement, consumed once. */
export interface QueryResult {
  columns: ResultColumn[];
  /**
   * Rows in batches as DuckDB values (null, boolean, number, bigint, string, DuckDBDateValue,
   * DuckDBTimestampValue, DuckDBDecimalValue, DuckDBBlobValue, DuckDBListValue, ...), pulled
   * as the consumer iterates: large results are never buffered whole.
   */
  batches(): AsyncIterable<DuckDBValue[][]>;
  /**
   * The same rows column by column (DuckDB data chunks, read value by value from each
   * column's vector), for consumers that encode many rows at once. Use either this or
   * `batches()`, once.
   */
  columnBatches?(): AsyncIterable<ColumnBatch>;
  /** The statement kind for command tags: SELECT, INSERT, DELETE, CREATE_TABLE, SET, ... */
  statementType: string;
  /** Rows inserted/updated/deleted by a write statement. */
  rowsChanged?: number;
  /** Release the connection early (safe to call twice; also done when batches() ends). */
  close(): Promise<void>;
}

/** A statement's shape before it runs (for the extended query protocol). */
export interface PreparedShape {
  columns: ResultColumn[];
  /** Parameter types, by position, as DuckDB infers them (undefined when unknown). */
  paramTypes: (DuckDBType | undefined)[];
}

/** A session: one client's connection-scoped state (search path, SET variables). */
export interface EngineSession {
  readonly user: SessionUser;
  /** Run one statement. @throws QueryError (with position when DuckDB gives one), QueryCancelledError, PermissionError */
  run(sql: string, o?: RunOptions): Promise<QueryResult>;
  /** Describe a statement without running it. */
  describe(sql: string): Promise<PreparedShape>;
  /**
   * Write the rows of one query (SELECT, WITH, VALUES, FROM, TABLE) to a Parquet file in the
   * engine's temp directory, with the checks, slot and timeout of `run`; the caller reads the
   * file and removes it.
   * @throws SqlError (0A000) for a statement that is not a query, and what `run` throws
   */
  exportParquet?(sql: string, o?: RunOptions): Promise<ExportedFile>;
  close(): Promise<void>;
}

/** The engine: catalog tables visible as `namespace.table`, refreshed on every commit. */
export interface Engine {
  openSession(user: SessionUser, o?: SessionOptions): Promise<EngineSession>;
  close(): Promise<void>;
}
