import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { deployModels, environmentSchema, loadModelsProject } from '../../src/models/index.js';
import { type ModelsTestProject, modelsProject } from './helpers.js';

describe('deploy: failing tests leave the tables on their previous snapshots', () => {
  let p: ModelsTestProject;
  before(async () => {
    p = await modelsProject({
      'dbt_project.yml': 'name: prod_shop\n',
      'seeds/items.csv': 'id,price\n1,10\n2,20\n',
      'models/item_prices.sql':
        "{{ config(materialized='table') }}\nselect id, price * 2 as price from {{ ref('items') }}",
      'models/schema.yml':
        'version: 2\nmodels:\n  - name: item_prices\n    columns:\n      - name: id\n        tests: [unique, not_null]\n',
    });
  });
  after(() => p?.remove());

  test('a passing deploy switches; a failing one rolls every built table back', async () => {
    const first = await deployModels(p.runtime, p.load());
    assert.equal(first.ok, true, JSON.stringify(first.models));
    assert.deepEqual(await p.rows('SELECT id, price FROM prod_shop.item_prices ORDER BY id'), [
      [1, 20],
      [2, 40],
    ]);
    const good = (await p.catalog.loadTable({ namespace: ['prod_shop'], name: 'item_prices' })).metadata;

    // A duplicate id fails `unique`: readers keep the previous build.
    p.write('seeds/items.csv', 'id,price\n1,10\n1,11\n2,99\n');
    const second = await deployModels(p.runtime, p.load());
    assert.equal(second.ok, false);
    assert.equal(second.tests.find((t) => t.name === 'unique_item_prices_id')?.status, 'fail');
    assert.deepEqual(second.rolledBack.map((r) => r.relation).sort(), [
      'prod_shop.item_prices',
      'prod_shop.items',
    ]);
    assert.deepEqual(await p.rows('SELECT id, price FROM prod_shop.item_prices ORDER BY id'), [
      [1, 20],
      [2, 40],
    ]);
    assert.deepEqual(await p.rows('SELECT count(*) FROM prod_shop.items'), [[2]]);
    const after = (await p.catalog.loadTable({ namespace: ['prod_shop'], name: 'item_prices' })).metadata;
    assert.equal(after['current-snapshot-id'], good['current-snapshot-id']);
    assert.equal(after.snapshots?.length, 2, 'the failed build stays in the history');
  });

  test("a failed deploy that changed a model's columns restores the previous columns too", async () => {
    p.write('seeds/items.csv', 'id,price\n1,10\n2,20\n');
    assert.equal((await deployModels(p.runtime, p.load())).ok, true);
    p.write(
      'models/item_prices.sql',
      "{{ config(materialized='table') }}\nselect id, 'x' as label from {{ ref('items') }} union all select 1, 'y'",
    );
    const failed = await deployModels(p.runtime, p.load(), { select: 'item_prices' });
    assert.equal(failed.ok, false);
    assert.deepEqual(await p.rows('SELECT id, price FROM prod_shop.item_prices ORDER BY id'), [
      [1, 20],
      [2, 40],
    ]);
    p.write(
      'models/item_prices.sql',
      "{{ config(materialized='table') }}\nselect id, price * 2 as price from {{ ref('items') }}",
    );
  });

  test('a failed deploy drops the tables it created', async () => {
    p.write('models/new_model.sql', "select id from {{ ref('items') }} where id = 1 union all select 1");
    p.write(
      'models/new.yml',
      'version: 2\nmodels:\n  - name: new_model\n    columns:\n      - name: id\n        tests: [unique]\n',
    );
    const result = await deployModels(p.runtime, p.load(), { select: 'new_model' });
    assert.equal(result.ok, false);
    assert.deepEqual(result.rolledBack, [{ relation: 'prod_shop.new_model', snapshotId: null }]);
    assert.equal(await p.catalog.tableExists({ namespace: ['prod_shop'], name: 'new_model' }), false);
  });

  test('environments other than prod prefix the target schema', () => {
    assert.equal(environmentSchema('shop', 'dev'), 'dev_shop');
    assert.equal(environmentSchema('shop', 'prod'), undefined);
    assert.equal(environmentSchema('shop'), undefined);
    const dev = loadModelsProject(p.dbt, { environment: 'dev' });
    assert.equal(dev.nodes.get('item_prices')?.schema, 'dev_prod_shop');
  });
});
