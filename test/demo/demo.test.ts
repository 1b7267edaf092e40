import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadProject, TEMPLATE_RECORD, type TemplateRecord } from '../../src/config/index.js';
import { createLogger, createMetrics } from '../../src/observe/index.js';
import { openRuntime } from '../../src/runtime/index.js';
import { createApp } from '../../src/serve/index.js';
import { runCli, tempDir } from '../helpers/cli.js';

const tmp = tempDir();
after(() => tmp.remove());

type DemoResult = {
  tables: Record<string, number>;
  models: { task: string; built: number; tests: number; testsFailed: string[]; warnings: string[] }[];
};

test('the demo runs the marketplace end to end, and a second run loads nothing twice', {
  timeout: 240_000,
}, async () => {
  const cwd = join(tmp.dir, 'home');
  mkdirSync(cwd);
  const first = await runCli(['demo', '--no-serve', '--json'], { cwd, timeoutMs: 200_000 });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /Created the demo project/);
  assert.doesNotMatch(first.stderr, /older version/);
  for (const f of [
    'sluice.yaml',
    'pipelines/marketplace.yaml',
    'dbt_project.yml',
    'models/schema.yml',
    'models/marts/daily_revenue.sql',
    'events/page_view.yaml',
  ])
    assert.ok(existsSync(join(cwd, 'sluice-demo', f)), `${f} is a real file of the project`);
  const t = (JSON.parse(first.stdout) as DemoResult).tables;
  // The mock API serves 20,000 orders, a few without id or with a bad amount: those are quarantined.
  assert.ok((t['marketplace.orders'] ?? 0) > 19_900, `orders: ${t['marketplace.orders']}`);
  assert.ok((t['marketplace.orders__quarantine'] ?? 0) > 0);
  assert.equal((t['marketplace.orders'] ?? 0) + (t['marketplace.orders__quarantine'] ?? 0), 20_000);
  assert.equal(t['marketplace.partners'], 10);
  assert.ok(
    (t['marketplace.customers__quarantine'] ?? 0) > 0,
    'bad e-mails and phone numbers are quarantined',
  );
  assert.ok((t['marts.daily_revenue'] ?? 0) > 0);
  assert.equal(t['marts.funnel'], 10, 'one funnel row per partner');
  assert.ok((t['events.marketplace_page_view'] ?? 0) > 0);
  // The marts are the project's dbt models, built and tested by the pipelines' `model:` tasks.
  const models = (JSON.parse(first.stdout) as DemoResult).models;
  const marts = models.find((m) => m.task === 'marts');
  const funnel = models.find((m) => m.task === 'funnel');
  assert.equal(marts?.built, 5, 'three staging views, daily_revenue, customers_by_country');
  assert.equal(funnel?.built, 1);
  for (const m of [marts, funnel]) {
    assert.ok((m?.tests ?? 0) > 5, JSON.stringify(m));
    assert.deepEqual(m?.testsFailed, []);
  }
  // Orders of quarantined customers point at no customer: the one warning.
  assert.deepEqual(
    marts?.warnings.map((w) => w.replace(/_[0-9a-f]{8}$/, '')),
    ['relationships_stg_orders_customer_id_stg_customers_'],
  );
  assert.match(first.stderr, /marts: 5 models built, \d+ of \d+ data tests passed, 1 warned/);

  // A README an older template version wrote (and recorded): the demo says how to upgrade.
  const demoDir = join(cwd, 'sluice-demo');
  const record = JSON.parse(readFileSync(join(demoDir, TEMPLATE_RECORD), 'utf8')) as TemplateRecord;
  writeFileSync(join(demoDir, 'README.md'), '# sluice-demo\n');
  record.files['README.md'] = createHash('sha256').update('# sluice-demo\n').digest('hex');
  record.version = 'older';
  writeFileSync(join(demoDir, TEMPLATE_RECORD), JSON.stringify(record));

  const second = await runCli(['demo', '--no-serve', '--json'], { cwd, timeoutMs: 200_000 });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /Using the demo project/);
  assert.match(
    second.stderr,
    /sluice-demo was created from an older version of the "marketplace" template[^\n]*\n\s+npx sluice init sluice-demo --template marketplace --upgrade/,
  );
  const again = (JSON.parse(second.stdout) as DemoResult).tables;
  // Incremental and upserted: the same vendor data gives the same tables, no duplicate.
  for (const table of [
    'marketplace.orders',
    'marketplace.customers',
    'marketplace.products',
    'marketplace.partners',
  ])
    assert.equal(again[table], t[table], table);
  // A new clickstream arrives; the old one is not loaded twice.
  assert.ok((again['events.marketplace_page_view'] ?? 0) > (t['events.marketplace_page_view'] ?? 0));

  // Reprocessing rebuilds the tables from the raw zone: the vendor API is not called (it is down).
  const project = join(cwd, 'sluice-demo');
  const env = { MARKETPLACE_URL: 'http://127.0.0.1:1' };
  const reprocess = await runCli(['run', 'marketplace', '--reprocess', '--project', project], { env });
  assert.equal(reprocess.code, 0, reprocess.stderr + reprocess.stdout);
  const orders = await runCli([
    'sql',
    '--project',
    project,
    '--format',
    'csv',
    'SELECT count(*) AS n FROM marketplace.orders',
  ]);
  assert.match(orders.stdout, new RegExp(`^n\\n${t['marketplace.orders']}\\n`));
  const fetch = await runCli(['run', 'marketplace', '--project', project], { env });
  assert.equal(fetch.code, 1, 'without --reprocess the run needs the API');

  // `sluice test` runs every data test of the project (sources' freshness included).
  const tested = await runCli(['test', '--project', project, '--json']);
  assert.equal(tested.code, 0, tested.stderr + tested.stdout);
  const results = (JSON.parse(tested.stdout) as { tests: { name: string; status: string }[] }).tests;
  assert.ok(results.some((r) => r.name === 'freshness_marketplace_orders' && r.status === 'pass'));
  assert.deepEqual(
    results.filter((r) => r.status !== 'pass').map((r) => r.status),
    ['warn'],
  );

  // The Models page's API finds the project's dbt_project.yml without ?dir=.
  const runtime = await openRuntime(
    await loadProject(project),
    createLogger({ level: 'silent', stderr: false }),
  );
  try {
    const app = createApp({ runtime, metrics: createMetrics(), startedAt: new Date() });
    const res = await app.request('/api/v1/models');
    assert.equal(res.status, 200, await res.clone().text());
    const graph = (await res.json()) as {
      project: string;
      nodes: { id: string; relation?: string; build: { snapshotId: string } | null }[];
      edges: { from: string; to: string }[];
    };
    assert.equal(graph.project, 'marts');
    const node = (id: string) => graph.nodes.find((n) => n.id === id);
    assert.equal(node('model:daily_revenue')?.relation, 'marts.daily_revenue');
    assert.ok(node('model:daily_revenue')?.build?.snapshotId, 'daily_revenue was built');
    assert.ok(node('model:funnel')?.build?.snapshotId, 'funnel was built');
    for (const [from, to] of [
      ['source:marketplace.orders', 'model:stg_orders'],
      ['model:stg_orders', 'model:daily_revenue'],
      ['model:stg_partners', 'model:daily_revenue'],
      ['source:clickstream.marketplace_page_view', 'model:funnel'],
    ])
      assert.ok(
        graph.edges.some((e) => e.from === from && e.to === to),
        `${from} → ${to} in ${JSON.stringify(graph.edges)}`,
      );
  } finally {
    await runtime.close();
  }
});
