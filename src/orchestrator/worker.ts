/**
 * A worker: claims task instances from the queue with a lease, keeps the lease alive
 * with heartbeats, runs each task through its kind, and records the outcome. Up to
 * `concurrency` tasks run at once. A worker that dies stops heartbeating; its lease
 * expires and another worker claims the task again as a new attempt.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { OrchestratorConfig } from '../config/index.js';
import type { Job } from '../metastore/index.js';
import type { Runtime } from '../runtime/index.js';
import { errorMessage } from '../util/index.js';
import { deliverAlerts } from './alerts.js';
import type { EngineContext } from './engine.js';
import type { OrchestratorMetrics } from './metrics.js';
import type { TaskKindRegistry } from './registry.js';
import { TASK_QUEUE, TASKS_CHANNEL } from './state.js';
import { executeTask } from './task-exec.js';

/** Options of a worker. */
export interface WorkerOptions {
  runtime: Runtime;
  engine: EngineContext;
  kinds: TaskKindRegistry;
  config: OrchestratorConfig;
  metrics?: OrchestratorMetrics;
  /** Default: orchestrator.concurrency. */
  concurrency?: number;
  /** Deliver queued alerts too (default true). */
  alerts?: boolean;
  role?: string;
}

/** A running worker; `stop()` lets running tasks finish (or aborts them with `abort`). */
export class Worker {
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #o: WorkerOptions;
  readonly #concurrency: number;
  readonly #running = new Map<string, { runId: string; taskId: string; abort: AbortController }>();
  readonly #stop = new AbortController();
  #wake: (() => void) | undefined;
  #loop: Promise<void> = Promise.resolve();
  #unlisten: (() => Promise<void>)[] = [];
  #lastAlerts = 0;
  #lastSeen = 0;

  constructor(o: WorkerOptions) {
    this.#o = o;
    this.#concurrency = o.concurrency ?? o.config.concurrency;
  }

  /** Start claiming. */
  async start(): Promise<this> {
    const { meta } = this.#o.engine;
    this.#unlisten.push(await meta.listen(TASKS_CHANNEL, () => this.#wake?.()));
    this.#unlisten.push(
      await meta.listen('sluice.cancel', (payload) => {
        for (const r of this.#running.values()) {
          if (payload === r.runId || payload === `${r.runId}/${r.taskId}`)
            r.abort.abort(new CancelledError());
        }
      }),
    );
    await this.#register();
    this.#loop = this.#run();
    return this;
  }

  /** Task instances running now. */
  get active(): number {
    return this.#running.size;
  }

  async #run(): Promise<void> {
    const { meta, log } = this.#o.engine;
    const signal = this.#stop.signal;
    signal.addEventListener('abort', () => this.#wake?.(), { once: true });
    while (!signal.aborted) {
      let claimed: Job[] = [];
      try {
        await this.#housekeeping();
        const free = this.#concurrency - this.#running.size;
        if (free > 0) {
          claimed = await meta.claim(TASK_QUEUE, {
            workerId: this.id,
            leaseMs: this.#o.config.leaseMs,
            limit: free,
          });
        }
      } catch (err) {
        log.warn({ err: errorMessage(err), worker: this.id }, 'claiming tasks failed; retrying');
      }
      for (const job of claimed) this.#start(job);
      if (claimed.length > 0 && this.#running.size < this.#concurrency) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#o.config.pollMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  #start(job: Job): void {
    const payload = job.payload as { runId: string; taskId: string; gen: number };
    const abort = new AbortController();
    this.#running.set(job.id, { runId: payload.runId, taskId: payload.taskId, abort });
    const { engine, runtime, kinds, config, metrics } = this.#o;
    void executeTask({
      engine,
      runtime,
      kinds,
      metrics,
      leaseMs: config.leaseMs,
      workerId: this.id,
      job,
      abort,
    })
      .catch(async (err) => {
        engine.log.error({ err, job: job.id }, 'task execution failed unexpectedly; handing the task back');
        // The task is claimed again (its attempt recorded as lost) instead of waiting for the lease.
        await engine.meta
          .fail(job.id, this.id, { retryAt: new Date(Date.now() + 1000), error: errorMessage(err) })
          .catch(() => undefined);
      })
      .finally(() => {
        this.#running.delete(job.id);
        this.#wake?.();
      });
  }

  /** Deliver alerts and refresh this worker's row, at most once a second each. */
  async #housekeeping(): Promise<void> {
    const now = Date.now();
    if (this.#o.alerts !== false && now - this.#lastAlerts >= 1000) {
      this.#lastAlerts = now;
      const { engine, config } = this.#o;
      await deliverAlerts({
        meta: engine.meta,
        versions: engine.versions,
        smtp: config.smtp,
        workerId: this.id,
        log: engine.log,
        signal: this.#stop.signal,
      });
    }
    if (now - this.#lastSeen >= 5000) await this.#register();
  }

  async #register(): Promise<void> {
    const now = Date.now();
    this.#lastSeen = now;
    await this.#o.engine.meta.execute(
      `INSERT INTO sluice_workers (worker_id, host, pid, role, started_at, seen_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (worker_id) DO UPDATE SET seen_at = excluded.seen_at`,
      [this.id, hostname(), process.pid, this.#o.role ?? 'worker', now, now],
    );
  }

  /**
   * Stop claiming and wait for running tasks; with `abort`, running tasks are cancelled
   * and retried elsewhere (their leases are released).
   */
  async stop(o: { abort?: boolean } = {}): Promise<void> {
    this.#stop.abort();
    this.#wake?.();
    await this.#loop;
    if (o.abort) for (const r of this.#running.values()) r.abort.abort(new ShutdownError());
    while (this.#running.size > 0) await new Promise((r) => setTimeout(r, 20));
    for (const stop of this.#unlisten) await stop().catch(() => undefined);
    await this.#o.engine.meta
      .execute('DELETE FROM sluice_workers WHERE worker_id = ?', [this.id])
      .catch(() => undefined);
  }
}

/** The reason a task's signal is aborted when its run or task was cancelled. */
export class CancelledError extends Error {
  override name = 'CancelledError';
}

/** The reason a task's signal is aborted when its worker shuts down. */
export class ShutdownError extends Error {
  override name = 'ShutdownError';
}
