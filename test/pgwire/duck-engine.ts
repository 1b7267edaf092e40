/**
 * A small real implementation of the Engine contract over one in-memory DuckDB, with a few
 * tables in schemas, for testing the wire server against real query execution.
 */
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBPreparedStatement,
  type DuckDBValue,
  StatementType,
} from '@duckdb/node-api';
import type {
  Engine,
  EngineSession,
  PreparedShape,
  QueryResult,
  RunOptions,
  SessionUser,
} from '../../src/engine/types.js';
import { SluiceError } from '../../src/util/index.js';

/** Refused write by a read-only user. */
export class PermissionError extends SluiceError {
  readonly sqlState = '42501';
  constructor(message: string) {
    super('forbidden', message);
  }
}

const READ_ONLY_TYPES = new Set([
  'SELECT',
  'EXPLAIN',
  'PRAGMA',
  'SET',
  'VARIABLE_SET',
  'TRANSACTION',
  'CALL',
  'RELATION',
]);

const FIXTURE = `
  CREATE SCHEMA shop;
  CREATE TABLE shop.orders (id INTEGER NOT NULL, customer VARCHAR, amount DECIMAL(10,2), placed_at TIMESTAMP, paid BOOLEAN);
  INSERT INTO shop.orders VALUES
    (1, 'ada', 12.50, TIMESTAMP '2024-01-02 03:04:05', true),
    (2, 'bob', 7.25, TIMESTAMP '2024-02-03 04:05:06.123456', false),
    (3, NULL, 100.00, NULL, NULL);
  CREATE VIEW shop.big_orders AS SELECT * FROM shop.orders WHERE amount > 10;
  CREATE SCHEMA clicks;
  CREATE TABLE clicks.events (event_id UUID, seen_at TIMESTAMPTZ, day DATE, payload JSON, tags VARCHAR[], raw BLOB);
  INSERT INTO clicks.events VALUES
    ('6f1c1e3a-1b2c-4d5e-8f90-123456789abc', TIMESTAMPTZ '2024-03-04 05:06:07+00', DATE '2024-03-04',
     '{"k": 1}', ['a', 'b c'], '\\x00\\xFFab'::BLOB);
`;

/** Open an in-memory DuckDB with the fixture tables and wrap it as an Engine. */
export async function openDuckEngine(): Promise<Engine & { sessions: number; batchesPulled: number }> {
  const instance = await DuckDBInstance.create(':memory:');
  const setup = await instance.connect();
  await setup.run(FIXTURE);
  setup.closeSync();
  let sessions = 0;
  const counters = { batchesPulled: 0 };
  return {
    get sessions() {
      return sessions;
    },
    get batchesPulled() {
      return counters.batchesPulled;
    },
    async openSession(user: SessionUser) {
      sessions++;
      const conn = await instance.connect();
      await conn.run("SET TimeZone = 'UTC'");
      return new DuckSession(user, conn, counters, () => sessions--);
    },
    async close() {
      instance.closeSync();
    },
  };
}

class DuckSession implements EngineSession {
  constructor(
    readonly user: SessionUser,
    readonly conn: DuckDBConnection,
    readonly counters: { batchesPulled: number },
    readonly onClose: () => void,
  ) {}

  async run(sql: string, o: RunOptions = {}): Promise<QueryResult> {
    const prepared = await this.#prepare(sql);
    const type = StatementType[prepared.statementType] ?? 'UNKNOWN';
    if (this.user.readOnly && !READ_ONLY_TYPES.has(type)) {
      throw new PermissionError(
        `permission denied: user "${this.user.name}" is read-only and cannot run ${type}`,
      );
    }
    if (o.params?.length) prepared.bind(o.params as DuckDBValue[]);
    const signal = o.signal;
    const onAbort = () => this.conn.interrupt();
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = o.timeoutMs ? setTimeout(onAbort, o.timeoutMs) : undefined;
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    try {
      signal?.throwIfAborted();
      const result = await prepared.stream();
      const columns = result
        .columnNames()
        .map((name, i) => ({ name, type: result.columnTypes()[i] as never }));
      let closed = false;
      const counters = this.counters;
      async function* chunks() {
        try {
          for (;;) {
            const chunk = await result.fetchChunk();
            if (!chunk || chunk.rowCount === 0) return;
            counters.batchesPulled++;
            yield chunk;
          }
        } finally {
          done();
        }
      }
      return {
        columns,
        statementType: type,
        async *batches() {
          for await (const chunk of chunks()) yield chunk.getRows();
        },
        async *columnBatches() {
          for await (const chunk of chunks()) {
            const vectors = Array.from({ length: chunk.columnCount }, (_, i) => chunk.getColumnVector(i));
            yield { rowCount: chunk.rowCount, columns: vectors };
          }
        },
        async close() {
          if (!closed) done();
          closed = true;
        },
      };
    } catch (err) {
      done();
      throw cancelled(err, signal);
    }
  }

  async describe(sql: string): Promise<PreparedShape> {
    const p = await this.#prepare(sql);
    const columns = Array.from({ length: p.columnCount }, (_, i) => ({
      name: p.columnName(i),
      type: p.columnType(i),
    }));
    const paramTypes = Array.from({ length: p.parameterCount }, (_, i) => {
      try {
        return p.parameterType(i + 1);
      } catch {
        return undefined;
      }
    });
    return { columns, paramTypes };
  }

  async close(): Promise<void> {
    this.conn.closeSync();
    this.onClose();
  }

  async #prepare(sql: string): Promise<DuckDBPreparedStatement> {
    try {
      return await this.conn.prepare(sql);
    } catch (err) {
      throw cancelled(err, undefined);
    }
  }
}

function cancelled(err: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return signal.reason ?? err;
  return err;
}
