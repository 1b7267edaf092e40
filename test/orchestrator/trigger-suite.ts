/** Event triggers end to end: real table commits, bus batches and files start pipelines. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createBusApp, createEventBus } from '../../src/bus/index.js';
import { openEventLog } from '../../src/bus/log/index.js';
import { createIcebergRestApp, openCatalog } from '../../src/catalog/index.js';
import { busSchema } from '../../src/config/schema.js';
import { openEngine } from '../../src/engine/index.js';
import { silentLogger } from '../../src/observe/index.js';
import type { Orchestrator, RunInfo } from '../../src/orchestrator/index.js';
import { stringifyJson } from '../../src/table/index.js';
import { openTestProject, projectDir } from './helpers.js';

const FAST = 'orchestrator: { schedulerIntervalMs: 200, pollMs: 100, leaseMs: 5000 }\n';

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function runsOf(orch: Orchestrator, pipeline: string): Promise<RunInfo[]> {
  return (await orch.listRuns({ pipeline, limit: 1000 })).reverse();
}

/** The suite over a project whose sluice.yaml gets `sluiceYaml` (metastore and storage). */
export function triggerSuite(
  label: string,
  setup: () => Promise<{ sluiceYaml: string; close(): Promise<void> }>,
) {
  describe(`event triggers end to end (${label})`, () => {
    let env: { sluiceYaml: string; close(): Promise<void> };
    before(async () => {
      env = await setup();
    });
    after(() => env?.close());

    test('a table commit (SQL engine or Iceberg REST) starts the pipeline waiting on it, once', async () => {
      const p = await openTestProject(
        {
          'pipelines/on-orders.yaml':
            'name: on_orders\non: { table: shop.orders }\ntasks: [{ id: a, noop: {} }]\n',
          'pipelines/on-ext.yaml': 'name: on_ext\non: { table: ext.t }\ntasks: [{ id: a, noop: {} }]\n',
        },
        { sluiceYaml: FAST + env.sluiceYaml },
      );
      const engine = await openEngine(p.runtime);
      try {
        await p.orch.scheduler().start();
        await p.orch.startWorker();
        const sql = await engine.openSession({ name: 'w', readOnly: false });
        await sql.run('CREATE TABLE shop.orders AS SELECT range AS id FROM range(3)');
        const catalog = openCatalog({ meta: p.runtime.meta, store: p.runtime.store });
        const loaded = await catalog.loadTable({ namespace: ['shop'], name: 'orders' });
        const snapshot = String(loaded.metadata['current-snapshot-id']);
        const [run] = await until('a run of on_orders', async () => {
          const runs = await runsOf(p.orch, 'on_orders');
          return runs.length ? runs : undefined;
        });
        assert.equal(run?.trigger, 'event');
        assert.deepEqual(run?.params, {
          trigger_kind: 'table',
          trigger_name: 'shop.orders',
          trigger_id: `shop.orders@${snapshot}`,
          trigger_count: '1',
        });
        assert.equal((await p.orch.waitForRun(run!.runId)).state, 'success');
        // The same event delivered again creates no run.
        assert.deepEqual(
          await p.orch
            .scheduler()
            .onEvent({ kind: 'table', name: 'shop.orders', id: `shop.orders@${snapshot}` }),
          [],
        );

        // An external engine committing through the Iceberg REST catalog.
        const rest = createIcebergRestApp({ catalog, bodyLimitBytes: 1 << 20 });
        const post = (path: string, body: string) =>
          rest.request(path, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
        assert.equal((await post('/v1/namespaces', '{"namespace":["ext"]}')).status, 200);
        const created = await post(
          '/v1/namespaces/ext/tables',
          stringifyJson({
            name: 't',
            schema: {
              type: 'struct',
              'schema-id': 0,
              fields: [{ id: 1, name: 'id', required: false, type: 'long' }],
            },
          }),
        );
        assert.equal(created.status, 200, await created.clone().text());
        const commit = await post(
          '/v1/namespaces/ext/tables/t',
          `{"requirements":[{"type":"assert-ref-snapshot-id","ref":"main","snapshot-id":null}],"updates":[
          {"action":"add-snapshot","snapshot":{"snapshot-id":4242,"sequence-number":1,"timestamp-ms":1700000000000,
           "manifest-list":"${catalog.warehouse}/ext/t/metadata/snap-4242.avro","summary":{"operation":"append"}}},
          {"action":"set-snapshot-ref","ref-name":"main","type":"branch","snapshot-id":4242}]}`,
        );
        assert.equal(commit.status, 200, await commit.text());
        const [ext] = await until('a run of on_ext', async () => {
          const runs = await runsOf(p.orch, 'on_ext');
          return runs.length ? runs : undefined;
        });
        assert.equal(ext?.params.trigger_id, 'ext.t@4242');
        assert.equal((await runsOf(p.orch, 'on_orders')).length, 1, 'only the table committed to runs');
      } finally {
        await engine.close();
        await p.close();
      }
    });

    test('a batch published to an event type starts its pipeline: one run per batch, not per event', async () => {
      const p = await openTestProject(
        {
          'pipelines/on-events.yaml':
            'name: on_events\nmax_active_runs: 10\non: { events: order.created }\ntasks: [{ id: a, noop: {} }]\n',
        },
        { sluiceYaml: FAST + env.sluiceYaml },
      );
      const config = busSchema.parse({ auth: { anonymous: 'always' } });
      const eventLog = await openEventLog(config, { dataDir: join(p.dir, 'bus'), log: silentLogger });
      const bus = createEventBus({ meta: p.runtime.meta, eventLog, config, log: silentLogger });
      const app = createBusApp(bus);
      const post = (path: string, body: unknown) =>
        app.request(path, {
          method: 'POST',
          body: JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        });
      try {
        await p.orch.scheduler().start();
        const et = await post('/event-types', {
          name: 'order.created',
          owning_application: 'shop',
          category: 'undefined',
          schema: { type: 'json_schema', schema: '{"type":"object"}' },
        });
        assert.equal(et.status, 201, await et.text());
        const batch = Array.from({ length: 20 }, (_, i) => ({ order: i }));
        assert.equal((await post('/event-types/order.created/events', batch)).status, 200);
        const [run] = await until('a run of on_events', async () => {
          const runs = await runsOf(p.orch, 'on_events');
          return runs.length ? runs : undefined;
        });
        assert.equal(run?.params.trigger_name, 'order.created');
        assert.equal(run?.params.trigger_kind, 'events');
        assert.equal((await post('/event-types/order.created/events', [{ order: 99 }])).status, 200);
        await until('a second run', async () =>
          (await runsOf(p.orch, 'on_events')).length === 2 ? 1 : undefined,
        );
        // A rejected batch (not an array) starts nothing.
        assert.equal((await post('/event-types/order.created/events', { order: 1 })).status, 400);
        await new Promise((r) => setTimeout(r, 300));
        assert.equal((await runsOf(p.orch, 'on_events')).length, 2);
      } finally {
        bus.shutdown();
        await p.close();
        await eventLog.close();
      }
    });

    test('a file dropped under the watched prefix starts its pipeline once, also across a restart', async () => {
      const files = {
        'pipelines/on-files.yaml':
          'name: on_files\nmax_active_runs: 10\non: { files: landing/orders/ }\ntasks: [{ id: a, noop: {} }]\n',
      };
      const dir = projectDir(files, FAST + env.sluiceYaml);
      let p = await openTestProject({}, { dir });
      const local = p.runtime.store.url.startsWith('file:');
      const root = local ? fileURLToPath(p.runtime.store.url) : '';
      const drop = async (key: string) => {
        if (!local) return void (await p.runtime.store.put(key, 'id\n1\n'));
        mkdirSync(dirname(join(root, key)), { recursive: true });
        writeFileSync(join(root, key), 'id\n1\n');
      };
      try {
        await drop('landing/orders/a.csv');
        await drop('elsewhere.csv');
        await new Promise((r) => setTimeout(r, 1100)); // files younger than a second are left for the next tick
        const scheduler = p.orch.scheduler();
        assert.equal((await scheduler.tick()).length, 1);
        assert.deepEqual(await scheduler.tick(), [], 'seen: no second run');
        const [run] = await runsOf(p.orch, 'on_files');
        assert.equal(run?.params.trigger_name, 'landing/orders/a.csv');

        await p.close();
        p = await openTestProject({}, { dir });
        assert.deepEqual(await p.orch.scheduler().tick(), [], 'after a restart: still seen');
        await drop('landing/orders/b.csv');
        await new Promise((r) => setTimeout(r, 1100));
        assert.equal((await p.orch.scheduler().tick()).length, 1);
        const names = (await runsOf(p.orch, 'on_files')).map((r) => r.params.trigger_name);
        assert.deepEqual(names, ['landing/orders/a.csv', 'landing/orders/b.csv']);
      } finally {
        await p.close();
      }
    });

    test('a burst of 50 commits with max_active_runs 1: runs never overlap, every commit is counted once', async () => {
      const p = await openTestProject(
        {
          'pipelines/on-burst.yaml':
            'name: on_burst\nmax_active_runs: 1\non: { table: shop.burst }\ntasks: [{ id: a, noop: { sleep: 300ms } }]\n',
        },
        { sluiceYaml: FAST + env.sluiceYaml },
      );
      const engine = await openEngine(p.runtime);
      try {
        const sql = await engine.openSession({ name: 'w', readOnly: false });
        await sql.run('CREATE TABLE shop.burst AS SELECT 0::BIGINT AS id'); // before the scheduler listens: not counted
        await p.orch.scheduler().start();
        await p.orch.startWorker();
        for (let i = 0; i < 50; i++) await sql.run(`INSERT INTO shop.burst VALUES (${i})`);
        const catalog = openCatalog({ meta: p.runtime.meta, store: p.runtime.store });
        const last = String(
          (await catalog.loadTable({ namespace: ['shop'], name: 'burst' })).metadata['current-snapshot-id'],
        );
        const runs = await until('the run of the last commit to finish', async () => {
          const all = await runsOf(p.orch, 'on_burst');
          const final = all.find((r) => r.params.trigger_id === `shop.burst@${last}`);
          return final && final.state === 'success' ? all : undefined;
        });
        assert.ok(runs.length >= 2 && runs.length < 50, `${runs.length} runs`);
        assert.ok(runs.every((r) => r.state === 'success'));
        for (let i = 1; i < runs.length; i++) {
          assert.ok(
            (runs[i]?.startedAt?.getTime() ?? 0) >=
              (runs[i - 1]?.endedAt?.getTime() ?? Number.POSITIVE_INFINITY),
            'runs do not overlap',
          );
        }
        assert.equal(
          runs.reduce((n, r) => n + Number(r.params.trigger_count), 0),
          50,
          'each commit folded into exactly one run',
        );
        assert.equal(
          runs.at(-1)?.params.trigger_id,
          `shop.burst@${last}`,
          'the last run covers the last commit',
        );
      } finally {
        await engine.close();
        await p.close();
      }
    });
  });
}
