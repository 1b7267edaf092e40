/**
 * The orchestrator: pipelines (YAML and TypeScript), DAG runs with retries, timeouts and
 * pools, cron and event triggers, leased workers on the metastore queue, alerts, and
 * run history.
 */
export {
  ALERT_QUEUE,
  type AlertMessage,
  deliverQueuedAlerts,
  MAX_DELIVERY_ATTEMPTS,
  sendAlert,
} from './alerts.js';
export type { BackfillOptions, BackfillResult } from './backfill.js';
export {
  definePipeline,
  type Pipeline,
  type PipelineInput,
  pipelineSchema,
  type TaskInput,
} from './definition.js';
export { formatDuration, parseDuration } from './duration.js';
export { TaskFailedError } from './errors.js';
export { findCycle, TaskGraph } from './graph.js';
export {
  HISTORY_LOG_LINES,
  HISTORY_LOG_TEXT,
  RUNS_TABLE,
  type RunRow,
  TASK_LOGS_TABLE,
  TASK_RUNS_TABLE,
  type TaskLogRow,
  type TaskRunRow,
} from './history.js';
export type { RunModuleContext } from './kinds/run-child.js';
export { type LoadedPipeline, loadPipelines } from './load.js';
export { createOrchestratorMetrics, type OrchestratorMetrics } from './metrics.js';
export type { ResumePlan } from './operations.js';
export {
  exposeOrchestratorMetrics,
  Orchestrator,
  type OrchestratorOptions,
  openOrchestrator,
  sharedOrchestrator,
} from './orchestrator.js';
export { defaultTaskKinds, TaskKindRegistry } from './registry.js';
export { dueIntervals, type Interval, intervalsBetween } from './schedule.js';
export { Scheduler, TRIGGER_CHANNEL, type TriggerEvent } from './scheduler.js';
export {
  type AttemptInfo,
  type LogLine,
  RUN_CHANGES_CHANNEL,
  RUN_STATES,
  RUNS_CHANNEL,
  type RunInfo,
  type RunState,
  TASK_STATES,
  type TaskRunInfo,
  type TaskState,
} from './state.js';
export { REPROCESS_FROM_PARAM, REPROCESS_PARAM } from './task-exec.js';
export { publishTriggerEvent } from './trigger.js';
export type { Explanation } from './why.js';
export { CancelledError, Worker } from './worker.js';
