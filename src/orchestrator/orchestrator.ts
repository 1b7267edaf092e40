/**
 * The orchestrator of one project: its pipelines (hot-reloaded), and the operations the
 * CLI, the API and the server roles use: trigger, resume, backfill, cancel, mark, wait,
 * history, and starting workers and schedulers.
 */
import { type FSWatcher, watch } from 'node:fs';
import { join } from 'node:path';
import { closest } from 'fastest-levenshtein';
import type { Registry } from 'prom-client';
import type { Runtime } from '../runtime/index.js';
import { errorMessage, InvalidInputError, NotFoundError } from '../util/index.js';
import { type BackfillOptions, type BackfillResult, runBackfill } from './backfill.js';
import { createRun, type EngineContext, notifyAdvance } from './engine.js';
import { type LoadedPipeline, loadPipelines } from './load.js';
import { createOrchestratorMetrics, exposeMetricsIn, type OrchestratorMetrics } from './metrics.js';
import { cancelRun, markRun, markTask, planResume, type ResumePlan } from './operations.js';
import { defaultTaskKinds, type TaskKindRegistry } from './registry.js';
import { manualInterval } from './schedule.js';
import { Scheduler } from './scheduler.js';
import {
  getAttempts,
  getLogs,
  getRun,
  getTaskRuns,
  listRuns,
  RUNS_CHANNEL,
  type RunInfo,
  type RunState,
  type TaskRunInfo,
} from './state.js';
import { VersionCache } from './versions.js';
import { type Explanation, explain } from './why.js';
import { Worker } from './worker.js';

/** Options of openOrchestrator. */
export interface OrchestratorOptions {
  /** Task kinds (default: defaultTaskKinds()). */
  kinds?: TaskKindRegistry;
  /** Clock in epoch ms (tests pass a fake one). */
  now?: () => number;
  /** Registry the orchestrator's Prometheus metrics are also served from. */
  registry?: Registry;
}

/** Open the orchestrator of a runtime's project, loading its pipelines. @throws ConfigError */
export async function openOrchestrator(runtime: Runtime, o: OrchestratorOptions = {}): Promise<Orchestrator> {
  const kinds = o.kinds ?? defaultTaskKinds();
  const pipelines = await loadPipelines(runtime.project.dir, kinds);
  return new Orchestrator(runtime, kinds, pipelines, o);
}

const shared = new WeakMap<Runtime, Promise<Orchestrator>>();
const registries = new WeakMap<Runtime, Registry[]>();

/** Serve the metrics of the runtime's shared orchestrator from `registry`, now or once it opens. */
export function exposeOrchestratorMetrics(runtime: Runtime, registry: Registry): void {
  registries.set(runtime, [...(registries.get(runtime) ?? []), registry]);
  void shared.get(runtime)?.then(
    (o) => exposeMetricsIn(o.metrics, registry),
    () => undefined,
  );
}

/**
 * The one orchestrator of a runtime in this process (the server's roles and its API
 * routes share it); opened and hot-reloading on first use.
 */
export function sharedOrchestrator(runtime: Runtime, o: OrchestratorOptions = {}): Promise<Orchestrator> {
  let orch = shared.get(runtime);
  if (!orch) {
    orch = openOrchestrator(runtime, o).then((opened) => {
      for (const registry of registries.get(runtime) ?? []) exposeMetricsIn(opened.metrics, registry);
      opened.watch();
      return opened;
    });
    orch.catch(() => shared.delete(runtime));
    shared.set(runtime, orch);
  }
  return orch;
}

const TERMINAL: ReadonlySet<RunState> = new Set(['success', 'failed', 'cancelled']);

export class Orchestrator {
  readonly runtime: Runtime;
  readonly kinds: TaskKindRegistry;
  readonly engine: EngineContext;
  readonly metrics: OrchestratorMetrics;
  #pipelines: Map<string, LoadedPipeline>;
  #watcher: FSWatcher | undefined;
  #reloadTimer: NodeJS.Timeout | undefined;
  readonly #workers = new Set<Worker>();
  readonly #schedulers = new Set<Scheduler>();

  constructor(
    runtime: Runtime,
    kinds: TaskKindRegistry,
    pipelines: Map<string, LoadedPipeline>,
    o: OrchestratorOptions,
  ) {
    this.runtime = runtime;
    this.kinds = kinds;
    this.#pipelines = pipelines;
    this.metrics = createOrchestratorMetrics();
    if (o.registry) exposeMetricsIn(this.metrics, o.registry);
    this.engine = {
      meta: runtime.meta,
      versions: new VersionCache(runtime.meta, kinds),
      pools: runtime.project.config.orchestrator.pools,
      log: runtime.log.child({ component: 'orchestrator' }),
      now: o.now ?? Date.now,
    };
  }

  /** The pipelines as currently loaded. */
  pipelines(): ReadonlyMap<string, LoadedPipeline> {
    return this.#pipelines;
  }

  /** One pipeline. @throws NotFoundError naming the closest match. */
  pipeline(name: string): LoadedPipeline {
    const p = this.#pipelines.get(name);
    if (p) return p;
    const names = [...this.#pipelines.keys()];
    const guess = names.length ? closest(name, names) : undefined;
    throw new NotFoundError(
      `no pipeline "${name}" in ${join(this.runtime.project.dir, 'pipelines')}`,
      guess ? `did you mean "${guess}"? (known: ${names.join(', ')})` : 'add pipelines/NAME.yaml',
    );
  }

  /** Load the pipeline files again; on error the previous set stays. @throws ConfigError */
  async reload(): Promise<void> {
    this.#pipelines = await loadPipelines(this.runtime.project.dir, this.kinds);
    this.engine.log.info({ pipelines: [...this.#pipelines.keys()] }, 'pipelines loaded');
  }

  /** Reload when pipeline files change; running runs keep the version they started with. */
  watch(): void {
    if (this.#watcher) return;
    try {
      this.#watcher = watch(join(this.runtime.project.dir, 'pipelines'), (_event, file) => {
        if (file?.startsWith('.')) return;
        clearTimeout(this.#reloadTimer);
        this.#reloadTimer = setTimeout(() => {
          this.reload().catch((err) =>
            this.engine.log.error(
              { err: errorMessage(err) },
              'pipeline files have errors; keeping the previous version',
            ),
          );
        }, 200);
        this.#reloadTimer.unref();
      });
      // Watching alone never keeps a process alive (an API route may be its only user).
      this.#watcher.unref();
    } catch (err) {
      this.engine.log.warn({ err: errorMessage(err) }, 'cannot watch pipelines/; hot reload is off');
    }
  }

  /** Start a manual run; params override the pipeline's defaults. */
  async trigger(
    name: string,
    o: { params?: Record<string, string>; logicalDate?: Date } = {},
  ): Promise<RunInfo> {
    const p = this.pipeline(name);
    const interval = o.logicalDate
      ? { start: o.logicalDate, end: o.logicalDate }
      : manualInterval(p.def.schedule, p.def.timezone, new Date(this.engine.now()));
    const made = await this.runtime.meta.transaction((tx) =>
      createRun(this.engine, tx, { pipeline: p, trigger: 'manual', interval, params: o.params }),
    );
    if (!made) throw new InvalidInputError('the run was not created');
    await notifyAdvance(this.engine, made.runId, made.advance);
    return getRun(this.runtime.meta, made.runId);
  }

  /** Re-run failed and not-run tasks (or `fromTask` and its downstream); `dryRun` only plans. */
  async resume(runId: string, o: { fromTask?: string; dryRun?: boolean } = {}): Promise<ResumePlan> {
    const run = await getRun(this.runtime.meta, runId);
    const p = this.pipeline(run.pipeline);
    if (o.dryRun)
      return planResume(this.engine, this.runtime.meta, run, p, { fromTask: o.fromTask, apply: false });
    const plan = await this.runtime.meta.transaction((tx) =>
      planResume(this.engine, tx, run, p, { fromTask: o.fromTask, apply: true }),
    );
    await notifyAdvance(this.engine, runId, { enqueued: 1 });
    return plan;
  }

  /** Runs for each interval between two dates, at most `parallel` at once. */
  backfill(name: string, o: BackfillOptions): Promise<BackfillResult> {
    return runBackfill(this, this.pipeline(name), o);
  }

  cancel(runId: string): Promise<RunInfo> {
    return cancelRun(this.engine, runId);
  }

  mark(runId: string, state: 'success' | 'failed', taskId?: string): Promise<RunInfo | undefined> {
    if (taskId)
      return markTask(this.engine, runId, taskId, state).then(() => getRun(this.runtime.meta, runId));
    return markRun(this.engine, runId, state);
  }

  /** Wait until a run is finished; `onUpdate` sees the run and its tasks as they change. */
  async waitForRun(
    runId: string,
    o: {
      signal?: AbortSignal;
      pollMs?: number;
      onUpdate?: (run: RunInfo, tasks: TaskRunInfo[]) => void;
    } = {},
  ): Promise<RunInfo> {
    let wake: (() => void) | undefined;
    const stop = await this.runtime.meta.listen(RUNS_CHANNEL, (id) => id === runId && wake?.());
    try {
      for (;;) {
        o.signal?.throwIfAborted();
        const run = await getRun(this.runtime.meta, runId);
        if (o.onUpdate) o.onUpdate(run, await getTaskRuns(this.runtime.meta, runId));
        if (TERMINAL.has(run.state)) {
          this.metrics.runsFinished.labels(run.pipeline, run.state).inc();
          return run;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, o.pollMs ?? 250);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      await stop();
    }
  }

  /** Start a worker in this process. */
  async startWorker(o: { concurrency?: number; alerts?: boolean; role?: string } = {}): Promise<Worker> {
    const worker = new Worker({
      runtime: this.runtime,
      engine: this.engine,
      kinds: this.kinds,
      config: this.runtime.project.config.orchestrator,
      metrics: this.metrics,
      ...o,
    });
    this.#workers.add(worker);
    return worker.start();
  }

  /** A scheduler over this orchestrator's pipelines; `start()` it, or call `tick()` yourself. */
  scheduler(): Scheduler {
    const scheduler = new Scheduler({
      engine: this.engine,
      pipelines: () => this.#pipelines,
      intervalMs: this.runtime.project.config.orchestrator.schedulerIntervalMs,
      log: this.engine.log,
      store: this.runtime.store,
    });
    this.#schedulers.add(scheduler);
    return scheduler;
  }

  listRuns(o: Parameters<typeof listRuns>[1] = {}): Promise<RunInfo[]> {
    return listRuns(this.runtime.meta, o);
  }

  getRun(runId: string): Promise<RunInfo> {
    return getRun(this.runtime.meta, runId);
  }

  taskRuns(runId: string): Promise<TaskRunInfo[]> {
    return getTaskRuns(this.runtime.meta, runId);
  }

  attempts(runId: string, taskId?: string): ReturnType<typeof getAttempts> {
    return getAttempts(this.runtime.meta, runId, taskId);
  }

  logs(runId: string, o: Parameters<typeof getLogs>[2] = {}): ReturnType<typeof getLogs> {
    return getLogs(this.runtime.meta, runId, o);
  }

  /** Why a pipeline (or one task of its latest run) is not running. */
  why(name: string, taskId?: string): Promise<Explanation> {
    return explain(this, this.pipeline(name), taskId);
  }

  /** Stop watching, scheduling and working (running tasks finish first unless `abort`). */
  async close(o: { abort?: boolean } = {}): Promise<void> {
    this.#watcher?.close();
    clearTimeout(this.#reloadTimer);
    await Promise.all([...this.#schedulers].map((s) => s.stop()));
    await Promise.all([...this.#workers].map((w) => w.stop(o)));
    this.#schedulers.clear();
    this.#workers.clear();
  }
}
