import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli, tempDir } from '../helpers/cli.js';

const tmp = tempDir();
after(() => tmp.remove());

type DemoResult = { tables: Record<string, number> };

test('the demo runs the marketplace end to end, and a second run loads nothing twice', {
  timeout: 240_000,
}, async () => {
  const cwd = join(tmp.dir, 'home');
  mkdirSync(cwd);
  const first = await runCli(['demo', '--no-serve', '--json'], { cwd, timeoutMs: 200_000 });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /Created the demo project/);
  for (const f of [
    'sluice.yaml',
    'pipelines/marketplace.yaml',
    'models/daily_revenue.sql',
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

  const second = await runCli(['demo', '--no-serve', '--json'], { cwd, timeoutMs: 200_000 });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /Using the demo project/);
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
});
