import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMetrics } from '../../src/observe/index.js';
import { counterRate, parsePrometheus, sumOf } from '../../src/ui/prometheus.js';

describe('Prometheus text parsing (web UI)', () => {
  test('samples, labels with escapes, special values; comments and junk skipped', () => {
    const samples = parsePrometheus(
      [
        '# HELP x_total a counter',
        '# TYPE x_total counter',
        'x_total{route="/a",method="GET"} 3',
        'x_total{route="/b\\"q\\",{}",method="GET"} 4 1700000000000',
        'up 1',
        'gauge_inf +Inf',
        'broken line here',
        '',
      ].join('\n'),
    );
    assert.deepEqual(
      samples.map((s) => [s.name, s.value]),
      [
        ['x_total', 3],
        ['x_total', 4],
        ['up', 1],
        ['gauge_inf', Number.POSITIVE_INFINITY],
      ],
    );
    assert.deepEqual(samples[1]?.labels, { route: '/b"q",{}', method: 'GET' });
    assert.equal(sumOf(samples, 'x_total'), 7);
    assert.equal(sumOf(samples, 'missing'), undefined);
  });

  test('reads the metrics the overview charts from a real registry', async () => {
    const metrics = createMetrics();
    metrics.httpDuration.labels('GET', '/api/v1/health', '200').observe(0.01);
    metrics.httpDuration.labels('GET', '/metrics', '200').observe(0.02);
    const samples = parsePrometheus(await metrics.registry.metrics());
    assert.equal(sumOf(samples, 'sluice_http_request_duration_seconds_count'), 2);
    assert.ok((sumOf(samples, 'process_resident_memory_bytes') ?? 0) > 1024 * 1024);
    assert.ok((sumOf(samples, 'nodejs_heap_size_used_bytes') ?? 0) > 0);
  });

  test('counter rates survive a reset', () => {
    assert.equal(counterRate(10, 30, 2000), 10);
    assert.equal(counterRate(100, 4, 2000), 2);
    assert.equal(counterRate(1, 2, 0), undefined);
  });
});
