import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { keyForLocation, locationForKey, type ObjectStore } from '../../src/storage/index.js';
import { openTable, type Table } from '../../src/table/index.js';
import { type CatalogEnv, openCatalogEnv, schemaOf } from './table-helpers.js';

/** What path-taking readers open for a location: PyIceberg's `urlparse(uri).path`, Hadoop's `Path`. */
const pathOf = (uri: string) => /^file:(?:\/\/)?(\/.*)$/.exec(uri)?.[1] ?? uri;

describe('a warehouse whose path holds spaces and non-ASCII characters', () => {
  let env: CatalogEnv;
  let table: Table;
  let root: string;

  before(async () => {
    const probe = await openCatalogEnv();
    await probe.close();
    root = join(probe.dir, 'my lake', 'wäre häus 数据');
    env = await openCatalogEnv({ storage: { url: pathToFileURL(root).href } });
    await env.catalog.createNamespace(['sales team']);
    await env.catalog.createTable(
      { namespace: ['sales team'], name: 'orders' },
      {
        schema: {
          ...schemaOf([
            ['id', 'long', true],
            ['city', 'string'],
          ]),
          'schema-id': 0,
        },
      },
    );
    table = await openTable(env.catalog, env.store, env.duck, { namespace: ['sales team'], name: 'orders' });
    await table.append(`SELECT i AS id, 'Zürich ' || i AS city FROM range(10) t(i)`);
  });
  after(() => env?.close());

  test('locations are file:// plus the plain path, and name files that exist at that path', async () => {
    assert.equal(env.store.url, pathToFileURL(root).href, 'the store URL itself stays a valid URL');
    assert.equal(table.metadata.location, `file://${root}/sales team/orders`);
    const plan = await table.planScan();
    const snapshot = table.currentSnapshot();
    const uris = [
      table.loaded.metadataLocation,
      snapshot?.['manifest-list'] ?? '',
      ...plan.files.map((f) => f.file.file_path),
      ...(await table.io.manifestList(snapshot as never)).map((m) => m.manifest_path),
    ];
    assert.ok(uris.length >= 4);
    for (const uri of uris) {
      assert.ok(uri.startsWith(`file://${root}/sales team/orders/`), uri);
      await access(pathOf(uri));
    }
  });

  test('rows read back, and every spelling of a location maps to the same key', async () => {
    const [r] = await env.duck.all<{ n: bigint; c: string }>(
      `SELECT count(*) AS n, max(city) AS c FROM (${table.scanSql(await table.planScan())})`,
    );
    assert.deepEqual(r, { n: 10n, c: 'Zürich 9' });
    const store = env.store as ObjectStore;
    const key = 'sales team/orders/metadata/x.json';
    for (const uri of [
      locationForKey(store, key),
      `${pathToFileURL(root).href}/${key}`,
      pathToFileURL(join(root, 'sales team/orders/metadata/x.json')).href.replace(
        'sales%20team',
        'sales team',
      ),
      `file:${join(root, key)}`,
      join(root, key),
    ])
      assert.equal(keyForLocation(store, uri), key, uri);
    assert.equal(
      keyForLocation(store, `file://${root}/a%20b`),
      'a%20b',
      'keys under the plain root are verbatim',
    );
    assert.equal(
      keyForLocation(store, `${pathToFileURL(root).href}/a%20b`),
      'a%20b',
      'keys under the escaped root (written by earlier versions) are verbatim too',
    );
    for (const uri of [`file://${root} 2/t`, `file://${root}/../t`, `${root}/../../t`])
      assert.throws(() => keyForLocation(store, uri), /outside the object store/, uri);
  });
});
