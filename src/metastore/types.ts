/** Values that can be bound as SQL parameters on both backends. */
export type SqlValue = string | number | bigint | boolean | null | Buffer | Date;

export type Row = Record<string, unknown>;

/**
 * Statement runner shared by the store and its transactions. SQL uses `?` placeholders;
 * the PostgreSQL implementation rewrites them to `$1..$n`. Keep SQL portable: the subset
 * both SQLite and PostgreSQL accept (ON CONFLICT upserts, RETURNING, standard types).
 */
export interface SqlRunner {
  /** Rows of a query. */
  query<T extends Row = Row>(sql: string, params?: SqlValue[]): Promise<T[]>;
  /** Run a statement; returns the number of rows it changed. */
  execute(sql: string, params?: SqlValue[]): Promise<{ rowCount: number }>;
}

/** A compare-and-swap on one row: `set` is applied only if the row matches `key` and `expected`. */
export interface CasRequest {
  table: string;
  key: Record<string, SqlValue>;
  expected: Record<string, SqlValue>;
  set: Record<string, SqlValue>;
}

export interface Job {
  id: string;
  queue: string;
  payload: unknown;
  /** How many times this job has been claimed, this claim included. */
  attempts: number;
  leaseUntil: Date;
}

export interface EnqueueOptions {
  /** Not claimable before this time. */
  runAt?: Date;
  /** Idempotency key: a second enqueue with the same key in the same queue is ignored. */
  dedupeKey?: string;
  /** Higher first among due jobs (default 0). */
  priority?: number;
  /**
   * Claims allowed at most: a job whose lease expires on its last claim, or that fails on
   * it, becomes `dead` instead of claimable again. Unlimited when unset.
   */
  maxAttempts?: number;
  /** Insert inside this open transaction, so the job appears atomically with other changes. */
  tx?: SqlRunner;
}

/** A job that ran out of attempts, kept for inspection until purged. */
export interface DeadJob {
  id: string;
  queue: string;
  payload: unknown;
  attempts: number;
  lastError: string | null;
  finishedAt: Date;
}

export interface ClaimOptions {
  workerId: string;
  leaseMs: number;
  /** Jobs claimed at most (default 1). */
  limit?: number;
}

/**
 * The metadata store: catalog pointers, run history, queues, state. SQLite embedded,
 * PostgreSQL at scale; the same contract tests run against both.
 */
export interface MetaStore extends SqlRunner {
  readonly kind: 'sqlite' | 'postgres';
  /** The URL with its password masked. */
  readonly url: string;
  /**
   * Run `fn` in one transaction; commit if it resolves, roll back if it throws.
   * On SQLite, transactions are queued (one writer) and start IMMEDIATE.
   */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /** Atomic compare-and-swap of one row. True if the row was updated. */
  compareAndSwap(req: CasRequest): Promise<boolean>;
  /** Add a job to a queue; returns its id (the existing id for a duplicate dedupeKey). */
  enqueue(queue: string, payload: unknown, o?: EnqueueOptions): Promise<string>;
  /** Claim due jobs no one holds a live lease on; each job is held by one worker at a time. */
  claim(queue: string, o: ClaimOptions): Promise<Job[]>;
  /** Extend a lease; false if the worker no longer holds the job. */
  heartbeat(jobId: string, workerId: string, leaseMs: number): Promise<boolean>;
  /** Finish a job held by the worker; false if the lease was lost. */
  complete(jobId: string, workerId: string): Promise<boolean>;
  /**
   * Release a job after a failure, claimable again at `retryAt` (default now); with `dead`,
   * or when the job has used its `maxAttempts`, it becomes dead instead.
   */
  fail(
    jobId: string,
    workerId: string,
    o?: { retryAt?: Date; error?: string; dead?: boolean },
  ): Promise<boolean>;
  /** Jobs of `queue` that ran out of attempts, oldest first. */
  deadJobs(queue: string, o?: { limit?: number }): Promise<DeadJob[]>;
  /** Delete finished (done and dead) jobs of `queue` that finished before `before`; returns how many. */
  purgeJobs(queue: string, before: Date): Promise<number>;
  /** Tell every listener of `channel`, in this process and others. */
  notify(channel: string, payload?: string): Promise<void>;
  /** Listen on `channel`; returns a function that stops listening. */
  listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>>;
  /** The applied schema version and a round trip to the backend, for `sluice status`. */
  health(): Promise<{ ok: boolean; detail: string; schemaVersion: number }>;
  close(): Promise<void>;
}
