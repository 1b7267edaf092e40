/**
 * The embedded metastore: one SQLite file through better-sqlite3, WAL journal,
 * synchronous=NORMAL (durable against process crashes; a power loss may drop the last
 * commits), foreign keys on. Writes from this process are serialised by a queue and
 * transactions start IMMEDIATE, so other processes wait on busy_timeout instead of
 * failing midway.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import {
  BackendError,
  ConflictError,
  errorMessage,
  InvalidInputError,
  redactUrl,
  SluiceError,
} from '../util/index.js';
import { type Dialect, SqlStore } from './base-store.js';
import { applyMigrations, schemaVersion } from './migrate.js';
import { SerialQueue } from './serial-queue.js';
import { assertChannel, normaliseInteger } from './sql.js';
import { SqliteNotifier } from './sqlite-notifier.js';
import type { MetaStoreOptions } from './store-options.js';
import type { Row, SqlRunner, SqlValue } from './types.js';

type Statement = Database.Statement<unknown[], unknown>;

const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const STATEMENT_CACHE_SIZE = 256;

/** The database file named by `sqlite://./rel.db`, `sqlite:///abs.db` or `sqlite::memory:`. */
export function sqlitePath(url: string): string {
  const rest = url.replace(/^sqlite:/i, '').replace(/[?#].*$/, '');
  const path = decodeURIComponent(rest.startsWith('//') ? rest.slice(2) : rest);
  if (path === ':memory:') return path;
  if (!path) {
    throw new InvalidInputError(
      `metastore URL ${url} names no database file`,
      'use sqlite://./.sluice/meta.db (relative) or sqlite:///abs/path/meta.db',
    );
  }
  return resolve(process.cwd(), path);
}

/** Open (creating if needed) and migrate a SQLite metastore. */
export async function openSqliteStore(url: string, o: MetaStoreOptions = {}): Promise<SqliteStore> {
  const file = sqlitePath(url);
  const busyTimeoutMs = o.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  let db: Database.Database;
  try {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    db = new Database(file, { timeout: busyTimeoutMs });
  } catch (err) {
    throw new BackendError(
      `cannot open SQLite database ${file}: ${errorMessage(err)}`,
      'check that its directory exists and is writable',
      {
        cause: err,
      },
    );
  }
  const store = new SqliteStore(db, url, file, busyTimeoutMs, o.log);
  return SqlStore.initialized(store);
}

/** MetaStore on one better-sqlite3 connection; see the file comment for the locking model. */
export class SqliteStore extends SqlStore {
  readonly kind = 'sqlite';
  readonly url: string;
  protected readonly dialect: Dialect = {
    nowMs: "CAST(unixepoch('subsec') * 1000 AS INTEGER)",
    skipLocked: '',
  };
  readonly #db: Database.Database;
  readonly #file: string;
  readonly #busyTimeoutMs: number;
  readonly #log: MetaStoreOptions['log'];
  readonly #writer = new SerialQueue();
  readonly #statements = new Map<string, Statement>();
  readonly #notifier: SqliteNotifier;
  #version = 0;
  #closed = false;

  constructor(
    db: Database.Database,
    url: string,
    file: string,
    busyTimeoutMs: number,
    log: MetaStoreOptions['log'],
  ) {
    super();
    this.#db = db;
    this.url = redactUrl(url);
    this.#file = file;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#log = log;
    this.#notifier = new SqliteNotifier(this, log);
  }

  /** Set the pragmas and apply pending migrations under the write lock. */
  protected async init(): Promise<void> {
    this.#guard(() => {
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = NORMAL');
      this.#db.pragma('foreign_keys = ON');
    });
    this.#version = await this.transaction((tx) =>
      applyMigrations(
        {
          ...tx,
          exec: async (script) => {
            this.#guard(() => this.#db.exec(script));
          },
        },
        'sqlite',
        this.url,
        this.#log,
      ),
    );
  }

  async query<T extends Row = Row>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    this.#assertOpen();
    if (this.#writer.idle) return this.#guard(() => this.#all<T>(sql, params), sql);
    return this.#writer.run(() => this.#guard(() => this.#all<T>(sql, params), sql));
  }

  async execute(sql: string, params: SqlValue[] = []): Promise<{ rowCount: number }> {
    this.#assertOpen();
    if (this.#writer.idle) return this.#guard(() => this.#run(sql, params), sql);
    return this.#writer.run(() => this.#guard(() => this.#run(sql, params), sql));
  }

  /**
   * Queued behind this process's other writes; BEGIN IMMEDIATE waits up to busy_timeout for
   * other processes. Inside `fn`, use `tx`: a call on the store itself would wait for `fn`.
   */
  async transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    this.#assertOpen();
    return this.#writer.run(async () => {
      this.#guard(() => this.#statement('BEGIN IMMEDIATE').run());
      let open = true;
      const check = (sql: string): void => {
        if (!open)
          throw new SluiceError(
            'transaction_finished',
            `statement after the transaction ended: ${sql.slice(0, 80)}`,
          );
      };
      const tx: SqlRunner = {
        query: async <R extends Row = Row>(sql: string, params: SqlValue[] = []) => {
          check(sql);
          return this.#guard(() => this.#all<R>(sql, params), sql);
        },
        execute: async (sql, params = []) => {
          check(sql);
          return this.#guard(() => this.#run(sql, params), sql);
        },
      };
      try {
        const result = await fn(tx);
        this.#guard(() => this.#statement('COMMIT').run());
        return result;
      } catch (err) {
        if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
        throw err;
      } finally {
        open = false;
      }
    });
  }

  async notify(channel: string, payload = ''): Promise<void> {
    assertChannel(channel, payload);
    await this.#notifier.notify(channel, payload);
  }

  async listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>> {
    assertChannel(channel);
    this.#assertOpen();
    return this.#notifier.listen(channel, handler);
  }

  async health(): Promise<{ ok: boolean; detail: string; schemaVersion: number }> {
    try {
      this.#version = await schemaVersion(this);
      const [row] = await this.query<{ v: string }>('SELECT sqlite_version() AS v');
      const mode = this.#db.pragma('journal_mode', { simple: true });
      return {
        ok: true,
        detail: `SQLite ${row?.v} at ${this.#file} (${mode})`,
        schemaVersion: this.#version,
      };
    } catch (err) {
      return { ok: false, detail: errorMessage(err), schemaVersion: this.#version };
    }
  }

  /** Waits for queued work, stops polling and closes the file (checkpointing the WAL). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#notifier.close();
    await this.#writer.drain();
    this.#closed = true;
    this.#statements.clear();
    if (this.#db.open) this.#db.close();
  }

  #statement(sql: string): Statement {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql).safeIntegers(true);
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.#statements.keys().next().value;
        if (oldest !== undefined) this.#statements.delete(oldest);
      }
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  #all<T>(sql: string, params: SqlValue[]): T[] {
    const stmt = this.#statement(sql);
    if (!stmt.reader) {
      stmt.run(...bind(params));
      return [];
    }
    const rows = stmt.all(...bind(params)) as Row[];
    for (const row of rows) {
      for (const k in row) {
        const v = row[k];
        if (typeof v === 'bigint') row[k] = normaliseInteger(v);
      }
    }
    return rows as T[];
  }

  #run(sql: string, params: SqlValue[]): { rowCount: number } {
    return { rowCount: this.#statement(sql).run(...bind(params)).changes };
  }

  /** Run a synchronous database call, turning SQLite errors into Sluice errors. */
  #guard<T>(fn: () => T, sql?: string): T {
    try {
      return fn();
    } catch (err) {
      throw this.#translate(err, sql);
    }
  }

  #translate(err: unknown, sql?: string): unknown {
    if (!(err instanceof Database.SqliteError)) return err;
    const code = err.code;
    if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
      return new ConflictError(`unique constraint violated: ${err.message}`, undefined, { cause: err });
    }
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      return new BackendError(
        `SQLite database ${this.#file} stayed locked by another process for more than ${this.#busyTimeoutMs} ms`,
        'another process holds a long write transaction; retry later, raise busyTimeoutMs, or use PostgreSQL for many concurrent writers',
        { cause: err },
      );
    }
    const where = sql ? ` in: ${sql.replace(/\s+/g, ' ').trim().slice(0, 160)}` : '';
    return new BackendError(`SQLite error ${code}: ${err.message}${where}`, undefined, { cause: err });
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new BackendError(
        `the metastore at ${this.url} is closed`,
        'open a new store with openMetaStore()',
      );
    }
  }
}

/** better-sqlite3 binds numbers as REAL and rejects booleans and Dates; bind the portable way. */
function bind(params: SqlValue[]): unknown[] {
  return params.map((v) => {
    if (v === undefined || v === null) return null;
    if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (v instanceof Date) return v.toISOString();
    return v;
  });
}
