import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import { createLogger, createMetrics } from '../../src/observe/index.js';
import { openRuntime } from '../../src/runtime/index.js';
import { createApp } from '../../src/serve/index.js';
import { runCli, sluiceBin, tempDir } from '../helpers/cli.js';
import { SHOP } from './helpers.js';

/** Start `sluice models build` and SIGKILL it once `after` models have started building. */
function killDuringBuild(dir: string, after: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        sluiceBin,
        '--project',
        dir,
        'models',
        'build',
        '--dir',
        'shop',
        '--threads',
        '1',
        '-s',
        '+customers +orders',
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let started = 0;
    child.stderr.on('data', (d: Buffer) => {
      started += (String(d).match(/^building /gm) ?? []).length;
      if (started >= after) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', () => resolve());
  });
}

describe('sluice models / sluice test, and GET /api/v1/models', () => {
  const tmp = tempDir('sluice-models-');
  const dir = join(tmp.dir, 'proj');
  const cli = (...args: string[]) => runCli(['--project', dir, ...args], { timeoutMs: 120_000 });
  before(async () => {
    await scaffoldProject(dir, { name: 'proj' });
    cpSync(SHOP, join(dir, 'shop'), { recursive: true });
  });
  after(() => tmp.remove());

  test('list, show and compile need no backend; errors name the file and line', async () => {
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

    writeFileSync(join(dir, 'shop/models/marts/broken.sql'), 'select\n  1\n{{ ref("missing") }}\n');
    const broken = await cli('models', 'list', '--dir', 'shop');
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /models\/marts\/broken\.sql:3: ref\('missing'\)/);
    writeFileSync(join(dir, 'shop/models/marts/broken.sql'), 'select 1 as x');
  });

  test('a build killed mid-way leaves whole tables; the next build and `sluice test` pass', async () => {
    await killDuringBuild(dir, 6);
    // Whatever was committed before the kill is readable and complete.
    const tables = await runCli([
      '--project',
      dir,
      '--json',
      'sql',
      "SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema LIKE 'shop%' ORDER BY 1",
    ]);
    assert.equal(tables.code, 0, tables.stderr);
    const built = (JSON.parse(tables.stdout) as { t: string }[]).map((r) => r.t);
    assert.ok(built.length >= 1 && built.length < 9, `built before the kill: ${built.join(', ')}`);
    if (built.includes('shop_raw.raw_orders')) {
      const n = await runCli([
        '--project',
        dir,
        '--json',
        'sql',
        'SELECT count(*) AS n FROM shop_raw.raw_orders',
      ]);
      assert.deepEqual(JSON.parse(n.stdout), [{ n: 10 }]);
    }
    const again = await runCli(
      ['--project', dir, '--json', 'models', 'build', '--dir', 'shop', '-s', '+customers +orders'],
      { timeoutMs: 120_000 },
    );
    assert.equal(again.code, 0, again.stderr);
    const result = JSON.parse(again.stdout) as { models: { status: string }[]; tests: { status: string }[] };
    assert.ok(result.models.every((m) => m.status === 'success'));
    assert.ok(result.tests.every((t) => t.status === 'pass'));
    const tests = await cli('test', '--dir', 'shop', '-s', 'stg_orders');
    assert.equal(tests.code, 0, tests.stderr);
    assert.match(tests.stdout, /PASS +unique_stg_orders_order_id/);
    const check = await runCli([
      '--project',
      dir,
      '--json',
      'sql',
      'SELECT count(*) AS n, sum(number_of_orders) AS o FROM shop.customers',
    ]);
    assert.deepEqual(JSON.parse(check.stdout), [{ n: 6, o: 10 }]);
  });

  test('GET /api/v1/models: the graph with columns, descriptions, tests and builds', async () => {
    const runtime = await openRuntime(
      await loadProject(dir),
      createLogger({ level: 'silent', stderr: false }),
    );
    try {
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
      assert.equal(node('model:customer_activity')?.build, null);
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

  test("GET /api/v1/models shows the relations of the server's environment", async () => {
    const yaml = join(dir, 'sluice.yaml');
    writeFileSync(
      yaml,
      readFileSync(yaml, 'utf8').replace(/^environments: \{\}$/m, 'environments:\n  dev: {}'),
    );
    const runtime = await openRuntime(
      await loadProject(dir, { environment: 'dev' }),
      createLogger({ level: 'silent', stderr: false }),
    );
    try {
      const app = createApp({ runtime, metrics: createMetrics(), startedAt: new Date() });
      const graph = (await (await app.request('/api/v1/models?dir=shop')).json()) as {
        nodes: { id: string; relation?: string; build: unknown; compiled?: { sql?: string } }[];
      };
      const node = (id: string) => graph.nodes.find((n) => n.id === id);
      assert.equal(node('model:orders')?.relation, 'dev_shop.orders');
      assert.equal(node('model:stg_orders')?.relation, 'dev_shop_staging.stg_orders');
      assert.match(node('model:orders')?.compiled?.sql ?? '', /dev_shop_staging\.stg_orders/);
      // Only production (no environment) was built: the dev relations have no build yet.
      assert.equal(node('model:orders')?.build, null);
    } finally {
      await runtime.close();
    }
  });
});
