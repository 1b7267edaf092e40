/**
 * What both backends share: compare-and-swap and the leased job queue, written once in
 * portable SQL over the backend's `query`/`execute`/`transaction`.
 */
import { randomUUID } from 'node:crypto';
import { BackendError, InvalidInputError } from '../util/index.js';
import { casStatement } from './sql.js';
import type {
  CasRequest,
  ClaimOptions,
  DeadJob,
  EnqueueOptions,
  Job,
  MetaStore,
  Row,
  SqlRunner,
  SqlValue,
} from './types.js';

/** The few SQL fragments where the backends differ. */
export interface Dialect {
  /** The current time in epoch milliseconds on the database clock, so leases ignore host clock skew. */
  nowMs: string;
  /** Suffix of the claim subquery that locks picked rows and skips rows others are claiming. */
  skipLocked: string;
}

/** Claims per call at most. */
const MAX_CLAIM = 1000;

/** A MetaStore whose CAS and queue are built on the backend's SQL runner. */
export abstract class SqlStore implements MetaStore {
  abstract readonly kind: MetaStore['kind'];
  abstract readonly url: string;
  protected abstract readonly dialect: Dialect;
  abstract query<T extends Row = Row>(sql: string, params?: SqlValue[]): Promise<T[]>;
  abstract execute(sql: string, params?: SqlValue[]): Promise<{ rowCount: number }>;
  abstract transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  abstract notify(channel: string, payload?: string): Promise<void>;
  abstract listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>>;
  abstract health(): Promise<{ ok: boolean; detail: string; schemaVersion: number }>;
  abstract close(): Promise<void>;
  /** Apply migrations and start background work; called once by `initialized`. */
  protected abstract init(): Promise<void>;

  /** Initialise a freshly constructed store, closing it again if that fails. */
  static async initialized<S extends SqlStore>(store: S): Promise<S> {
    try {
      await store.init();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /** One conditional UPDATE in a transaction, rolled back if `key` matched more than one row. */
  async compareAndSwap(req: CasRequest): Promise<boolean> {
    const { sql, params } = casStatement(req);
    return this.transaction(async (tx) => {
      const { rowCount } = await tx.execute(sql, params);
      if (rowCount > 1) {
        throw new InvalidInputError(
          `compareAndSwap on ${req.table} matched ${rowCount} rows; nothing was changed`,
          'the "key" columns must be the primary key (or another unique key) of the table',
        );
      }
      return rowCount === 1;
    });
  }

  async enqueue(queue: string, payload: unknown, o: EnqueueOptions = {}): Promise<string> {
    checkName(queue, 'queue');
    if (o.dedupeKey !== undefined) checkName(o.dedupeKey, 'dedupeKey');
    const priority = o.priority === undefined ? 0 : checkInt(o.priority, 'priority');
    const maxAttempts = o.maxAttempts === undefined ? null : checkPositiveInt(o.maxAttempts, 'maxAttempts');
    const db: SqlRunner = o.tx ?? this;
    const now = this.dialect.nowMs;
    const id = randomUUID();
    const { rowCount } = await db.execute(
      `INSERT INTO sluice_jobs (id, queue, payload, dedupe_key, status, run_at, attempts, created_at, priority, max_attempts)
       VALUES (?, ?, ?, ?, 'queued', COALESCE(?, ${now}), 0, ${now}, ?, ?)
       ON CONFLICT (queue, dedupe_key) DO NOTHING`,
      [
        id,
        queue,
        toJson(payload),
        o.dedupeKey ?? null,
        o.runAt ? checkDate(o.runAt, 'runAt') : null,
        priority,
        maxAttempts,
      ],
    );
    if (rowCount === 1) return id;
    const rows = await db.query<{ id: string }>(
      'SELECT id FROM sluice_jobs WHERE queue = ? AND dedupe_key = ?',
      [queue, o.dedupeKey ?? null],
    );
    if (!rows[0]) throw new BackendError(`enqueue on "${queue}" inserted nothing and found no duplicate`);
    return rows[0].id;
  }

  /**
   * One statement: a locked subquery picks due jobs (queued and due, or running with an
   * expired lease), the UPDATE takes the lease. On PostgreSQL FOR UPDATE SKIP LOCKED lets
   * concurrent claimers pass each other; SQLite runs it inside its single write lock.
   */
  async claim(queue: string, o: ClaimOptions): Promise<Job[]> {
    checkName(queue, 'queue');
    checkName(o.workerId, 'workerId');
    const leaseMs = checkPositiveInt(o.leaseMs, 'leaseMs');
    const limit = Math.min(checkPositiveInt(o.limit ?? 1, 'limit'), MAX_CLAIM);
    const now = this.dialect.nowMs;
    // A job whose lease expired on its last allowed claim is dead, not claimable again.
    await this.execute(
      `UPDATE sluice_jobs
       SET status = 'dead', lease_owner = NULL, lease_until = NULL, finished_at = ${now},
           last_error = COALESCE(last_error, 'lease expired on the last attempt')
       WHERE queue = ? AND status = 'running' AND lease_until <= ${now}
         AND max_attempts IS NOT NULL AND attempts >= max_attempts`,
      [queue],
    );
    const rows = await this.query<{
      id: string;
      queue: string;
      payload: string;
      attempts: number;
      lease_until: number;
    }>(
      `WITH picked AS MATERIALIZED (
         SELECT id FROM sluice_jobs
         WHERE queue = ? AND ((status = 'queued' AND run_at <= ${now}) OR (status = 'running' AND lease_until <= ${now}))
         ORDER BY priority DESC, run_at, created_at, id
         LIMIT ?${this.dialect.skipLocked})
       UPDATE sluice_jobs
       SET status = 'running', lease_owner = ?, lease_until = ${now} + ?, attempts = attempts + 1
       WHERE id IN (SELECT id FROM picked)
       RETURNING id, queue, payload, attempts, lease_until`,
      [queue, limit, o.workerId, leaseMs],
    );
    return rows.map((r) => ({
      id: r.id,
      queue: r.queue,
      payload: JSON.parse(r.payload),
      attempts: Number(r.attempts),
      leaseUntil: new Date(Number(r.lease_until)),
    }));
  }

  async heartbeat(jobId: string, workerId: string, leaseMs: number): Promise<boolean> {
    const { rowCount } = await this.execute(
      `UPDATE sluice_jobs SET lease_until = ${this.dialect.nowMs} + ?
       WHERE id = ? AND status = 'running' AND lease_owner = ?`,
      [checkPositiveInt(leaseMs, 'leaseMs'), jobId, workerId],
    );
    return rowCount === 1;
  }

  async complete(jobId: string, workerId: string): Promise<boolean> {
    const { rowCount } = await this.execute(
      `UPDATE sluice_jobs SET status = 'done', lease_until = NULL, last_error = NULL, finished_at = ${this.dialect.nowMs}
       WHERE id = ? AND status = 'running' AND lease_owner = ?`,
      [jobId, workerId],
    );
    return rowCount === 1;
  }

  async fail(
    jobId: string,
    workerId: string,
    o: { retryAt?: Date; error?: string; dead?: boolean } = {},
  ): Promise<boolean> {
    const now = this.dialect.nowMs;
    const dead = `(? = 1 OR (max_attempts IS NOT NULL AND attempts >= max_attempts))`;
    const { rowCount } = await this.execute(
      `UPDATE sluice_jobs
       SET status = CASE WHEN ${dead} THEN 'dead' ELSE 'queued' END,
           finished_at = CASE WHEN ${dead} THEN ${now} ELSE NULL END,
           lease_owner = NULL, lease_until = NULL,
           run_at = COALESCE(?, ${now}), last_error = ?
       WHERE id = ? AND status = 'running' AND lease_owner = ?`,
      [
        o.dead ? 1 : 0,
        o.dead ? 1 : 0,
        o.retryAt ? checkDate(o.retryAt, 'retryAt') : null,
        o.error ?? null,
        jobId,
        workerId,
      ],
    );
    return rowCount === 1;
  }

  async deadJobs(queue: string, o: { limit?: number } = {}): Promise<DeadJob[]> {
    checkName(queue, 'queue');
    const limit = Math.min(checkPositiveInt(o.limit ?? 100, 'limit'), MAX_CLAIM);
    const rows = await this.query<{
      id: string;
      payload: string;
      attempts: number;
      last_error: string | null;
      finished_at: number;
    }>(
      `SELECT id, payload, attempts, last_error, finished_at FROM sluice_jobs
       WHERE queue = ? AND status = 'dead' ORDER BY finished_at, id LIMIT ?`,
      [queue, limit],
    );
    return rows.map((r) => ({
      id: r.id,
      queue,
      payload: JSON.parse(r.payload),
      attempts: Number(r.attempts),
      lastError: r.last_error,
      finishedAt: new Date(Number(r.finished_at)),
    }));
  }

  async purgeJobs(queue: string, before: Date): Promise<number> {
    checkName(queue, 'queue');
    const { rowCount } = await this.execute(
      `DELETE FROM sluice_jobs WHERE queue = ? AND status IN ('done', 'dead') AND finished_at < ?`,
      [queue, checkDate(before, 'before')],
    );
    return rowCount;
  }
}

function checkName(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 255) {
    throw new InvalidInputError(`${what} must be a non-empty string of at most 255 characters`);
  }
  return value;
}

function checkPositiveInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidInputError(`${what} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function checkInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new InvalidInputError(`${what} must be an integer, got ${String(value)}`);
  }
  return value;
}

function checkDate(value: Date, what: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new InvalidInputError(`${what} must be a valid Date`);
  return ms;
}

function toJson(payload: unknown): string {
  try {
    return JSON.stringify(payload ?? null);
  } catch (err) {
    throw new InvalidInputError(
      'job payload is not JSON-serialisable',
      'pass plain objects, arrays, strings and numbers',
      {
        cause: err,
      },
    );
  }
}
