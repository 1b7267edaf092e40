/** QueryResult implementations: rows streamed from DuckDB, and the summary of a write. */
import type { DuckDBDataChunk, DuckDBResult, DuckDBValue } from '@duckdb/node-api';
import { engineError } from './errors.js';
import type { BatchColumn, ColumnBatch, QueryResult, ResultColumn } from './types.js';

/** The lifetime of one statement: its cancellation signal, why it stopped, and its slot. */
export interface StatementControl {
  readonly signal: AbortSignal;
  /** Why the statement was aborted, if it was. */
  abortReason(): { timeoutMs?: number; cancelled?: boolean } | undefined;
  /** Stop the timer and free the slot (safe to call twice). */
  done(): void;
}

/** Rows of a DuckDB result, pulled chunk by chunk as the consumer iterates. */
export class StreamedResult implements QueryResult {
  readonly columns: ResultColumn[];
  readonly statementType: string;
  rowsChanged?: number;
  readonly #result: DuckDBResult;
  readonly #ctl: StatementControl;
  readonly #sql: string;
  readonly #interrupt: () => void;
  #finished = false;
  #closed = false;

  constructor(
    result: DuckDBResult,
    statementType: string,
    sql: string,
    ctl: StatementControl,
    interrupt: () => void,
  ) {
    this.#result = result;
    this.#ctl = ctl;
    this.#sql = sql;
    this.#interrupt = interrupt;
    this.statementType = statementType;
    const names = result.deduplicatedColumnNames();
    this.columns = result.columnTypes().map((type, i) => ({ name: names[i] ?? `column${i}`, type }));
  }

  async *batches(): AsyncIterable<DuckDBValue[][]> {
    for await (const chunk of this.#chunks()) yield chunk.getRows();
  }

  async *columnBatches(): AsyncIterable<ColumnBatch> {
    for await (const chunk of this.#chunks()) {
      const columns: BatchColumn[] = [];
      for (let i = 0; i < chunk.columnCount; i++) columns.push(chunk.getColumnVector(i));
      yield { rowCount: chunk.rowCount, columns };
    }
  }

  async *#chunks(): AsyncIterable<DuckDBDataChunk> {
    if (this.#closed) return;
    try {
      for (;;) {
        this.#ctl.signal.throwIfAborted();
        const chunk = await this.#result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        yield chunk;
      }
      this.#finished = true;
    } catch (err) {
      this.#finished = true;
      throw engineError(
        err,
        this.#sql,
        this.#ctl.abortReason() ?? (this.#ctl.signal.aborted ? { cancelled: true } : undefined),
      );
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // A result abandoned half-way stops computing now rather than at the next statement.
    if (!this.#finished) this.#interrupt();
    this.#ctl.done();
  }
}

/** A statement without rows (a write of a lake table, a setting): only counts. */
export class SummaryResult implements QueryResult {
  readonly columns: ResultColumn[] = [];
  constructor(
    readonly statementType: string,
    readonly rowsChanged?: number,
  ) {}

  async *batches(): AsyncIterable<DuckDBValue[][]> {}

  async close(): Promise<void> {}
}
