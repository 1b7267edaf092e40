import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { scaffoldProject } from '../../src/config/index.js';
import { runCli, sluiceBin, tempDir } from '../helpers/cli.js';

const ORDERS = `name: shop.orders
owning_application: shop
category: business
enrichment_strategies: [metadata_enrichment]
partition_strategy: hash
partition_key_fields: [order_number]
default_statistic: { messages_per_minute: 1, message_size: 1, read_parallelism: 2, write_parallelism: 2 }
schema:
  type: json_schema
  schema:
    properties:
      order_number: { type: string }
    required: [order_number]
`;

describe('sluice serve with events/*.yaml and sluice events', () => {
  const tmp = tempDir();
  const dir = join(tmp.dir, 'proj');
  let child: ChildProcess | undefined;
  let url = '';

  async function serve(): Promise<string> {
    child = spawn(process.execPath, [sluiceBin, 'serve', '--json', '--http-port', '0', '--project', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += d));
    return new Promise<string>((resolve, reject) => {
      child?.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
      child?.stdout?.on('data', (d) => {
        stdout += d;
        const m = /"url": "([^"]+)"/.exec(stdout);
        if (m?.[1]) resolve(m[1]);
      });
    });
  }
  async function stop(): Promise<void> {
    const c = child;
    if (!c) return;
    c.removeAllListeners('exit');
    const exited = new Promise<number | null>((resolve) => c.on('exit', (code) => resolve(code)));
    c.kill('SIGTERM');
    assert.equal(await exited, 0);
    child = undefined;
  }

  before(async () => {
    await scaffoldProject(dir, { name: 'proj' });
    await mkdir(join(dir, 'events'), { recursive: true });
    await writeFile(join(dir, 'events', 'orders.yaml'), ORDERS);
    const config = join(dir, 'sluice.yaml');
    const text = await readFile(config, 'utf8');
    await writeFile(
      config,
      text.replace(
        'bus:\n  log: embedded\n',
        'bus:\n  log: embedded\n  sinks:\n    - { eventType: shop.orders, latenessMs: 0 }\n',
      ),
    );
    url = await serve();
  });
  after(async () => {
    child?.kill('SIGKILL');
    tmp.remove();
  });

  const events = (...args: string[]) => runCli(['events', '--server', url, ...args, '--project', dir]);

  test('event type files are applied; publish, tail, subscriptions and lag work end to end', async () => {
    const types = await events('types');
    assert.equal(types.code, 0, types.stderr);
    assert.match(types.stdout, /shop\.orders\s+business\s+shop\s+1\.0\.0\s+forward/);
    const show = await runCli(['events', '--server', url, 'types', 'shop.orders', '--json']);
    assert.equal((JSON.parse(show.stdout) as { schemas: unknown[] }).schemas.length, 1);

    const batch = [1, 2, 3].map((i) => ({
      order_number: `o${i}`,
      metadata: { eid: crypto.randomUUID(), occurred_at: new Date().toISOString() },
    }));
    const pub = await events('publish', 'shop.orders', '--data', JSON.stringify(batch));
    assert.equal(pub.code, 0, pub.stderr);
    assert.match(pub.stdout, /published 3 event/);
    const bad = await events('publish', 'shop.orders', '--data', '{"order_number": 1}');
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /failed at validating/);
    const malformed = await events('publish', 'shop.orders', '--data', '[{');
    assert.equal(malformed.code, 1);
    assert.match(malformed.stderr, /not valid JSON/);

    const tail = await events('tail', 'shop.orders', '--from', 'begin', '--limit', '3');
    assert.equal(tail.code, 0, tail.stderr);
    const seen = tail.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { order_number: string }).order_number);
    assert.deepEqual(seen.sort(), ['o1', 'o2', 'o3']);

    const created = await fetch(`${url}/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        owning_application: 'reporting',
        event_types: ['shop.orders'],
        read_from: 'begin',
      }),
    });
    const { id } = (await created.json()) as { id: string };
    const subs = await events('subscriptions');
    assert.match(subs.stdout, new RegExp(`${id}\\s+reporting\\s+default\\s+shop\\.orders\\s+begin`));
    const lag = await events('lag', id);
    assert.equal(lag.code, 0, lag.stderr);
    assert.match(lag.stdout, /total unconsumed: 3/);
    // The configured sink writes the events into events.shop_orders while the server runs.
    let rows = '';
    for (let attempt = 0; attempt < 100 && !/"total-records": "3"/.test(rows); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      rows = (await runCli(['tables', 'snapshots', 'events.shop_orders', '--json', '--project', dir])).stdout;
    }
    assert.match(rows, /"total-records": "3"/);

    const missing = await events('lag', '00000000-0000-0000-0000-000000000000');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /404/);
  });

  test('a changed event type file is applied at the next start by the compatibility rules', async () => {
    await stop();
    await writeFile(
      join(dir, 'events', 'orders.yaml'),
      ORDERS.replace('required: [order_number]', 'required: [order_number]\n    description: Orders'),
    );
    url = await serve();
    const show = await runCli(['events', '--server', url, 'types', 'shop.orders', '--json']);
    assert.equal((JSON.parse(show.stdout) as { schema: { version: string } }).schema.version, '1.0.1');
    await stop();
    await writeFile(
      join(dir, 'events', 'orders.yaml'),
      ORDERS.replace('order_number: { type: string }', 'order_number: { type: integer }'),
    );
    const failed = await runCli(['serve', '--http-port', '0', '--project', dir]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /orders\.yaml: event type shop\.orders: schema change not allowed/);
    url = await serve().catch(() => '');
  });
});
