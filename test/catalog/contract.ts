/** The Catalog contract: the same assertions on every metastore + object store pair. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AlreadyExistsError,
  CommitFailedError,
  type JdbcCatalog,
  NamespaceNotEmptyError,
  NoSuchNamespaceError,
  NoSuchTableError,
} from '../../src/catalog/index.js';
import { keyForLocation } from '../../src/storage/index.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../src/util/index.js';
import { appendSnapshot, type Backends, catalogOf, SCHEMA } from './fixtures.js';

async function keysUnder(b: Backends, location: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of b.store.list(`${keyForLocation(b.store, location)}/`)) keys.push(o.key);
  return keys;
}

/** Run the contract on backends made by `open`. */
export function catalogContract(label: string, open: () => Promise<Backends>): void {
  describe(`catalog contract: ${label}`, () => {
    let b: Backends;
    let catalog: JdbcCatalog;
    before(async () => {
      b = await open();
      catalog = catalogOf(b);
    });
    after(async () => {
      await b?.dispose();
    });

    test('namespaces: nested create, list, properties, exists', async () => {
      await catalog.createNamespace(['ns1'], { owner: 'ann' });
      await catalog.createNamespace(['ns1', 'sub'], {});
      await catalog.createNamespace(['deep', 'x', 'y']);
      assert.deepEqual(await catalog.listNamespaces(), [['deep'], ['ns1']]);
      assert.deepEqual(await catalog.listNamespaces(['ns1']), [['ns1', 'sub']]);
      assert.deepEqual(await catalog.listNamespaces(['deep']), [['deep', 'x']]);
      assert.equal(await catalog.namespaceExists(['deep']), true, 'a parent exists through its children');
      assert.equal(await catalog.namespaceExists(['nope']), false);
      assert.equal(await catalog.namespaceExists(['ns']), false, 'a prefix of a name is not a parent');
      assert.deepEqual(await catalog.loadNamespaceProperties(['ns1']), { owner: 'ann' });
      const r = await catalog.updateNamespaceProperties(['ns1'], ['owner', 'gone'], { team: 'data' });
      assert.deepEqual(r, { updated: ['team'], removed: ['owner'], missing: ['gone'] });
      assert.deepEqual(await catalog.loadNamespaceProperties(['ns1']), { team: 'data' });
      await assert.rejects(catalog.createNamespace(['ns1']), AlreadyExistsError);
      await assert.rejects(catalog.createNamespace(['ns1']), ConflictError);
      await assert.rejects(catalog.listNamespaces(['nope']), NoSuchNamespaceError);
      await assert.rejects(catalog.loadNamespaceProperties(['nope']), NotFoundError);
      await assert.rejects(catalog.updateNamespaceProperties(['nope'], [], { a: 'b' }), NoSuchNamespaceError);
      await assert.rejects(catalog.createNamespace(['bad'], { exists: 'no' }), /reserved/);
      await assert.rejects(
        catalog.updateNamespaceProperties(['ns1'], ['a'], { a: 'b' }),
        /both removed and updated/,
      );
    });

    test('names are validated with clear errors', async () => {
      await assert.rejects(
        catalog.createNamespace(['a.b']),
        (e) => e instanceof InvalidInputError && /"\."/.test(e.message),
      );
      await assert.rejects(catalog.createNamespace(['']), /is empty/);
      await assert.rejects(catalog.createNamespace([]), /at least one level/);
      await assert.rejects(catalog.createNamespace(['x\u0001']), /control character/);
      await assert.rejects(catalog.createNamespace(['a/b']), /path separator/);
      await assert.rejects(
        catalog.createTable({ namespace: ['ns1'], name: 'x'.repeat(256) }, { schema: SCHEMA }),
        /longer than 255/,
      );
    });

    test('drop namespace refuses a non-empty one and removes an empty one', async () => {
      await catalog.createNamespace(['dropme', 'child']);
      await assert.rejects(catalog.dropNamespace(['dropme']), NamespaceNotEmptyError);
      await catalog.createTable({ namespace: ['dropme', 'child'], name: 't' }, { schema: SCHEMA });
      await assert.rejects(catalog.dropNamespace(['dropme', 'child']), /not empty: it holds 1 table/);
      await catalog.dropTable({ namespace: ['dropme', 'child'], name: 't' });
      await catalog.dropNamespace(['dropme', 'child']);
      assert.equal(await catalog.namespaceExists(['dropme']), false);
      await assert.rejects(catalog.dropNamespace(['dropme']), NoSuchNamespaceError);
    });

    test('tables: create, load, list, exists; the JDBC row is what JdbcCatalog writes', async () => {
      await catalog.createNamespace(['a', 'b']);
      const id = { namespace: ['a', 'b'], name: 'orders' };
      const created = await catalog.createTable(id, {
        schema: SCHEMA,
        partitionSpec: {
          'spec-id': 0,
          fields: [{ 'source-id': 3, 'field-id': 1000, name: 'ts_day', transform: 'day' }],
        },
        properties: { 'write.format.default': 'parquet' },
      });
      assert.equal(created.metadata.location, `${b.store.url}/a/b/orders`);
      assert.match(
        created.metadataLocation,
        /\/a\/b\/orders\/metadata\/00000-[0-9a-f-]{36}\.metadata\.json$/,
      );
      assert.equal(created.metadata['partition-specs'][0]?.fields[0]?.transform, 'day');
      const rows = await b.meta.query(
        'SELECT catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location, iceberg_type FROM iceberg_tables WHERE table_name = ?',
        ['orders'],
      );
      assert.deepEqual(rows, [
        {
          catalog_name: 'sluice',
          table_namespace: 'a.b',
          table_name: 'orders',
          metadata_location: created.metadataLocation,
          previous_metadata_location: null,
          iceberg_type: 'TABLE',
        },
      ]);
      assert.match(created.metadataLocation, /^(file:\/\/\/|s3:\/\/)/, 'absolute URI');
      const props = await b.meta.query(
        'SELECT property_key, property_value FROM iceberg_namespace_properties WHERE namespace = ?',
        ['a.b'],
      );
      assert.deepEqual(props, [{ property_key: 'exists', property_value: 'true' }]);
      const loaded = await catalog.loadTable(id);
      assert.deepEqual(loaded, created);
      assert.deepEqual(await catalog.listTables(['a', 'b']), [id]);
      assert.deepEqual(await catalog.listTables(['a']), []);
      assert.equal(await catalog.tableExists(id), true);
      await assert.rejects(catalog.createTable(id, { schema: SCHEMA }), AlreadyExistsError);
      await assert.rejects(
        catalog.createTable({ namespace: ['zz'], name: 't' }, { schema: SCHEMA }),
        NoSuchNamespaceError,
      );
      await assert.rejects(catalog.loadTable({ namespace: ['a', 'b'], name: 'nope' }), NoSuchTableError);
      await assert.rejects(catalog.listTables(['zz']), NoSuchNamespaceError);
      await assert.rejects(
        catalog.createTable(
          { namespace: ['a', 'b'], name: 'elsewhere' },
          { schema: SCHEMA, location: 'file:///somewhere/else' },
        ),
        /outside the object store/,
      );
    });

    test('commit: requirements, metadata log, previous pointer, exact 64-bit snapshot ids', async () => {
      await catalog.createNamespace(['c']);
      const id = { namespace: ['c'], name: 'events' };
      const created = await catalog.createTable(id, { schema: SCHEMA });
      const big = 9007199254740993n;
      const one = await appendSnapshot(catalog, b.store, id, { snapshotId: big });
      assert.equal(one.metadata['current-snapshot-id'], big);
      assert.match(one.metadataLocation, /\/00001-[0-9a-f-]{36}\.metadata\.json$/);
      assert.deepEqual(
        one.metadata['metadata-log'].map((e) => e['metadata-file']),
        [created.metadataLocation],
      );
      const reloaded = await catalog.loadTable(id);
      assert.equal(reloaded.metadata['current-snapshot-id'], big);
      assert.equal(reloaded.metadata.refs.main?.['snapshot-id'], big);
      const [row] = await b.meta.query<{ previous_metadata_location: string; metadata_location: string }>(
        'SELECT metadata_location, previous_metadata_location FROM iceberg_tables WHERE table_name = ?',
        ['events'],
      );
      assert.equal(row?.metadata_location, one.metadataLocation);
      assert.equal(row?.previous_metadata_location, created.metadataLocation);

      const stale = catalog.commitTable(
        id,
        [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null }],
        [{ action: 'set-properties', updates: { x: '1' } }],
      );
      await assert.rejects(stale, (e) => {
        assert.ok(e instanceof ConflictError && e instanceof CommitFailedError);
        assert.match(
          e.message,
          /expected ref "main" to not exist, found branch at snapshot 9007199254740993/,
        );
        return true;
      });
      await assert.rejects(
        catalog.commitTable(id, [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': 5n }], []),
        /expected ref "main" at snapshot 5, found snapshot 9007199254740993/,
      );
      const two = await appendSnapshot(catalog, b.store, id);
      assert.equal(two.metadata['metadata-log'].length, 2);
      assert.equal(two.metadata.snapshots[1]?.['parent-snapshot-id'], big);
      await assert.rejects(catalog.commitTable({ namespace: ['c'], name: 'nope' }, [], []), NoSuchTableError);
    });

    test('concurrent commits touching different keys all land (CAS retry)', async () => {
      await catalog.createNamespace(['conc']);
      const id = { namespace: ['conc'], name: 't' };
      await catalog.createTable(id, { schema: SCHEMA });
      const n = 8;
      const others = Array.from({ length: n }, () => catalogOf(b, { maxCommitAttempts: 50 }));
      await Promise.all(
        others.map((c, i) =>
          c.commitTable(id, [], [{ action: 'set-properties', updates: { [`k${i}`]: String(i) } }]),
        ),
      );
      const md = (await catalog.loadTable(id)).metadata;
      for (let i = 0; i < n; i++) assert.equal(md.properties[`k${i}`], String(i));
      assert.equal(md['metadata-log'].length, n, 'one metadata file per commit');
      const files = (await keysUnder(b, `${md.location}/metadata`)).filter((k) =>
        k.endsWith('.metadata.json'),
      );
      assert.equal(files.length, n + 1, 'metadata files of lost races are removed');
    });

    test('create through commit (staged create with assert-create), then a conflicting one fails', async () => {
      await catalog.createNamespace(['staged']);
      const id = { namespace: ['staged'], name: 't' };
      const updates = [
        { action: 'assign-uuid' as const, uuid: '6a4d3f7e-1c9b-4c59-9a8e-2b9f0c1d2e3f' },
        { action: 'upgrade-format-version' as const, 'format-version': 2 },
        { action: 'add-schema' as const, schema: SCHEMA },
        { action: 'set-current-schema' as const, 'schema-id': -1 },
        { action: 'add-spec' as const, spec: { fields: [] } },
        { action: 'set-default-spec' as const, 'spec-id': -1 },
        { action: 'add-sort-order' as const, 'sort-order': { 'order-id': 0, fields: [] } },
        { action: 'set-default-sort-order' as const, 'sort-order-id': -1 },
      ];
      const made = await catalog.commitTable(id, [{ type: 'assert-create' }], updates);
      assert.equal(made.metadata['table-uuid'], '6a4d3f7e-1c9b-4c59-9a8e-2b9f0c1d2e3f');
      assert.equal(made.metadata.location, `${b.store.url}/staged/t`);
      assert.equal((await catalog.loadTable(id)).metadataLocation, made.metadataLocation);
      await assert.rejects(catalog.commitTable(id, [{ type: 'assert-create' }], updates), CommitFailedError);
    });

    test('multi-table transaction is atomic', async () => {
      await catalog.createNamespace(['tx']);
      const t1 = { namespace: ['tx'], name: 't1' };
      const t2 = { namespace: ['tx'], name: 't2' };
      await catalog.createTable(t1, { schema: SCHEMA });
      const before2 = await catalog.createTable(t2, { schema: SCHEMA });
      await assert.rejects(
        catalog.commitTransaction([
          { identifier: t1, requirements: [], updates: [{ action: 'set-properties', updates: { a: '1' } }] },
          {
            identifier: t2,
            requirements: [{ type: 'assert-table-uuid', uuid: '00000000-0000-0000-0000-000000000000' }],
            updates: [],
          },
        ]),
        CommitFailedError,
      );
      assert.equal((await catalog.loadTable(t1)).metadata.properties.a, undefined);
      await catalog.commitTransaction([
        { identifier: t1, requirements: [], updates: [{ action: 'set-properties', updates: { a: '1' } }] },
        {
          identifier: t2,
          requirements: [{ type: 'assert-table-uuid', uuid: before2.metadata['table-uuid'] }],
          updates: [{ action: 'set-properties', updates: { b: '2' } }],
        },
      ]);
      assert.equal((await catalog.loadTable(t1)).metadata.properties.a, '1');
      assert.equal((await catalog.loadTable(t2)).metadata.properties.b, '2');
    });

    test('rename within and across namespaces', async () => {
      await catalog.createNamespace(['r1']);
      await catalog.createNamespace(['r2']);
      const from = { namespace: ['r1'], name: 'old' };
      const created = await catalog.createTable(from, { schema: SCHEMA });
      await catalog.renameTable(from, { namespace: ['r1'], name: 'new' });
      assert.equal(await catalog.tableExists(from), false);
      await catalog.renameTable({ namespace: ['r1'], name: 'new' }, { namespace: ['r2'], name: 'moved' });
      const moved = await catalog.loadTable({ namespace: ['r2'], name: 'moved' });
      assert.equal(moved.metadataLocation, created.metadataLocation);
      await catalog.createTable({ namespace: ['r2'], name: 'taken' }, { schema: SCHEMA });
      await assert.rejects(
        catalog.renameTable({ namespace: ['r2'], name: 'moved' }, { namespace: ['r2'], name: 'taken' }),
        AlreadyExistsError,
      );
      await assert.rejects(
        catalog.renameTable({ namespace: ['r2'], name: 'moved' }, { namespace: ['nowhere'], name: 'x' }),
        NoSuchNamespaceError,
      );
      await assert.rejects(catalog.renameTable(from, { namespace: ['r2'], name: 'y' }), NoSuchTableError);
    });

    test('drop keeps files, register brings the table back, purge deletes its files', async () => {
      await catalog.createNamespace(['d']);
      const id = { namespace: ['d'], name: 't' };
      await catalog.createTable(id, { schema: SCHEMA });
      const last = await appendSnapshot(catalog, b.store, id);
      await catalog.dropTable(id);
      assert.equal(await catalog.tableExists(id), false);
      await assert.rejects(catalog.dropTable(id), NoSuchTableError);
      assert.ok((await keysUnder(b, last.metadata.location)).length >= 4, 'files kept without purge');
      const back = await catalog.registerTable(id, last.metadataLocation);
      assert.equal(back.metadata['current-snapshot-id'], last.metadata['current-snapshot-id']);
      await assert.rejects(catalog.registerTable(id, last.metadataLocation), AlreadyExistsError);
      await assert.rejects(
        catalog.registerTable(
          { namespace: ['d'], name: 'x' },
          's3://other-bucket/x/metadata/00001-a.metadata.json',
        ),
        /outside the object store/,
      );
      await catalog.dropTable(id, { purge: true });
      assert.deepEqual(await keysUnder(b, last.metadata.location), []);
    });
  });
}
