/**
 * The scale-out metastore on PostgreSQL through a pg Pool. SQL arrives with `?`
 * placeholders and is rewritten to `$n`. Results follow the same rules as SQLite:
 * int8 (BIGINT, COUNT(*)) becomes a JS number when it is a safe integer and a bigint
 * otherwise; NUMERIC stays a string; Date and boolean parameters bind as ISO-8601 text and
 * 1/0. Every message that could carry the URL goes through redactUrl/redactText.
 */
import pg from 'pg';
import {
  BackendError,
  ConflictError,
  isNetworkErrorCode,
  redactText,
  redactUrl,
  SluiceError,
} from '../util/index.js';
import { type Dialect, SqlStore } from './base-store.js';
import { applyMigrations, MIGRATION_LOCK_KEY, schemaVersion } from './migrate.js';
import { PgListener } from './postgres-listener.js';
import { assertChannel, normaliseInteger, toPgPlaceholders } from './sql.js';
import type { MetaStoreOptions } from './store-options.js';
import type { Row, SqlRunner, SqlValue } from './types.js';

const INT8_OID = 20;
const REWRITE_CACHE_SIZE = 512;

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (v: string) => normaliseInteger(BigInt(v))
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** Connect, then migrate under an advisory lock so concurrent openers apply each migration once. */
export async function openPostgresStore(url: string, o: MetaStoreOptions = {}): Promise<PostgresStore> {
  const client: pg.ClientConfig = {
    connectionString: url,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 5000,
    keepAlive: true,
    types,
  };
  const pool = new pg.Pool({
    ...client,
    application_name: 'sluice',
    max: o.poolMax ?? 10,
    idleTimeoutMillis: 30_000,
  });
  const store = new PostgresStore(pool, { ...client, application_name: 'sluice-listener' }, url, o.log);
  return SqlStore.initialized(store);
}

/** MetaStore on a PostgreSQL pool, with one extra connection for LISTEN. */
export class PostgresStore extends SqlStore {
  readonly kind = 'postgres';
  readonly url: string;
  protected readonly dialect: Dialect = {
    nowMs: '(extract(epoch from statement_timestamp()) * 1000)::bigint',
    skipLocked: ' FOR UPDATE SKIP LOCKED',
  };
  readonly #pool: pg.Pool;
  readonly #listener: PgListener;
  readonly #log: MetaStoreOptions['log'];
  readonly #rewritten = new Map<string, string>();
  #version = 0;
  #closed = false;

  constructor(pool: pg.Pool, listenerConfig: pg.ClientConfig, url: string, log: MetaStoreOptions['log']) {
    super();
    this.#pool = pool;
    this.url = redactUrl(url);
    this.#log = log;
    this.#listener = new PgListener(listenerConfig, log);
    pool.on('error', (err) => {
      log?.debug(
        { component: 'metastore', err: redactText(err.message) },
        'idle PostgreSQL connection failed',
      );
    });
  }

  protected async init(): Promise<void> {
    this.#version = await this.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
      return applyMigrations(
        { ...tx, exec: async (script) => void (await tx.execute(script)) },
        'postgres',
        this.url,
        this.#log,
      );
    });
  }

  async query<T extends Row = Row>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    this.#assertOpen();
    return (await this.#send(this.#pool, sql, params)).rows as T[];
  }

  async execute(sql: string, params: SqlValue[] = []): Promise<{ rowCount: number }> {
    this.#assertOpen();
    return { rowCount: (await this.#send(this.#pool, sql, params)).rowCount ?? 0 };
  }

  /** BEGIN/COMMIT on one pooled client; a client whose ROLLBACK failed is destroyed, not reused. */
  async transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    this.#assertOpen();
    const client = await this.#pool.connect().catch((err: unknown) => {
      throw this.#translate(err);
    });
    let open = true;
    let broken: Error | undefined;
    const run = (sql: string, params: SqlValue[]) => {
      if (!open) {
        throw new SluiceError(
          'transaction_finished',
          `statement after the transaction ended: ${sql.slice(0, 80)}`,
        );
      }
      return this.#send(client, sql, params);
    };
    const tx: SqlRunner = {
      query: async <R extends Row = Row>(sql: string, params: SqlValue[] = []) =>
        (await run(sql, params)).rows as R[],
      execute: async (sql, params = []) => ({ rowCount: (await run(sql, params)).rowCount ?? 0 }),
    };
    try {
      await this.#send(client, 'BEGIN', []);
      const result = await fn(tx);
      await this.#send(client, 'COMMIT', []);
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
      throw err;
    } finally {
      open = false;
      client.release(broken);
    }
  }

  async notify(channel: string, payload = ''): Promise<void> {
    assertChannel(channel, payload);
    await this.query('SELECT pg_notify(?, ?)', [channel, payload]);
  }

  async listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>> {
    assertChannel(channel);
    this.#assertOpen();
    const listener = (payload: string) => handler(payload);
    await this.#listener.add(channel, listener).catch((err: unknown) => {
      throw this.#translate(err);
    });
    return () => this.#listener.remove(channel, listener);
  }

  async health(): Promise<{ ok: boolean; detail: string; schemaVersion: number }> {
    try {
      this.#version = await schemaVersion(this);
      const [row] = await this.query<{ v: string }>("SELECT current_setting('server_version') AS v");
      return { ok: true, detail: `PostgreSQL ${row?.v} at ${this.url}`, schemaVersion: this.#version };
    } catch (err) {
      return {
        ok: false,
        detail: redactText(err instanceof Error ? err.message : String(err)),
        schemaVersion: this.#version,
      };
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#listener.close();
    await this.#pool.end();
  }

  async #send(db: pg.Pool | pg.PoolClient, sql: string, params: SqlValue[]): Promise<pg.QueryResult> {
    try {
      return params.length === 0 ? await db.query(sql) : await db.query(this.#rewrite(sql), params.map(bind));
    } catch (err) {
      throw this.#translate(err, sql);
    }
  }

  #rewrite(sql: string): string {
    let text = this.#rewritten.get(sql);
    if (text === undefined) {
      text = toPgPlaceholders(sql);
      if (this.#rewritten.size >= REWRITE_CACHE_SIZE) this.#rewritten.clear();
      this.#rewritten.set(sql, text);
    }
    return text;
  }

  #translate(err: unknown, sql?: string): unknown {
    if (!(err instanceof Error)) return err;
    const code = (err as { code?: unknown }).code;
    const reason = redactText(
      err.message || (typeof code === 'string' ? code : '') || errorsOf(err) || 'connection failed',
    );
    if (isConnectionFailure(err, code)) {
      return new BackendError(`cannot reach PostgreSQL at ${this.url}: ${reason}`, connectionHint(code), {
        cause: err,
      });
    }
    if (code === '23505') {
      const detail = (err as { detail?: string }).detail;
      return new ConflictError(
        `unique constraint violated: ${reason}${detail ? ` (${detail})` : ''}`,
        undefined,
        {
          cause: err,
        },
      );
    }
    if (typeof code !== 'string') return err;
    const where = sql ? ` in: ${redactText(sql.replace(/\s+/g, ' ').trim().slice(0, 160))}` : '';
    return new BackendError(`PostgreSQL error ${code}: ${reason}${where}`, undefined, { cause: err });
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

/** Node's happy-eyeballs connect throws an AggregateError with an empty message. */
function errorsOf(err: Error): string {
  return err instanceof AggregateError ? err.errors.map((e: Error) => e.message).join('; ') : '';
}

function isConnectionFailure(err: Error, code: unknown): boolean {
  if (isNetworkErrorCode(code)) return true;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    // SQLSTATE 08: connection exception, 28: authorization, 3D000: no such database, 57P0x: shutting down.
    return code.startsWith('08') || code.startsWith('28') || code === '3D000' || code.startsWith('57P0');
  }
  return /timeout|terminated|Connection ended|not queryable/i.test(err.message);
}

function connectionHint(code: unknown): string {
  if (typeof code === 'string' && code.startsWith('28'))
    return 'check the user and password in metastore.url';
  if (code === '3D000')
    return 'create the database first (CREATE DATABASE ...) or fix its name in metastore.url';
  return 'check that PostgreSQL is running and that metastore.url has the right host, port and database';
}

function bind(v: SqlValue): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v ?? null;
}
