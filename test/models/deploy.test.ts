import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { openDuck } from '../../src/duck/index.js';
import { openEngine } from '../../src/engine/index.js';
import { deployModels, environmentSchema, loadModelsProject } from '../../src/models/index.js';
import { currentSnapshot, openTable, reachableFiles, TableIO } from '../../src/table/index.js';
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

/** Keys of the Parquet files in the store (under `prefix`). */
async function parquetKeys(p: ModelsTestProject, prefix = ''): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const o of p.runtime.store.list(prefix)) if (o.key.endsWith('.parquet')) out.add(o.key);
  return out;
}

/** Keys of the data files `name`'s current snapshot reads, and of every file its history references. */
async function tableFiles(p: ModelsTestProject, ns: string, name: string) {
  const io = new TableIO(p.runtime.store);
  const { metadata } = await p.catalog.loadTable({ namespace: [ns], name });
  const current = currentSnapshot(metadata);
  const live = current ? await io.liveEntries(await io.manifestList(current)) : [];
  return {
    live: live.map((e) => io.keyOf(e.entry.data_file.file_path)),
    reachable: new Set([...(await reachableFiles({ io }, metadata.snapshots))].map((f) => io.keyOf(f))),
    operation: current?.summary.operation,
  };
}

/** Every Parquet file under the namespace's directory is referenced by one of its tables. */
async function assertNoOrphans(p: ModelsTestProject, ns: string): Promise<void> {
  const used = new Set<string>();
  for (const t of await p.catalog.listTables([ns]))
    for (const k of (await tableFiles(p, ns, t.name)).reachable) used.add(k);
  const orphans = [...(await parquetKeys(p, `${ns}/`))].filter((k) => !used.has(k));
  assert.deepEqual(orphans, [], 'data files no table references');
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
    // Rows are written once: production reads the very files the staging build wrote (under
    // its data directory, in the deploy's folder), and no copy of them was left anywhere.
    for (const name of ['items', 'item_prices', 'item_totals']) {
      const { live } = await tableFiles(p, 'prod_shop', name);
      assert.ok(live.length > 0, name);
      for (const key of live)
        assert.ok(key.startsWith(`prod_shop/${name}/data/deploy-${first.deployId}/`), key);
    }
    assert.equal((await parquetKeys(p)).size, 3);
    await assertNoOrphans(p, 'prod_shop');
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
    // The staged files (written under production's data directory) are gone with the staging.
    await assertNoOrphans(p, 'prod_shop');
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
    // What the killed deploys staged is deleted, what production took over stays.
    await assertNoOrphans(p, 'prod_shop');
    assert.deepEqual(await p.rows('SELECT count(*) FROM prod_shop.item_prices'), [[2]]);
  });

  test('environments other than prod prefix the target schema', () => {
    assert.equal(environmentSchema('shop', 'dev'), 'dev_shop');
    assert.equal(environmentSchema('shop', 'prod'), undefined);
    assert.equal(environmentSchema('shop'), undefined);
    const dev = loadModelsProject(p.dbt, { environment: 'dev' });
    assert.equal(dev.nodes.get('item_prices')?.schema, 'dev_prod_shop');
  });
});

describe('deploy: staged files become production files (incremental, schema change, expire, purge)', () => {
  let p: ModelsTestProject;
  const inc =
    "{{ config(materialized='incremental') }}\nselect id, v from {{ ref('ev') }}\n{% if is_incremental() %}where id > (select max(id) from {{ this }}){% endif %}";
  before(async () => {
    p = await modelsProject({
      'dbt_project.yml': 'name: own\n',
      'seeds/ev.csv': 'id,v\n1,a\n2,b\n',
      'models/inc.sql': inc,
      'models/shape.sql': "{{ config(materialized='table') }}\nselect id, v as label from {{ ref('ev') }}",
    });
  });
  after(() => p?.remove());

  test('an incremental deploy adds only the new rows; production keeps its files', async () => {
    const first = await deployModels(p.runtime, p.load());
    assert.equal(first.ok, true, first.error);
    const before = await tableFiles(p, 'own', 'inc');
    p.write('seeds/ev.csv', 'id,v\n1,a\n2,b\n3,c\n4,d\n');
    let checked = false;
    const second = await deployModels(p.runtime, p.load(), {
      onStep: async (step, deployId) => {
        if (step !== 'healthy') return;
        // The staging table is a fork of production writing into production's data directory,
        // and its files cannot be garbage-collected from it.
        const id = { namespace: [`own__staging_${deployId}`], name: 'inc' };
        const staged = await p.catalog.loadTable(id);
        assert.equal(staged.metadata.properties['gc.enabled'], 'false');
        assert.match(
          staged.metadata.properties['write.data.path'] ?? '',
          new RegExp(`/own/inc/data/deploy-${deployId}$`),
        );
        const duck = await openDuck();
        try {
          const table = await openTable(p.catalog, p.runtime.store, duck, id);
          await assert.rejects(table.expireSnapshots({ olderThanMs: 0 }), /gc\.enabled is false/);
          await assert.rejects(table.removeOrphanFiles({ olderThanMs: 0 }), /gc\.enabled is false/);
        } finally {
          await duck.close();
        }
        checked = true;
      },
    });
    assert.equal(second.ok, true, second.error);
    assert.ok(checked);
    assert.deepEqual(await p.rows('SELECT id, v FROM own.inc ORDER BY id'), [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
      [4, 'd'],
    ]);
    const after_ = await tableFiles(p, 'own', 'inc');
    assert.equal(after_.operation, 'append');
    for (const key of before.live) assert.ok(after_.live.includes(key), `the first deploy's ${key} stays`);
    assert.equal(after_.live.length, before.live.length + 1);
    await assertNoOrphans(p, 'own');
  });

  test('a changed schema keeps field ids apart; expire and purge of production own the files', async () => {
    p.write(
      'models/shape.sql',
      "{{ config(materialized='table') }}\nselect v as label, id * 10 as score from {{ ref('ev') }}",
    );
    const before = (await p.catalog.loadTable({ namespace: ['own'], name: 'shape' })).metadata;
    const r = await deployModels(p.runtime, p.load(), { select: 'ev shape' });
    assert.equal(r.ok, true, r.error);
    assert.deepEqual(await p.rows('SELECT label, score FROM own.shape ORDER BY score'), [
      ['a', 10],
      ['b', 20],
      ['c', 30],
      ['d', 40],
    ]);
    // The earlier build still reads with its own columns.
    assert.deepEqual(
      await p.rows(`SELECT id, label FROM own."shape@${before['current-snapshot-id']}" ORDER BY id`),
      [
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
        [4, 'd'],
      ],
    );
    // Expiring the old snapshots deletes the old files only; the deployed files stay readable.
    const duck = await openDuck();
    try {
      const table = await openTable(p.catalog, p.runtime.store, duck, { namespace: ['own'], name: 'shape' });
      const expired = await table.expireSnapshots({ olderThanMs: -60_000 });
      assert.ok(expired.deletedFiles > 0);
    } finally {
      await duck.close();
    }
    assert.deepEqual(await p.rows('SELECT count(*) FROM own.shape'), [[4]]);
    await assertNoOrphans(p, 'own');
    // Purging production deletes the files its deploys staged: they are its own.
    await p.catalog.dropTable({ namespace: ['own'], name: 'shape' }, { purge: true });
    assert.deepEqual([...(await parquetKeys(p, 'own/shape/'))], []);
  });
});
