import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildModels, Compiler, runTests } from '../../src/models/index.js';
import { createEvents, type ModelsTestProject, modelsProject, SHOP } from './helpers.js';

const byName = <T extends { name: string }>(list: T[]) => new Map(list.map((x) => [x.name, x]));

describe('the dbt-shop project runs unchanged on the lake', () => {
  let p: ModelsTestProject;
  before(async () => {
    p = await modelsProject();
    await createEvents(p, 0, 30, '2026-11-30T00:00:00Z');
  });
  after(() => p?.remove());

  test('loads models, seeds, sources, macros, folder configs and tests', () => {
    const project = p.load();
    assert.equal(project.name, 'shop');
    assert.deepEqual([...project.nodes.keys()].sort(), [
      'customer_activity',
      'customers',
      'customers_snapshot',
      'orders',
      'raw_customers',
      'raw_orders',
      'raw_payments',
      'stg_customers',
      'stg_events',
      'stg_orders',
      'stg_payments',
    ]);
    const n = (name: string) => project.nodes.get(name)!;
    assert.equal(n('stg_orders').schema, 'shop_staging');
    assert.equal(n('stg_orders').config.materialized, 'view');
    assert.deepEqual(n('stg_orders').config.tags, ['staging']);
    assert.equal(n('raw_orders').schema, 'shop_raw');
    assert.equal(n('orders').schema, 'shop');
    assert.equal(n('customers').config.materialized, 'table');
    assert.deepEqual(n('customers').config.tags, ['marts', 'daily']);
    assert.equal(n('customer_activity').config.materialized, 'incremental');
    assert.deepEqual(n('customer_activity').config.uniqueKey, ['customer_id']);
    assert.equal(n('stg_events').config.materialized, 'ephemeral');
    assert.deepEqual(n('stg_events').sources, ['app.events']);
    assert.deepEqual(n('orders').refs, ['stg_orders', 'stg_payments']);
    assert.equal(
      n('customers').description,
      'One row per customer with their order history and lifetime value.',
    );
    assert.equal(project.sources.get('app.events')?.relation, 'app_raw.events');
    assert.deepEqual(project.sources.get('app.events')?.freshness, {
      warnAfterSeconds: 12 * 3600,
      errorAfterSeconds: 1000 * 86400,
    });
    const tests = byName(project.tests);
    assert.equal(tests.get('relationships_orders_customer_id_customers_customer_id')?.refs[0], 'customers');
    assert.equal(tests.get('not_null_orders_amount')?.severity, 'warn');
    assert.equal(tests.get('assert_order_amounts_not_negative')?.kind, 'singular');
    assert.ok(tests.has('unique_app_events_event_id'));

    const compiler = new Compiler(project);
    const payments = compiler.compile(n('stg_payments'));
    assert.match(payments, /round\(\(amount \/ 100\.0\)::numeric\(16, 2\), 2\) as amount/);
    assert.match(payments, /from shop_raw\.raw_payments/);
    const orders = compiler.compile(n('orders'));
    assert.match(orders, /as gift_card_amount/);
    assert.match(orders, /from shop_staging\.stg_orders/);
    const activity = compiler.compile(n('customer_activity'));
    assert.match(activity, /^WITH __dbt__cte__stg_events AS \(/);
    assert.match(activity, /from app_raw\.events/);
    assert.doesNotMatch(activity, /shop\.customer_activity/);
    assert.match(
      compiler.compile(n('customer_activity'), { isIncremental: true }),
      /from shop\.customer_activity\)/,
    );
  });

  test('builds everything, in ref order, and every test passes', async () => {
    const project = p.load();
    const order: string[] = [];
    const results = await buildModels(p.runtime, p.engine, project, {
      threads: 3,
      onEvent: (e) => {
        if (e.status === 'started') order.push(e.name);
      },
    });
    for (const r of results) assert.equal(r.status, 'success', `${r.name}: ${r.error}`);
    assert.ok(order.indexOf('stg_orders') > order.indexOf('raw_orders'));
    assert.ok(order.indexOf('customers') > order.indexOf('stg_payments'));
    const ephemeral = byName(results).get('stg_events')!;
    assert.equal(ephemeral.relation, undefined);
    assert.deepEqual(
      await p.rows("SELECT count(*) FROM information_schema.tables WHERE table_name = 'stg_events'"),
      [[0]],
    );

    assert.deepEqual(await p.rows('SELECT count(*), sum(number_of_orders) FROM shop.customers'), [[6, 10]]);
    assert.deepEqual(
      await p.rows(
        'SELECT CAST(customer_lifetime_value AS DOUBLE) FROM shop.customers WHERE customer_id = 1',
      ),
      [[61]],
    );
    assert.deepEqual(
      await p.rows(
        'SELECT CAST(credit_card_amount AS DOUBLE), CAST(coupon_amount AS DOUBLE) FROM shop.orders WHERE order_id = 4',
      ),
      [[3, 25]],
    );
    assert.deepEqual(await p.rows('SELECT count(*), sum(events) FROM shop.customer_activity'), [[6, 30]]);

    const tests = await runTests(p.engine, project, { now: new Date('2026-11-30T01:00:00Z') });
    for (const t of tests) assert.equal(t.status, 'pass', `${t.name}: ${t.message}`);
    assert.equal(tests.filter((t) => t.kind === 'freshness').length, 1);
    assert.equal(tests.length, project.tests.length + 1);

    const stale = await runTests(p.engine, project, {
      select: 'customer_activity',
      now: new Date('2026-12-01T00:00:00Z'),
    });
    const freshness = stale.find((t) => t.kind === 'freshness')!;
    assert.equal(freshness.status, 'warn');
    assert.match(freshness.message ?? '', /warn_after 43200s/);
  });

  test('a rebuild is one new snapshot; the previous one stays for time travel', async () => {
    const project = p.load();
    const before = await p.rows("SELECT count(*) FROM shop.customers WHERE first_name = 'Michael'");
    p.write('seeds/raw_customers.csv', 'id,first_name,last_name\n1,Mike,P.\n');
    const results = await buildModels(p.runtime, p.engine, project, { select: '+customers' });
    assert.deepEqual(results.map((r) => r.name).sort(), [
      'customers',
      'raw_customers',
      'raw_orders',
      'raw_payments',
      'stg_customers',
      'stg_orders',
      'stg_payments',
    ]);
    assert.equal(results.at(-1)?.name, 'customers');
    const loaded = await p.catalog.loadTable({ namespace: ['shop'], name: 'customers' });
    const snapshots = loaded.metadata.snapshots ?? [];
    assert.equal(snapshots.length, 2);
    const previous = snapshots[0]!['snapshot-id'];
    assert.equal(
      byName(results).get('customers')?.snapshotId,
      String(loaded.metadata['current-snapshot-id']),
    );
    assert.deepEqual(await p.rows('SELECT count(*) FROM shop.customers'), [[1]]);
    assert.deepEqual(before, [[1]]);
    assert.deepEqual(await p.rows(`SELECT count(*) FROM shop."customers@${previous}"`), [[6]]);
  });

  test('incremental merge by unique_key equals a full rebuild', async () => {
    const project = p.load();
    await createEvents(p, 30, 75, '2026-11-30T06:00:00Z');
    const inc = await buildModels(p.runtime, p.engine, project, { select: 'customer_activity' });
    assert.equal(inc[0]?.status, 'success', inc[0]?.error);
    assert.equal(inc[0]?.incremental, true);
    const full = p.load({ targetSchema: 'shop_full' });
    const rebuilt = await buildModels(p.runtime, p.engine, full, {
      select: 'customer_activity',
      fullRefresh: true,
    });
    assert.equal(rebuilt[0]?.incremental, false);
    const q = (schema: string) =>
      `SELECT customer_id, events, purchases, last_event_at FROM ${schema}.customer_activity ORDER BY customer_id`;
    const incremental = await p.rows(q('shop'));
    assert.deepEqual(incremental, await p.rows(q('shop_full')));
    assert.equal(incremental.length, 6);
    assert.deepEqual(await p.rows('SELECT sum(events) FROM shop.customer_activity'), [[75]]);
    const loaded = await p.catalog.loadTable({ namespace: ['shop'], name: 'customer_activity' });
    assert.equal(loaded.metadata.snapshots?.length, 2, 'the merge is one commit');
  });

  test('a broken seed row fails the right test and its rows are stored', async () => {
    cpSync(join(SHOP, 'seeds/raw_customers.csv'), join(p.dbt, 'seeds/raw_customers.csv'));
    p.append('seeds/raw_orders.csv', '11,2,2026-01-15,lost\n');
    const project = p.load();
    const results = await buildModels(p.runtime, p.engine, project, { select: 'raw_orders+ +customers' });
    for (const r of results) assert.equal(r.status, 'success', `${r.name}: ${r.error}`);
    const tests = byName(
      await runTests(p.engine, project, { select: 'stg_orders orders', freshness: false }),
    );
    const failed = [...tests.values()].filter((t) => t.status !== 'pass');
    assert.deepEqual(
      failed.map((t) => [t.kind, t.attachedTo, t.column, t.status]).sort(),
      [
        ['accepted_values', 'orders', 'status', 'warn'],
        ['accepted_values', 'stg_orders', 'status', 'fail'],
        ['not_null', 'orders', 'amount', 'warn'],
      ].sort(),
    );
    const bad = failed.find((t) => t.attachedTo === 'stg_orders')!;
    assert.match(bad.name, /^accepted_values_stg_orders_status_placed_shipped_\w+_[0-9a-f]{8}$/);
    assert.ok(bad.name.length <= 60);
    assert.equal(bad.failures, 1);
    assert.equal(bad.failuresTable, `shop_test_failures.${bad.name}`);
    assert.deepEqual(await p.rows(`SELECT value_field, n_records FROM ${bad.failuresTable}`), [['lost', 1]]);
    assert.deepEqual(await p.rows(`SELECT order_id FROM shop_test_failures.not_null_orders_amount`), [[11]]);

    // Fixed data: the test passes and its stored failures are gone.
    p.write('seeds/raw_orders.csv', 'id,user_id,order_date,status\n1,1,2026-01-01,placed\n');
    await buildModels(p.runtime, p.engine, project, { select: 'raw_orders+' });
    const again = await runTests(p.engine, project, { select: 'stg_orders', freshness: false });
    assert.equal(again.find((t) => t.name === bad.name)?.status, 'pass');
    assert.deepEqual(
      await p.rows(
        `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'shop_test_failures' AND table_name = '${bad.name}'`,
      ),
      [[0]],
    );
  });
});
