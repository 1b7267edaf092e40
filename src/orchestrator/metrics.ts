import { Counter, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of the orchestrator. */
export interface OrchestratorMetrics {
  taskDuration: Histogram<'pipeline' | 'kind' | 'state'>;
  taskFailures: Counter<'pipeline' | 'kind' | 'reason'>;
  runsFinished: Counter<'pipeline' | 'state'>;
}

/** The orchestrator's metrics (task durations, failures, finished runs), in their own registry. */
export function createOrchestratorMetrics(registry: Registry = new Registry()): OrchestratorMetrics {
  return {
    taskDuration: new Histogram({
      name: 'sluice_task_duration_seconds',
      help: 'Duration of task attempts by pipeline, task kind and outcome',
      labelNames: ['pipeline', 'kind', 'state'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
      registers: [registry],
    }),
    taskFailures: new Counter({
      name: 'sluice_task_failures_total',
      help: 'Failed task attempts by pipeline, task kind and reason (error, timeout, crash)',
      labelNames: ['pipeline', 'kind', 'reason'] as const,
      registers: [registry],
    }),
    runsFinished: new Counter({
      name: 'sluice_runs_finished_total',
      help: 'Pipeline runs finished, by pipeline and final state',
      labelNames: ['pipeline', 'state'] as const,
      registers: [registry],
    }),
  };
}

/** Serve the orchestrator's metrics from another registry too (the server's /metrics). */
export function exposeMetricsIn(metrics: OrchestratorMetrics, registry: Registry): void {
  for (const metric of [metrics.taskDuration, metrics.taskFailures, metrics.runsFinished]) {
    const name = (metric as unknown as { name: string }).name;
    if (!registry.getSingleMetric(name)) registry.registerMetric(metric);
  }
}
