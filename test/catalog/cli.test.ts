import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openCatalog } from '../../src/catalog/index.js';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import { createLogger } from '../../src/observe/index.js';
import { openRuntime } from '../../src/runtime/index.js';
import { parseJson } from '../../src/table/index.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { appendSnapshot, SCHEMA } from './fixtures.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field by the assertions
type Json = Record<string, any>;
const tmp = tempDir();
const dir = join(tmp.dir, 'proj');
let snapshots: bigint[] = [];

before(async () => {
  await scaffoldProject(dir, { name: 'proj' });
  const runtime = await openRuntime(await loadProject(dir), createLogger({ level: 'silent', stderr: false }));
  try {
    const catalog = openCatalog({ meta: runtime.meta, store: runtime.store });
    await catalog.createNamespace(['shop', 'eu']);
    const id = { namespace: ['shop', 'eu'], name: 'orders' };
    await catalog.createTable(id, {
      schema: SCHEMA,
      partitionSpec: {
        'spec-id': 0,
        fields: [{ 'source-id': 3, 'field-id': 1000, name: 'ts_day', transform: 'day' }],
      },
      properties: { owner: 'ann' },
    });
    await appendSnapshot(catalog, runtime.store, id, { records: 5, snapshotId: 9007199254740993n });
    await appendSnapshot(catalog, runtime.store, id, { records: 7, snapshotId: 42n });
    snapshots = [9007199254740993n, 42n];
    await catalog.createTable({ namespace: ['shop', 'eu'], name: 'returns' }, { schema: SCHEMA });
    await catalog.createView(
      { namespace: ['shop', 'eu'], name: 'recent' },
      {
        sql: 'SELECT 1 AS x',
        schema: {
          type: 'struct',
          'schema-id': 0,
          fields: [{ id: 1, name: 'x', required: false, type: 'int' }],
        },
      },
    );
  } finally {
    await runtime.close();
  }
});
after(() => tmp.remove());

async function sluice(
  ...args: string[]
): Promise<{ code: number; json: Json; stderr: string; stdout: string }> {
  const r = await runCli(['--project', dir, ...args]);
  let json: Json = {};
  if (args.includes('--json') && r.stdout.trim()) json = parseJson(r.stdout) as Json;
  return { code: r.code, json, stderr: r.stderr, stdout: r.stdout };
}

test('tables list, show, schema, snapshots, history, files --json', async () => {
  const [list, show, schema, snaps, history, files, human] = await Promise.all([
    sluice('tables', 'list', '--json'),
    sluice('tables', 'show', 'shop.eu.orders', '--json'),
    sluice('tables', 'schema', 'shop.eu.orders', '--json'),
    sluice('tables', 'snapshots', 'shop.eu.orders', '--json'),
    sluice('tables', 'history', 'shop.eu.orders', '--json'),
    sluice('tables', 'files', 'shop.eu.orders', '--json'),
    sluice('tables', 'show', 'shop.eu.orders'),
  ]);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(
    list.json.tables.map((t: Json) => `${t.table}:${t.kind}`),
    ['shop.eu.orders:table', 'shop.eu.recent:view', 'shop.eu.returns:table'],
  );
  assert.equal(show.code, 0, show.stderr);
  assert.equal(show.json.formatVersion, 2);
  assert.equal(show.json.currentSnapshot.snapshotId, 42);
  assert.match(show.json.location, /^file:\/\/\/.*\/shop\/eu\/orders$/);
  assert.equal(show.json.partitionSpec.fields[0].name, 'ts_day');
  assert.deepEqual(show.json.properties, { owner: 'ann' });
  assert.match(human.stdout, /current snapshot\s+42 \(append/);
  assert.match(human.stdout, /ts_day: day\(ts\)/);
  assert.deepEqual(
    schema.json.columns.map((c: Json) => [c.id, c.name, c.type, c.required]),
    [
      [1, 'id', 'long', true],
      [2, 'name', 'string', false],
      [3, 'ts', 'timestamp', false],
    ],
  );
  assert.match(snaps.stdout, /"snapshotId": 9007199254740993,/, 'ids above 2^53 printed exactly');
  assert.deepEqual(
    snaps.json.snapshots.map((s: Json) => [s.snapshotId, s.parentId, s.current]),
    [
      [snapshots[0], null, false],
      [42, snapshots[0], true],
    ],
  );
  assert.deepEqual(
    history.json.history.map((h: Json) => [h.snapshotId, h.isCurrentAncestor, h.current]),
    [
      [snapshots[0], true, false],
      [42, true, true],
    ],
  );
  assert.equal(files.code, 0, files.stderr);
  assert.deepEqual(files.json.files.map((f: Json) => [f.content, f.records, f.sizeBytes]).sort(), [
    ['data', 5, 1234],
    ['data', 7, 1234],
  ]);
});

test('an unknown table is named, with the closest existing names', async () => {
  const r = await sluice('tables', 'show', 'shop.eu.order');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /table "shop\.eu\.order" does not exist/);
  assert.match(r.stderr, /did you mean "shop\.eu\.orders"/);
});

test('rollback to an ancestor, drop --purge, namespaces', async () => {
  const rb = await sluice('tables', 'rollback', 'shop.eu.orders', '--to', '9007199254740993', '--json');
  assert.equal(rb.code, 0, rb.stderr);
  assert.deepEqual([rb.json.from, rb.json.to, rb.json.changed], [42, snapshots[0], true]);
  const [notAncestor, ns, dropped] = await Promise.all([
    sluice('tables', 'rollback', 'shop.eu.orders', '--to', '42'),
    sluice('tables', 'namespaces', 'create', 'ops', '--property', 'owner=ops', '--json'),
    sluice('tables', 'drop', 'shop.eu.returns', '--purge', '--json'),
  ]);
  assert.equal(notAncestor.code, 1);
  assert.match(notAncestor.stderr, /not an ancestor.*--force/s);
  assert.deepEqual(ns.json, { created: ['ops'], name: 'ops', properties: { owner: 'ops' } });
  assert.deepEqual([dropped.json.dropped, dropped.json.purged], ['shop.eu.returns', true]);
  const listed = await sluice('tables', 'namespaces', 'list', '--json');
  assert.deepEqual(
    listed.json.namespaces.map((n: Json) => [n.name, n.tables]),
    [
      ['ops', 0],
      ['shop', 0],
      ['shop.eu', 1],
    ],
  );
  const runtime = await openRuntime(await loadProject(dir), createLogger({ level: 'silent', stderr: false }));
  try {
    const catalog = openCatalog({ meta: runtime.meta, store: runtime.store });
    const md = (await catalog.loadTable({ namespace: ['shop', 'eu'], name: 'orders' })).metadata;
    assert.equal(md['current-snapshot-id'], snapshots[0]);
    assert.equal(md.snapshots.length, 2, 'rollback keeps the later snapshot');
  } finally {
    await runtime.close();
  }
});
