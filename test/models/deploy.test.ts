import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { openEngine } from '../../src/engine/index.js';
import { deployModels, environmentSchema, loadModelsProject } from '../../src/models/index.js';
import { query } from '../engine/helpers.js';
import { sluiceBin } from '../helpers/cli.js';
import { type ModelsTestProject, modelsProject } from './helpers.js';

/** A project whose three relations all carry the deploy's `ver` var. */
function files(ver: number): Record<string, string> {
  return {
    'dbt_project.yml': `name: prod_shop\nvars:\n  ver: ${ver}\n`,
    'seeds/items.csv': 'id,price\n1,10\n2,20\n',
    'models/item_prices.sql':
      "{{ config(materialized='table') }}\nselect id, price * 2 as price, {{ var('ver') }} as ver from {{ ref('items') }}",
    'models/item_totals.sql':
      "{{ config(materialized='table') }}\nselect sum(price) as total, max(ver) as ver from {{ ref('item_prices') }}",
    'models/item_view.sql': "select ver, count(*) as n from {{ ref('item_prices') }} group by ver",
    'models/schema.yml':
      'version: 2\nmodels:\n  - name: item_prices\n    columns:\n      - name: id\n        tests: [unique, not_null]\n',
  };
}

const VERSIONS =
  'SELECT (SELECT max(ver) FROM prod_shop.item_prices), (SELECT ver FROM prod_shop.item_totals), (SELECT max(ver) FROM prod_shop.item_view)';

describe('deploy: blue-green through staging namespaces, one switch for all', () => {
  let p: ModelsTestProject;
  const snapshots = async (name: string) =>
    (await p.catalog.loadTable({ namespace: ['prod_shop'], name })).metadata.snapshots.length;
  const setVersion = (ver: number) => p.write('dbt_project.yml', files(ver)['dbt_project.yml'] as string);
  before(async () => {
    p = await modelsProject(files(1));
  });
  after(() => p?.remove());

  test('a first deploy creates the tables and the view in one switch', async () => {
    const first = await deployModels(p.runtime, p.load());
    assert.equal(first.ok, true, first.error ?? JSON.stringify(first.models));
    assert.deepEqual(first.switched.map((s) => `${s.relation}:${s.kind}`).sort(), [
      'prod_shop.item_prices:table',
      'prod_shop.item_totals:table',
      'prod_shop.item_view:view',
      'prod_shop.items:table',
    ]);
    assert.ok(first.health.every((h) => h.ok && (h.rows ?? 0) > 0));
    assert.deepEqual(await p.rows(VERSIONS), [[1, 1, 1]]);
    assert.equal(await p.catalog.viewExists({ namespace: ['prod_shop'], name: 'item_view' }), true);
    const namespaces = (await p.catalog.listNamespaces()).map((n) => n.join('.'));
    assert.ok(!namespaces.some((n) => n.includes('__staging_')), `staging left behind: ${namespaces}`);
  });

  test('failing tests: production unchanged, no snapshot added, staging dropped', async () => {
    const before = await snapshots('item_prices');
    const current = (await p.catalog.loadTable({ namespace: ['prod_shop'], name: 'item_prices' })).metadata;
    setVersion(2);
    p.write('seeds/items.csv', 'id,price\n1,10\n1,11\n2,99\n');
    const failed = await deployModels(p.runtime, p.load());
    assert.equal(failed.ok, false);
    assert.equal(failed.error, 'a test failed');
    assert.equal(failed.tests.find((t) => t.name === 'unique_item_prices_id')?.status, 'fail');
    assert.deepEqual(failed.switched, []);
    assert.deepEqual(await p.rows(VERSIONS), [[1, 1, 1]]);
    assert.equal(await snapshots('item_prices'), before);
    assert.equal(await snapshots('items'), 1);
    const after = (await p.catalog.loadTable({ namespace: ['prod_shop'], name: 'item_prices' })).metadata;
    assert.equal(after['current-snapshot-id'], current['current-snapshot-id']);
    const namespaces = (await p.catalog.listNamespaces()).map((n) => n.join('.'));
    assert.ok(!namespaces.some((n) => n.includes('__staging_')), `staging left behind: ${namespaces}`);
    p.write('seeds/items.csv', 'id,price\n1,10\n2,20\n');
  });

  test('a concurrent reader never sees a mix of the old and the new state', async () => {
    const engine = await openEngine(p.runtime);
    const reader = await engine.openSession({ name: 'reader', readOnly: true });
    const seen = new Set<string>();
    let stop = false;
    const loop = (async () => {
      while (!stop) seen.add(JSON.stringify((await query(reader, VERSIONS))[0]));
    })();
    try {
      for (const ver of [3]) {
        setVersion(ver);
        const r = await deployModels(p.runtime, p.load());
        assert.equal(r.ok, true, r.error);
      }
    } finally {
      stop = true;
      await loop;
      await reader.close();
      await engine.close();
    }
    assert.deepEqual(
      [...seen].filter((s) => !['[1,1,1]', '[3,3,3]'].includes(s)),
      [],
    );
    assert.ok(seen.has('[3,3,3]'));
    // The previous builds stay in the history for rollback.
    assert.ok((await snapshots('item_prices')) >= 2);
  });

  test('SIGKILL during a deploy leaves production fully old or fully new', async () => {
    for (const [ver, delayMs] of [
      [5, 1500],
      [6, 2500],
      [7, 3500],
    ] as const) {
      setVersion(ver);
      const child = spawn(
        process.execPath,
        [sluiceBin, '--project', p.dir, 'models', 'deploy', '--dir', 'dbt'],
        { stdio: 'ignore' },
      );
      const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      await new Promise((r) => child.on('close', r));
      clearTimeout(timer);
      const [row] = await p.rows(VERSIONS);
      const v = row as number[];
      assert.ok(v[0] === v[1] && v[1] === v[2], `a mix after the kill: ${JSON.stringify(v)}`);
    }
    // The next deploy drops what the killed ones left in staging.
    setVersion(8);
    assert.equal((await deployModels(p.runtime, p.load())).ok, true);
    assert.deepEqual(await p.rows(VERSIONS), [[8, 8, 8]]);
    const namespaces = (await p.catalog.listNamespaces()).map((n) => n.join('.'));
    assert.ok(!namespaces.some((n) => n.includes('__staging_')), `staging left behind: ${namespaces}`);
  });

  test('environments other than prod prefix the target schema', () => {
    assert.equal(environmentSchema('shop', 'dev'), 'dev_shop');
    assert.equal(environmentSchema('shop', 'prod'), undefined);
    assert.equal(environmentSchema('shop'), undefined);
    const dev = loadModelsProject(p.dbt, { environment: 'dev' });
    assert.equal(dev.nodes.get('item_prices')?.schema, 'dev_prod_shop');
  });
});
