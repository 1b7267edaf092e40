import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** The Prometheus metrics of one process, served at /metrics. */
export interface Metrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly httpErrors: Counter<'route' | 'code'>;
}

/**
 * A registry per server (not the global one), so tests and embedded servers don't share
 * series. Label values are bounded: routes are the matched route patterns, never raw paths.
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  // Standard process_* and nodejs_* names, as Prometheus dashboards expect them.
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'sluice_http_request_duration_seconds',
    help: 'HTTP request latency by method, matched route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const httpErrors = new Counter({
    name: 'sluice_http_errors_total',
    help: 'HTTP requests answered with an error, by matched route and error code',
    labelNames: ['route', 'code'] as const,
    registers: [registry],
  });
  return { registry, httpDuration, httpErrors };
}
