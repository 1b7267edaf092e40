import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import { createLogger, createMetrics } from '../../src/observe/index.js';
import { openRuntime } from '../../src/runtime/index.js';
import { createApp } from '../../src/serve/index.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { SHOP } from './helpers.js';

describe('sluice models / sluice test, and GET /api/v1/models', () => {
  const tmp = tempDir('sluice-models-');
  const dir = join(tmp.dir, 'proj');
  const cli = (...args: string[]) => runCli(['--project', dir, ...args], { timeoutMs: 120_000 });
  before(async () => {
    await scaffoldProject(dir, { name: 'proj' });
    cpSync(SHOP, join(dir, 'shop'), { recursive: true });
  });
  after(() => tmp.remove());

  test('list, show and compile need no backend; build and test report per model and test', async () => {
    const list = await cli('--json', 'models', 'list', '--dir', 'shop', '-s', '+orders');
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as { name: string; relation: string | null }[];
    assert.deepEqual(rows.map((r) => r.name).sort(), [
      'orders',
      'raw_orders',
      'raw_payments',
      'stg_orders',
      'stg_payments',
    ]);
    assert.equal(rows.find((r) => r.name === 'orders')?.relation, 'shop.orders');

    const show = await cli('models', 'show', 'customers', '--dir', 'shop');
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /table: +shop\.customers/);
    assert.match(show.stdout, /column customer_lifetime_value: Total paid, in dollars\./);
    assert.match(show.stdout, /from shop_staging\.stg_customers/);

    const compiled = await cli('models', 'compile', '--dir', 'shop', '-s', 'stg_payments');
    assert.equal(compiled.code, 0, compiled.stderr);
    assert.match(compiled.stdout, /-- stg_payments → shop_staging\.stg_payments/);
    assert.match(compiled.stdout, /round\(\(amount \/ 100\.0\)/);

    const bad = await cli('models', 'build', '--dir', 'shop', '-s', 'tag:nope');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /selector "tag:nope" matches no model or seed/);

    const build = await cli('--json', 'models', 'build', '--dir', 'shop', '-s', '+orders');
    assert.equal(build.code, 0, build.stderr);
    const out = JSON.parse(build.stdout) as { models: { status: string }[]; tests: { status: string }[] };
    assert.equal(out.models.length, 5);
    assert.ok(out.models.every((m) => m.status === 'success'));
    assert.ok(out.tests.length >= 10 && out.tests.every((t) => t.status === 'pass'));

    const tests = await cli('test', '--dir', 'shop', '-s', 'stg_orders');
    assert.equal(tests.code, 0, tests.stderr);
    assert.match(tests.stdout, /PASS +unique_stg_orders_order_id/);

    writeFileSync(join(dir, 'shop/models/marts/broken.sql'), 'select\n  1\n{{ ref("missing") }}\n');
    const broken = await cli('models', 'list', '--dir', 'shop');
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /models\/marts\/broken\.sql:3: ref\('missing'\)/);
  });

  test('GET /api/v1/models: the graph with columns, descriptions, tests and builds', async () => {
    const runtime = await openRuntime(
      await loadProject(dir),
      createLogger({ level: 'silent', stderr: false }),
    );
    try {
      writeFileSync(join(dir, 'shop/models/marts/broken.sql'), 'select 1 as x');
      const app = createApp({ runtime, metrics: createMetrics(), startedAt: new Date() });
      const res = await app.request('/api/v1/models?dir=shop');
      assert.equal(res.status, 200);
      const graph = (await res.json()) as {
        project: string;
        nodes: {
          id: string;
          relation?: string;
          columns: { name: string; description?: string }[];
          tests: string[];
          build: { snapshotId: string } | null;
          description?: string;
        }[];
        edges: { from: string; to: string }[];
      };
      assert.equal(graph.project, 'shop');
      const node = (id: string) => graph.nodes.find((n) => n.id === id);
      assert.equal(
        node('model:customers')?.description,
        'One row per customer with their order history and lifetime value.',
      );
      assert.deepEqual(node('model:customers')?.columns[0], {
        name: 'customer_id',
        description: 'The primary key.',
      });
      assert.ok(node('model:orders')?.tests.includes('unique_orders_order_id'));
      assert.ok(node('model:orders')?.build?.snapshotId);
      assert.equal(node('model:customers')?.build, null);
      assert.equal(node('source:app.events')?.relation, 'app_raw.events');
      assert.ok(graph.edges.some((e) => e.from === 'seed:raw_orders' && e.to === 'model:stg_orders'));
      assert.ok(graph.edges.some((e) => e.from === 'source:app.events' && e.to === 'model:stg_events'));

      const outside = await app.request('/api/v1/models?dir=../..');
      assert.equal(outside.status, 400);
      const spec = (await (await app.request('/api/v1/openapi.json')).json()) as {
        paths: Record<string, unknown>;
      };
      assert.ok(spec.paths['/api/v1/models']);
    } finally {
      await runtime.close();
    }
  });
});
