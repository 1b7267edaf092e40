import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { appendSnapshot, SCHEMA } from './fixtures.js';
import { assertError, createBody, type RestHarness, restHarness } from './rest-helpers.js';

describe('Iceberg REST catalog: tables', () => {
  let h: RestHarness;
  let call: RestHarness['call'];
  before(async () => {
    h = await restHarness();
    call = h.call;
  });
  after(async () => h?.b.dispose());

  test('tables: create, list, load, HEAD, ETag, commit, stale requirement, drop', async () => {
    await call('POST', '/v1/namespaces', { namespace: ['shop'] });
    const created = await call('POST', '/v1/namespaces/shop/tables', createBody('orders'));
    assert.equal(created.status, 200, created.text);
    assert.match(created.json['metadata-location'], /\/shop\/orders\/metadata\/00000-/);
    assert.equal(created.json.metadata['format-version'], 2);
    assert.equal(created.json.metadata['partition-specs'][0].fields[0]['field-id'], 1000);
    assert.deepEqual(created.json.config, {});
    assertError(
      await call('POST', '/v1/namespaces/shop/tables', createBody('orders')),
      409,
      'AlreadyExistsException',
    );
    assertError(
      await call('POST', '/v1/namespaces/nope/tables', createBody('x')),
      404,
      'NoSuchNamespaceException',
    );
    assertError(
      await call('POST', '/v1/namespaces/shop/tables', {
        name: 'bad',
        schema: { type: 'struct', fields: [{ id: 1 }] },
      }),
      400,
      'BadRequestException',
      /invalid "schema"/,
    );

    await call('POST', '/v1/namespaces/shop/tables', createBody('returns'));
    const listed = await call('GET', '/v1/namespaces/shop/tables?pageToken=&pageSize=1');
    assert.deepEqual(listed.json.identifiers, [{ namespace: ['shop'], name: 'orders' }]);
    const rest = await call('GET', `/v1/namespaces/shop/tables?pageToken=${listed.json['next-page-token']}`);
    assert.deepEqual(rest.json, {
      identifiers: [{ namespace: ['shop'], name: 'returns' }],
      'next-page-token': null,
    });

    const loaded = await call('GET', '/v1/namespaces/shop/tables/orders');
    assert.equal(loaded.status, 200);
    assert.equal(loaded.json['metadata-location'], created.json['metadata-location']);
    const etag = loaded.headers.get('etag') ?? '';
    assert.equal(
      (await call('GET', '/v1/namespaces/shop/tables/orders', undefined, { 'if-none-match': etag })).status,
      304,
    );
    assert.equal((await call('HEAD', '/v1/namespaces/shop/tables/orders')).status, 204);
    assert.equal((await call('HEAD', '/v1/namespaces/shop/tables/nope')).status, 404);
    assertError(await call('GET', '/v1/namespaces/shop/tables/nope'), 404, 'NoSuchTableException');
    assertError(await call('GET', '/v1/namespaces/nope/tables'), 404, 'NoSuchNamespaceException');

    const committed = await call('POST', '/v1/namespaces/shop/tables/orders', {
      identifier: { namespace: ['shop'], name: 'orders' },
      requirements: [{ type: 'assert-table-uuid', uuid: loaded.json.metadata['table-uuid'] }],
      updates: [{ action: 'set-properties', updates: { k: 'v' } }],
    });
    assert.equal(committed.status, 200, committed.text);
    assert.equal(committed.json.metadata.properties.k, 'v');
    assert.match(committed.json['metadata-location'], /\/00001-/);
    assert.equal(
      committed.json.metadata['metadata-log'][0]['metadata-file'],
      created.json['metadata-location'],
    );

    const stale = await call('POST', '/v1/namespaces/shop/tables/orders', {
      requirements: [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': 42 }],
      updates: [],
    });
    assertError(stale, 409, 'CommitFailedException', /expected ref "main" at snapshot 42, found no such ref/);
    assertError(
      await call('POST', '/v1/namespaces/shop/tables/orders', {
        requirements: [],
        updates: [{ action: 'explode' }],
      }),
      400,
      'BadRequestException',
    );
    assertError(
      await call('POST', '/v1/namespaces/shop/tables/orders', { updates: [] }),
      400,
      'BadRequestException',
      /requirements/,
    );
    assertError(
      await call('POST', '/v1/namespaces/shop/tables/nope', { requirements: [], updates: [] }),
      404,
      'NoSuchTableException',
    );

    assert.equal(
      (await call('DELETE', '/v1/namespaces/shop/tables/returns?purgeRequested=true')).status,
      204,
    );
    assertError(await call('DELETE', '/v1/namespaces/shop/tables/returns'), 404, 'NoSuchTableException');
  });

  test('a snapshot id above 2^53 round-trips exactly through commit and load', async () => {
    await call('POST', '/v1/namespaces', { namespace: ['big'] });
    await call('POST', '/v1/namespaces/big/tables', createBody('t'));
    const body = `{"requirements":[{"type":"assert-ref-snapshot-id","ref":"main","snapshot-id":null}],"updates":[
      {"action":"add-snapshot","snapshot":{"snapshot-id":9007199254740993,"sequence-number":1,"timestamp-ms":1700000000000,
       "manifest-list":"${h.catalog.warehouse}/big/t/metadata/snap-1.avro","summary":{"operation":"append"}}},
      {"action":"set-snapshot-ref","ref-name":"main","type":"branch","snapshot-id":9007199254740993}]}`;
    const committed = await call('POST', '/v1/namespaces/big/tables/t', body);
    assert.equal(committed.status, 200, committed.text);
    assert.match(committed.text, /"current-snapshot-id":9007199254740993[,}]/);
    const loaded = await call('GET', '/v1/namespaces/big/tables/t');
    assert.match(loaded.text, /"snapshot-id":9007199254740993[,}]/);
    assert.equal(loaded.json.metadata['current-snapshot-id'], 9007199254740993n);
    const stale = await call(
      'POST',
      '/v1/namespaces/big/tables/t',
      '{"requirements":[{"type":"assert-ref-snapshot-id","ref":"main","snapshot-id":9007199254740992}],"updates":[]}',
    );
    assertError(
      stale,
      409,
      'CommitFailedException',
      /expected ref "main" at snapshot 9007199254740992, found snapshot 9007199254740993/,
    );
    const refs = await call('GET', '/v1/namespaces/big/tables/t?snapshots=refs');
    assert.equal(refs.json.metadata.snapshots.length, 1);
  });

  test('stage-create returns metadata without a location; the create commit lands it', async () => {
    await call('POST', '/v1/namespaces', { namespace: ['stg'] });
    const staged = await call('POST', '/v1/namespaces/stg/tables', {
      ...createBody('t'),
      'stage-create': true,
    });
    assert.equal(staged.status, 200, staged.text);
    assert.equal(staged.json['metadata-location'], null);
    assert.equal((await call('HEAD', '/v1/namespaces/stg/tables/t')).status, 404);
    const md = staged.json.metadata;
    const commit = await call('POST', '/v1/namespaces/stg/tables/t', {
      requirements: [{ type: 'assert-create' }],
      updates: [
        { action: 'assign-uuid', uuid: md['table-uuid'] },
        { action: 'upgrade-format-version', 'format-version': 2 },
        { action: 'add-schema', schema: md.schemas[0] },
        { action: 'set-current-schema', 'schema-id': -1 },
        { action: 'add-spec', spec: md['partition-specs'][0] },
        { action: 'set-default-spec', 'spec-id': -1 },
        { action: 'add-sort-order', 'sort-order': md['sort-orders'][0] },
        { action: 'set-default-sort-order', 'sort-order-id': -1 },
        { action: 'set-location', location: md.location },
        { action: 'set-properties', updates: md.properties },
      ],
    });
    assert.equal(commit.status, 200, commit.text);
    assert.equal(commit.json.metadata['table-uuid'], md['table-uuid']);
    assert.equal((await call('HEAD', '/v1/namespaces/stg/tables/t')).status, 204);
  });

  test('rename, register, metrics and multi-table transactions', async () => {
    await call('POST', '/v1/namespaces', { namespace: ['m'] });
    await call('POST', '/v1/namespaces', { namespace: ['n'] });
    const t = await call('POST', '/v1/namespaces/m/tables', createBody('a'));
    const renamed = await call('POST', '/v1/tables/rename', {
      source: { namespace: ['m'], name: 'a' },
      destination: { namespace: ['n'], name: 'b' },
    });
    assert.equal(renamed.status, 204);
    assertError(
      await call('POST', '/v1/tables/rename', {
        source: { namespace: ['m'], name: 'a' },
        destination: { namespace: ['n'], name: 'c' },
      }),
      404,
      'NoSuchTableException',
    );
    assertError(
      await call('POST', '/v1/tables/rename', {
        source: { namespace: ['n'], name: 'b' },
        destination: { namespace: ['zz'], name: 'c' },
      }),
      404,
      'NoSuchNamespaceException',
    );

    const reg = await call('POST', '/v1/namespaces/m/register', {
      name: 'copy',
      'metadata-location': t.json['metadata-location'],
    });
    assert.equal(reg.status, 200, reg.text);
    assert.equal(reg.json['metadata-location'], t.json['metadata-location']);
    assertError(
      await call('POST', '/v1/namespaces/m/register', {
        name: 'copy',
        'metadata-location': t.json['metadata-location'],
        overwrite: true,
      }),
      406,
      'UnsupportedOperationException',
    );
    assertError(
      await call('POST', '/v1/namespaces/m/register', {
        name: 'x',
        'metadata-location': 'file:///elsewhere/m.metadata.json',
      }),
      400,
      'BadRequestException',
      /outside the object store/,
    );

    const metrics = await call('POST', '/v1/namespaces/n/tables/b/metrics', {
      'report-type': 'scan-report',
      'table-name': 'n.b',
    });
    assert.equal(metrics.status, 204);
    assertError(
      await call('POST', '/v1/namespaces/n/tables/zz/metrics', { 'report-type': 'scan-report' }),
      404,
      'NoSuchTableException',
    );

    const tx = await call('POST', '/v1/transactions/commit', {
      'table-changes': [
        {
          identifier: { namespace: ['n'], name: 'b' },
          requirements: [],
          updates: [{ action: 'set-properties', updates: { x: '1' } }],
        },
        {
          identifier: { namespace: ['m'], name: 'copy' },
          requirements: [{ type: 'assert-current-schema-id', 'current-schema-id': 7 }],
          updates: [{ action: 'set-properties', updates: { x: '1' } }],
        },
      ],
    });
    assertError(tx, 409, 'CommitFailedException', /current schema id/);
    assert.equal(
      (await h.catalog.loadTable({ namespace: ['n'], name: 'b' })).metadata.properties.x,
      undefined,
    );
    const ok = await call('POST', '/v1/transactions/commit', {
      'table-changes': [
        {
          identifier: { namespace: ['n'], name: 'b' },
          requirements: [],
          updates: [{ action: 'set-properties', updates: { x: '1' } }],
        },
        {
          identifier: { namespace: ['m'], name: 'copy' },
          requirements: [],
          updates: [{ action: 'set-properties', updates: { x: '2' } }],
        },
      ],
    });
    assert.equal(ok.status, 204, ok.text);
    assert.equal((await h.catalog.loadTable({ namespace: ['m'], name: 'copy' })).metadata.properties.x, '2');
  });

  test('a table with data files loads with its snapshot through the API', async () => {
    await h.catalog.createNamespace(['data']);
    const id = { namespace: ['data'], name: 't' };
    await h.catalog.createTable(id, { schema: SCHEMA });
    const last = await appendSnapshot(h.catalog, h.b.store, id, { records: 3 });
    const r = await call('GET', '/v1/namespaces/data/tables/t');
    assert.equal(r.json.metadata['current-snapshot-id'], last.metadata['current-snapshot-id']);
    assert.equal(r.json.metadata.snapshots[0].summary['added-records'], '3');
  });
});
