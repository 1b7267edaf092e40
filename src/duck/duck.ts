/**
 * A pool of connections over one in-memory DuckDB instance. Every area that runs SQL over
 * table data (writes, scans, query serving) shares it, so memory and threads are bounded
 * once for the process.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { BackendError, InvalidInputError } from '../util/index.js';
import { queryError } from './errors.js';
import { DuckDBInstance, StatementType } from './node-api.js';
import { registerBucketUdfs } from './udfs.js';

/** Settings of the DuckDB instance. */
export interface DuckOptions {
  /** DuckDB `memory_limit`, e.g. `'2GB'`; default DuckDB's (80% of RAM). */
  memoryLimit?: string;
  /** Worker threads; default DuckDB's (number of cores). */
  threads?: number;
  /** Directory where DuckDB spills when memory runs short. */
  tempDir?: string;
  /** Connections open at once; callers beyond this wait. Default 8. */
  maxConnections?: number;
}

/** Positional (`$1`, `?`) or named (`$name`) parameters. */
export type SqlParams = DuckDBValue[] | Record<string, DuckDBValue>;

/** Options of one statement. */
export interface QueryOptions {
  /** Aborting interrupts the statement; it then fails with QueryCancelledError. */
  signal?: AbortSignal;
}

/** A plain row: column name → JS value (BIGINT → bigint, DECIMAL → number, DATE/TIMESTAMP → Date, BLOB → Uint8Array). */
export type Row = Record<string, unknown>;

/** One connection, held exclusively by the caller of `withConnection`. */
export interface DuckConnection {
  /** Run statements, discarding results. @throws QueryError */
  run(sql: string, params?: SqlParams, o?: QueryOptions): Promise<void>;
  /** All rows as plain objects (for small results). @throws QueryError */
  all<T = Row>(sql: string, params?: SqlParams, o?: QueryOptions): Promise<T[]>;
  /**
   * The columns (name, DuckDB type) of a query, from binding it without running it; undefined
   * when `sql` is not a query. @throws QueryError for SQL that does not bind
   */
  columns(sql: string, o?: QueryOptions): Promise<{ name: string; type: string }[] | undefined>;
  /** Rows in batches of up to 2048, fetched as the consumer pulls (for large results). @throws QueryError */
  stream<T = Row>(sql: string, params?: SqlParams, o?: QueryOptions): AsyncIterable<T[]>;
  /** The underlying connection, for appenders and prepared statements. */
  readonly raw: DuckDBConnection;
}

const PREFIX_SETTINGS = ["SET TimeZone = 'UTC'"];

async function guarded<T>(
  conn: DuckDBConnection,
  sql: string,
  o: QueryOptions | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const signal = o?.signal;
  if (signal?.aborted) throw queryError(signal.reason ?? new Error('aborted'), sql, signal);
  const onAbort = () => conn.interrupt();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await fn();
  } catch (err) {
    throw queryError(err, sql, signal);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

class PooledConnection implements DuckConnection {
  constructor(readonly raw: DuckDBConnection) {}

  async run(sql: string, params?: SqlParams, o?: QueryOptions): Promise<void> {
    await guarded(this.raw, sql, o, () => this.raw.run(sql, params));
  }

  async all<T = Row>(sql: string, params?: SqlParams, o?: QueryOptions): Promise<T[]> {
    return guarded(this.raw, sql, o, async () => {
      const reader = await this.raw.runAndReadAll(sql, params);
      return reader.getRowObjectsJS() as T[];
    });
  }

  columns(sql: string, o?: QueryOptions): Promise<{ name: string; type: string }[] | undefined> {
    return guarded(this.raw, sql, o, async () => {
      const prepared = await this.raw.prepare(sql);
      try {
        if (prepared.statementType !== StatementType.SELECT) return undefined;
        return Array.from({ length: prepared.columnCount }, (_, i) => ({
          name: prepared.columnName(i),
          type: prepared.columnType(i).toString(),
        }));
      } finally {
        prepared.destroySync();
      }
    });
  }

  async *stream<T = Row>(sql: string, params?: SqlParams, o?: QueryOptions): AsyncIterable<T[]> {
    const result = await guarded(this.raw, sql, o, () => this.raw.stream(sql, params));
    const it = result.yieldRowObjectJs()[Symbol.asyncIterator]();
    for (;;) {
      const next = await guarded(this.raw, sql, o, () => it.next());
      if (next.done) return;
      if (next.value.length > 0) yield next.value as T[];
    }
  }
}

/** The process's DuckDB: a bounded pool of connections with the Iceberg bucket UDFs registered. */
export class Duck {
  readonly #instance: DuckDBInstance;
  readonly #max: number;
  readonly #idle: PooledConnection[] = [];
  readonly #waiters: ((c: PooledConnection) => void)[] = [];
  #open = 0;
  #closed = false;

  constructor(instance: DuckDBInstance, maxConnections: number) {
    this.#instance = instance;
    this.#max = maxConnections;
  }

  /** Run `fn` with a connection of its own; temp tables and settings it creates live until it returns. */
  async withConnection<T>(fn: (c: DuckConnection) => Promise<T>, o: QueryOptions = {}): Promise<T> {
    const conn = await this.#acquire(o.signal);
    let healthy = true;
    try {
      return await fn(conn);
    } catch (err) {
      // A fatal error invalidates the database; anything else (interrupts included) leaves the connection usable.
      healthy = !(err instanceof Error && /FATAL|invalidated/i.test(err.message));
      throw err;
    } finally {
      this.#release(conn, healthy);
    }
  }

  /** Run statements on a pooled connection. @throws QueryError */
  run(sql: string, params?: SqlParams, o?: QueryOptions): Promise<void> {
    return this.withConnection((c) => c.run(sql, params, o), o);
  }

  /** All rows of a query as plain objects. @throws QueryError */
  all<T = Row>(sql: string, params?: SqlParams, o?: QueryOptions): Promise<T[]> {
    return this.withConnection((c) => c.all<T>(sql, params, o), o);
  }

  /** Rows of a large result in batches; the connection is held until the iteration ends. @throws QueryError */
  async *stream<T = Row>(sql: string, params?: SqlParams, o?: QueryOptions): AsyncIterable<T[]> {
    const conn = await this.#acquire(o?.signal);
    let healthy = false;
    try {
      yield* conn.stream<T>(sql, params, o);
      healthy = true;
    } finally {
      this.#release(conn, healthy);
    }
  }

  /** Close every connection and the instance; later calls fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#idle.splice(0)) c.raw.closeSync();
    this.#instance.closeSync();
  }

  async #acquire(signal?: AbortSignal): Promise<PooledConnection> {
    if (this.#closed) throw new InvalidInputError('the DuckDB pool is closed');
    signal?.throwIfAborted();
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#open < this.#max) {
      this.#open++;
      try {
        return await this.#connect();
      } catch (err) {
        this.#open--;
        throw err;
      }
    }
    return new Promise<PooledConnection>((resolve, reject) => {
      const waiter = (c: PooledConnection) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(c);
      };
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #release(conn: PooledConnection, healthy: boolean): void {
    if (this.#closed) {
      conn.raw.closeSync();
      return;
    }
    if (!healthy) {
      conn.raw.closeSync();
      this.#open--;
      const waiter = this.#waiters.shift();
      if (waiter) {
        this.#open++;
        this.#connect().then(waiter, () => {
          this.#open--;
        });
      }
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter(conn);
    else this.#idle.push(conn);
  }

  async #connect(): Promise<PooledConnection> {
    const raw = await this.#instance.connect();
    registerBucketUdfs(raw);
    for (const s of PREFIX_SETTINGS) await raw.run(s);
    return new PooledConnection(raw);
  }
}

/**
 * Open an in-memory DuckDB with the given limits (sessions use the UTC time zone).
 * @throws BackendError when DuckDB rejects a setting.
 */
export async function openDuck(o: DuckOptions = {}): Promise<Duck> {
  const config: Record<string, string> = {};
  if (o.memoryLimit) config.memory_limit = o.memoryLimit;
  if (o.threads) config.threads = String(o.threads);
  if (o.tempDir) config.temp_directory = o.tempDir;
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(':memory:', config);
  } catch (err) {
    throw new BackendError(
      `cannot open DuckDB: ${err instanceof Error ? err.message : String(err)}`,
      'check the memoryLimit, threads and tempDir settings',
      { cause: err },
    );
  }
  return new Duck(instance, Math.max(1, o.maxConnections ?? 8));
}
