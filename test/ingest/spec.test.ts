import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { parseYamlText } from '../../src/config/index.js';
import { ingestSpecSchema } from '../../src/ingest/index.js';
import { ConfigError } from '../../src/util/index.js';

// The shape the orchestrator validates: each task's `ingest:` value with this schema.
const pipeline = z.object({
  name: z.string(),
  tasks: z.array(z.object({ id: z.string(), ingest: ingestSpecSchema })),
});

function errorOf(yaml: string): ConfigError {
  try {
    parseYamlText(yaml, 'pipelines/orders.yaml', pipeline, { env: {} });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail('expected a ConfigError');
}

test('a paste-able HTTP spec parses with its defaults', () => {
  const parsed = parseYamlText(
    `name: orders
tasks:
  - id: fetch
    ingest:
      source:
        http:
          url: https://api.example.com/v1/orders
          auth: { bearer: { token: abc } }
          paginate: { style: cursor, path: meta.next_cursor }
          records: data.items
          incremental: { field: updated_at, param: updated_since }
          timeout: 10s
      sink: { table: shop.orders, mode: upsert, key: [order_id] }
`,
    'pipelines/orders.yaml',
    pipeline,
  );
  const http = parsed.tasks[0]?.ingest.source.http;
  assert.equal(http?.timeout, 10_000);
  assert.equal(http?.retry.max_attempts, 6);
  assert.equal(http?.method, 'GET');
  assert.equal(parsed.tasks[0]?.ingest.sink.schema_drift, 'evolve');
});

test('an unknown source kind is reported with file:line before any work', () => {
  const err = errorOf(`name: orders
tasks:
  - id: fetch
    ingest:
      source:
        ftp: { host: x }
      sink: { table: shop.orders }
`);
  assert.match(err.message, /^pipelines\/orders\.yaml:6:\d+: .*unknown key "ftp"/);
});

test('a bad option names its place', () => {
  const err = errorOf(`name: orders
tasks:
  - id: fetch
    ingest:
      source:
        http:
          url: https://api.example.com
          paginate: { style: pages }
      sink: { table: shop.orders }
`);
  assert.match(err.message, /^pipelines\/orders\.yaml:8:\d+:/);
  const upsert = errorOf(`name: orders
tasks:
  - id: fetch
    ingest:
      source: { files: { path: landing } }
      sink: { table: shop.orders, mode: upsert }
`);
  assert.match(upsert.message, /^pipelines\/orders\.yaml:6:\d+: .*mode upsert needs key columns/);
  const timeout = errorOf(`name: orders
tasks:
  - id: fetch
    ingest:
      source: { http: { url: "https://x.example", timeout: soon } }
      sink: { table: orders }
`);
  assert.match(timeout.message, /orders\.yaml:5:\d+: .*expected a duration/);
  assert.match(timeout.message, /orders\.yaml:6:\d+: .*expected a table name such as shop\.orders/);
});
