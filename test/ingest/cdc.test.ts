import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { openCatalog } from '../../src/catalog/index.js';
import { openDuck } from '../../src/duck/index.js';
import { cdc, cdcStatus, parseLsn, readState, runCdc } from '../../src/ingest/cdc/index.js';
import { flushSystemTables } from '../../src/system/index.js';
import { openTable } from '../../src/table/index.js';
import { runCli } from '../helpers/cli.js';
import { assertLakeEqualsSource, cdcSuite, pgExec, testSpec } from './cdc-helpers.js';

const BIG = 'x'.repeat(20_000);

describe('postgres_cdc: snapshot, stream, schema changes', () => {
  const s = cdcSuite(async (url) => {
    await pgExec(
      url,
      `INSERT INTO orders SELECT g, g * 1.25, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute',
         jsonb_build_object('n', g), ARRAY['a', 'b' || g], CASE WHEN g % 10 = 0 THEN $1 ELSE NULL END, g
       FROM generate_series(1, 120) g`,
      [BIG],
    );
    await pgExec(
      url,
      `INSERT INTO line_items SELECT g % 40, g, 'sku' || g, g * 0.5, ARRAY[g, NULL, 3] FROM generate_series(1, 90) g`,
    );
    await pgExec(
      url,
      `INSERT INTO events SELECT 'e' || g, 'k', now(), '{"a":[1,2]}' FROM generate_series(1, 30) g`,
    );
  });

  const catchUp = (over = {}) =>
    runCdc(s.runtime, testSpec(s.db.url, { change_stream: true, ...over }), {
      signal: AbortSignal.timeout(60_000),
      untilCaughtUp: true,
    });

  test('the initial snapshot copies every table in chunks', async () => {
    const r = await catchUp();
    assert.equal(r.snapshotRows, 240);
    await assertLakeEqualsSource(s.runtime, s.db.url);
  });

  test('inserts, updates, deletes, truncates, TOAST and NULLs are applied by key', async () => {
    await pgExec(
      s.db.url,
      `INSERT INTO orders VALUES (1000, 1.5, now(), '{"z":null}', ARRAY[NULL, 'q"uote'], $1, NULL)`,
      [BIG],
    );
    await pgExec(
      s.db.url,
      `UPDATE orders SET qty = qty + 100 WHERE id % 10 = 0;
       UPDATE orders SET amount = NULL, meta = NULL WHERE id BETWEEN 20 AND 25;
       DELETE FROM orders WHERE id BETWEEN 50 AND 59;
       UPDATE orders SET id = id + 5000 WHERE id IN (61, 70);
       UPDATE orders SET qty = 7 WHERE id = 80; UPDATE orders SET id = 9080 WHERE id = 80;
       INSERT INTO orders (id, qty) VALUES (50, 1);
       UPDATE line_items SET price = price * 2, scores = ARRAY[7] WHERE line % 3 = 0;
       DELETE FROM line_items WHERE order_id = 5;
       TRUNCATE events;
       INSERT INTO events VALUES ('after-truncate', 'k', now(), '[]');
       UPDATE events SET kind = 'changed' WHERE event_id = 'after-truncate';`,
    );
    await pgExec(s.db.url, `UPDATE orders SET qty = -1 WHERE id = 1000`);
    const r = await catchUp();
    assert.ok(r.changes > 0);
    await assertLakeEqualsSource(s.runtime, s.db.url);
    const duck = await openDuck({ threads: 1 });
    try {
      const catalog = openCatalog({ meta: s.runtime.meta, store: s.runtime.store, log: s.runtime.log });
      const changes = await openTable(catalog, s.runtime.store, duck, {
        namespace: ['cdc'],
        name: 'events__changes',
      });
      const plan = await changes.planScan();
      const ops = await duck.all<{ op: string; n: bigint }>(
        `SELECT op, count(*) AS n FROM (${changes.scanSql(plan)}) GROUP BY op ORDER BY op`,
      );
      assert.deepEqual(
        ops.map((o) => [o.op, Number(o.n)]),
        [
          ['insert', 1],
          ['truncate', 1],
          ['update', 1],
        ],
      );
      const orders = await openTable(catalog, s.runtime.store, duck, { namespace: ['cdc'], name: 'orders' });
      assert.match(orders.currentSnapshot()?.summary['sluice.cdc.lsn'] ?? '', /^[0-9A-F]+\/[0-9A-F]+$/);
    } finally {
      await duck.close();
    }
  });

  test('ADD and DROP COLUMN mid-stream evolve the schema and keep every version', async () => {
    await pgExec(
      s.db.url,
      `ALTER TABLE orders ADD COLUMN channel text; UPDATE orders SET channel = 'web' WHERE id < 10`,
    );
    await pgExec(
      s.db.url,
      `ALTER TABLE line_items DROP COLUMN sku; UPDATE line_items SET price = 1 WHERE line = 1`,
    );
    await pgExec(
      s.db.url,
      `ALTER TABLE orders ALTER COLUMN qty TYPE bigint; UPDATE orders SET qty = 5000000000 WHERE id = 1`,
    );
    await catchUp();
    await assertLakeEqualsSource(s.runtime, s.db.url);
    await flushSystemTables(s.runtime);
    const duck = await openDuck({ threads: 1 });
    try {
      const catalog = openCatalog({ meta: s.runtime.meta, store: s.runtime.store, log: s.runtime.log });
      const history = await openTable(catalog, s.runtime.store, duck, {
        namespace: ['sluice_system'],
        name: 'schema_history',
      });
      const plan = await history.planScan();
      const rows = await duck.all<{
        table_name: string;
        version: number;
        columns: string;
        first_lsn: string | null;
      }>(
        `SELECT table_name, version, columns, first_lsn FROM (${history.scanSql(plan)}) ORDER BY table_name, version`,
      );
      const orders = rows.filter((r) => r.table_name === 'cdc.orders');
      assert.equal(orders.length, 3, JSON.stringify(orders));
      assert.ok(JSON.parse(orders[1]?.columns ?? '[]').some((c: { name: string }) => c.name === 'channel'));
      assert.ok(orders[1]?.first_lsn);
      const items = rows.filter((r) => r.table_name === 'cdc.line_items');
      assert.equal(items.length, 2);
      assert.ok(!JSON.parse(items[1]?.columns ?? '[]').some((c: { name: string }) => c.name === 'sku'));
    } finally {
      await duck.close();
    }
    const status = await cdcStatus(s.runtime, testSpec(s.db.url));
    assert.equal(status.slotExists, true);
    assert.equal(status.phase, 'streaming');
    assert.ok(status.tables.every((t) => t.lsn !== null));
  });

  test('the heartbeat advances the slot while only other tables change; slot lag is a metric', async () => {
    await pgExec(
      s.db.url,
      'CREATE TABLE unrelated (x int); INSERT INTO unrelated SELECT generate_series(1, 20000)',
    );
    const before = (await pgExec(s.db.url, 'SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn as string;
    const registry = new Registry();
    await runCdc(s.runtime, testSpec(s.db.url, { change_stream: true }), {
      signal: AbortSignal.timeout(60_000),
      untilCaughtUp: true,
      registry,
    });
    const slot = (
      await pgExec(
        s.db.url,
        "SELECT confirmed_flush_lsn >= $1::pg_lsn AS advanced FROM pg_replication_slots WHERE slot_name = 'sluice_shop'",
        [before],
      )
    ).rows[0];
    assert.equal(slot.advanced, true);
    const state = await readState(s.runtime.meta, 'shop');
    assert.ok(state && state.lsn >= parseLsn(before));
    assert.match(await registry.metrics(), /sluice_cdc_slot_lag_bytes\{cdc="shop"\} \d+/);
  });

  test('the cdc task kind validates its spec and runs until caught up', async () => {
    const spec = cdc.schema.parse({
      name: 'shop',
      source: {
        postgres_cdc: {
          url: s.db.url,
          tables: ['orders', 'line_items', 'events'],
          keys: { events: ['event_id'] },
        },
      },
    });
    await pgExec(s.db.url, 'UPDATE orders SET qty = 42 WHERE id = 1');
    const progress: unknown[] = [];
    const result = await cdc.run(
      {
        runtime: s.runtime,
        log: s.runtime.log,
        pipeline: 'p',
        taskId: 't',
        runId: 'r',
        attempt: 1,
        dataIntervalStart: new Date(),
        dataIntervalEnd: new Date(),
        params: {},
        signal: AbortSignal.timeout(60_000),
        progress: (p) => progress.push(p),
        options: { untilCaughtUp: true },
      },
      spec,
    );
    assert.match(String(result.summary?.lsn), /^[0-9A-F]+\/[0-9A-F]+$/);
    await assertLakeEqualsSource(s.runtime, s.db.url);
    assert.ok(progress.length > 0);
  });

  test('sluice cdc status reads a spec file with an environment reference for the URL', async () => {
    const spec = join(s.dir, 'shop-cdc.yaml');
    writeFileSync(
      spec,
      `name: shop\nsource:\n  postgres_cdc:\n    url: \${SHOP_PG_URL}\n    tables: [orders, line_items, events]\n    keys: { events: [event_id] }\n`,
    );
    const project = ['--project', join(s.dir, 'proj')];
    const r = await runCli(['cdc', 'status', spec, '--json', ...project], { env: { SHOP_PG_URL: s.db.url } });
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as {
      phase: string;
      slotExists: boolean;
      tables: { lsn: string | null }[];
    };
    assert.equal(body.phase, 'streaming');
    assert.equal(body.slotExists, true);
    assert.equal(body.tables.length, 3);
    writeFileSync(spec, 'name: shop\nsource: { postgres_cdc: { url: "mysql://x", tables: [orders] } }\n');
    const bad = await runCli(['cdc', 'status', spec, ...project]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /shop-cdc\.yaml:2:\d+.*postgres:\/\/ URL/);
  });
});
