/**
 * The background flusher of the server: flushes the outbox every `intervalMs` (and once
 * more on stop), one flush at a time; a failed flush is logged and retried on the next tick.
 */
import type { Duck } from '../duck/index.js';
import { errorMessage } from '../util/index.js';
import { type FlushOptions, flushSystemTables, openFlushDuck, type SystemRuntime } from './flush.js';

/** Options of `startSystemTableFlusher`. */
export interface FlusherOptions extends Omit<FlushOptions, 'signal'> {
  /** Time between flushes (default 10 s). */
  intervalMs?: number;
}

/** A running flusher. */
export interface SystemTableFlusher {
  /** Flush now (waits for a flush in progress first). */
  flushNow(): Promise<void>;
  /** Stop: abort nothing in progress, wait for it, run a last flush, release DuckDB. */
  stop(): Promise<void>;
}

/** Default time between flushes. */
export const DEFAULT_FLUSH_INTERVAL_MS = 10_000;

/** Start flushing the system table outbox periodically. */
export function startSystemTableFlusher(runtime: SystemRuntime, o: FlusherOptions = {}): SystemTableFlusher {
  const log = runtime.log.child({ component: 'system-tables' });
  const intervalMs = Math.max(10, o.intervalMs ?? DEFAULT_FLUSH_INTERVAL_MS);
  const abort = new AbortController();
  let duck: Promise<Duck> | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  const flushOnce = async () => {
    try {
      duck ??= o.duck ? Promise.resolve(o.duck) : openFlushDuck();
      const results = await flushSystemTables(runtime, { ...o, duck: await duck, signal: abort.signal });
      for (const r of results)
        if (r.appendedRows > 0 || r.alreadyCommittedRows > 0)
          log.debug({ table: r.table, rows: r.appendedRows }, 'system table flushed');
    } catch (err) {
      if (!abort.signal.aborted) log.warn({ err: errorMessage(err) }, 'system table flush failed');
    }
  };
  const enqueue = () => {
    running = running.then(flushOnce);
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) void enqueue();
  }, intervalMs);
  timer.unref();

  return {
    flushNow: () => enqueue(),
    async stop() {
      if (stopped) return running;
      stopped = true;
      clearInterval(timer);
      await enqueue();
      abort.abort();
      if (duck && !o.duck) await (await duck).close();
    },
  };
}
