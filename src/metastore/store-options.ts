/** Options of {@link openMetaStore}; each backend reads the ones that apply to it. */
export interface MetaStoreOptions {
  /** SQLite: how long to wait for another process's write lock (default 5000). */
  busyTimeoutMs?: number;
  /** PostgreSQL: connections in the pool (default 10). */
  poolMax?: number;
  /** PostgreSQL: give up connecting after this long (default 5000). */
  connectTimeoutMs?: number;
  /** Receives migrations, reconnects and swallowed listener errors; pino-compatible. */
  log?: { debug(...a: unknown[]): void };
}
