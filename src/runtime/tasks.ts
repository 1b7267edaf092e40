/**
 * The contract between the orchestrator and the areas that provide task kinds (`ingest`,
 * `sql`, `publish`, `check`, `run`). A pipeline task names its kind by its key
 * (`ingest: {...}`); the orchestrator validates the value with the kind's schema at load
 * time (errors with file:line) and calls `run` in a worker.
 */
import type { z } from 'zod';
import type { Logger } from '../observe/index.js';
import type { Runtime } from './index.js';

/** Progress a running task reports (shown live by `sluice run`, kept on the task instance). */
export interface TaskProgress {
  phase?: string;
  pages?: number;
  rows?: number;
  bytes?: number;
  files?: number;
  message?: string;
}

/** What a task gets when it runs. */
export interface TaskContext {
  runtime: Runtime;
  log: Logger;
  pipeline: string;
  taskId: string;
  runId: string;
  attempt: number;
  /** Start of the data interval the run covers (the logical date, `{{ ds }}`). */
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  params: Record<string, string>;
  /** Aborted on timeout or cancel: stop promptly. */
  signal: AbortSignal;
  progress(p: TaskProgress): void;
  /** The task's own options (e.g. `--reprocess --from DATE` for ingest), from the CLI/API. */
  options?: Record<string, unknown>;
}

/** What a finished task reports (shown in the run summary, stored on the task instance). */
export interface TaskResult {
  summary?: Record<string, unknown>;
}

/** A task kind: how to validate its spec and how to run it. */
export interface TaskKind<Spec = unknown> {
  /** The key of the kind in a task definition, e.g. `ingest`. */
  name: string;
  schema: z.ZodType<Spec>;
  run(ctx: TaskContext, spec: Spec): Promise<TaskResult>;
}
