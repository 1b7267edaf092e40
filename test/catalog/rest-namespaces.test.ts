import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createIcebergRestApp } from '../../src/catalog/index.js';
import { SluiceError } from '../../src/util/index.js';
import { assertError, type Json, type RestHarness, restHarness } from './rest-helpers.js';

describe('Iceberg REST catalog: config and namespaces', () => {
  let h: RestHarness;
  let call: RestHarness['call'];
  before(async () => {
    h = await restHarness();
    call = h.call;
  });
  after(async () => h?.b.dispose());

  test('GET /v1/config announces defaults, overrides and endpoints', async () => {
    const r = await call('GET', '/v1/config');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.overrides, {});
    assert.equal(r.json.defaults.warehouse, h.catalog.warehouse);
    assert.ok(r.json.endpoints.includes('POST /v1/{prefix}/transactions/commit'));
    assert.equal((await call('GET', '/v1/config?warehouse=sluice')).status, 200);
    assertError(await call('GET', '/v1/config?warehouse=other'), 404, 'NoSuchWarehouseException');
  });

  test('namespaces: create, list with parent and pages, load, HEAD, properties, drop', async () => {
    assert.equal(
      (await call('POST', '/v1/namespaces', { namespace: ['acct'], properties: { o: '1' } })).status,
      200,
    );
    const made = await call('POST', '/v1/namespaces', { namespace: ['acct', 'tax'] });
    assert.deepEqual(made.json, { namespace: ['acct', 'tax'], properties: {} });
    for (const n of ['p1', 'p2', 'p3'])
      await call('POST', '/v1/namespaces', { namespace: ['acct', 'tax', n] });
    assertError(await call('POST', '/v1/namespaces', { namespace: ['acct'] }), 409, 'AlreadyExistsException');

    const top = await call('GET', '/v1/namespaces');
    assert.deepEqual(top.json, { namespaces: [['acct']], 'next-page-token': null });
    const children = await call('GET', '/v1/namespaces?parent=acct%1Ftax');
    assert.deepEqual(children.json.namespaces, [
      ['acct', 'tax', 'p1'],
      ['acct', 'tax', 'p2'],
      ['acct', 'tax', 'p3'],
    ]);
    const p1 = await call('GET', '/v1/namespaces?parent=acct%1Ftax&pageToken=&pageSize=2');
    assert.equal(p1.json.namespaces.length, 2);
    assert.equal(typeof p1.json['next-page-token'], 'string');
    const p2 = await call(
      'GET',
      `/v1/namespaces?parent=acct%1Ftax&pageSize=2&pageToken=${p1.json['next-page-token']}`,
    );
    assert.deepEqual(p2.json, { namespaces: [['acct', 'tax', 'p3']], 'next-page-token': null });
    assertError(await call('GET', '/v1/namespaces?pageToken=%%%'), 400, 'BadRequestException', /pageToken/);
    assertError(
      await call('GET', '/v1/namespaces?pageToken=&pageSize=0'),
      400,
      'BadRequestException',
      /pageSize/,
    );
    assertError(await call('GET', '/v1/namespaces?parent=nope'), 404, 'NoSuchNamespaceException');

    const loaded = await call('GET', '/v1/namespaces/acct');
    assert.deepEqual(loaded.json, { namespace: ['acct'], properties: { o: '1' } });
    assert.equal((await call('HEAD', '/v1/namespaces/acct%1Ftax')).status, 204);
    const missing = await call('HEAD', '/v1/namespaces/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.text, '');
    assertError(
      await call('GET', '/v1/namespaces/nope'),
      404,
      'NoSuchNamespaceException',
      /"nope" does not exist/,
    );

    const upd = await call('POST', '/v1/namespaces/acct/properties', {
      removals: ['o', 'x'],
      updates: { team: 'fin' },
    });
    assert.deepEqual(upd.json, { updated: ['team'], removed: ['o'], missing: ['x'] });
    assertError(
      await call('POST', '/v1/namespaces/acct/properties', { removals: ['a'], updates: { a: '1' } }),
      422,
      'UnprocessableEntityException',
    );
    assertError(
      await call('POST', '/v1/namespaces/nope/properties', { updates: { a: '1' } }),
      404,
      'NoSuchNamespaceException',
    );

    assertError(await call('DELETE', '/v1/namespaces/acct'), 409, 'NamespaceNotEmptyException');
    assert.equal((await call('DELETE', '/v1/namespaces/acct%1Ftax%1Fp3')).status, 204);
    assertError(await call('DELETE', '/v1/namespaces/acct%1Ftax%1Fp3'), 404, 'NoSuchNamespaceException');
  });

  test('bad input: malformed JSON, wrong shapes, invalid names, unknown routes', async () => {
    assertError(
      await call('POST', '/v1/namespaces', '{"namespace": ['),
      400,
      'BadRequestException',
      /invalid JSON/,
    );
    assertError(await call('POST', '/v1/namespaces', ''), 400, 'BadRequestException', /empty/);
    assertError(
      await call('POST', '/v1/namespaces', { namespace: 'acct' }),
      400,
      'BadRequestException',
      /namespace: .*expected array/i,
    );
    assertError(
      await call('POST', '/v1/namespaces', { namespace: ['a\u0000'] }),
      400,
      'BadRequestException',
      /control/,
    );
    assertError(await call('GET', '/v1/nothing/here'), 404, 'NotFoundException');
    assertError(
      await call('DELETE', '/v1/namespaces/acct%1Ftax/tables/t?purgeRequested=maybe'),
      400,
      'BadRequestException',
    );
  });

  test('a body over the limit gets 413', async () => {
    const big = JSON.stringify({ namespace: ['x'], properties: { v: 'x'.repeat(70 * 1024) } });
    const withLength = await call('POST', '/v1/namespaces', big, { 'content-length': String(big.length) });
    assertError(withLength, 413, 'BadRequestException', /over 65536 bytes/);
    const streamed = await h.app.request('/v1/namespaces', {
      method: 'POST',
      body: new Blob([big]).stream(),
      duplex: 'half',
    } as RequestInit);
    assert.equal(streamed.status, 413);
  });

  test('the authorization hook can refuse with 401 or 403', async () => {
    const guarded = createIcebergRestApp({
      catalog: h.catalog,
      authorize: async (req, action, resource) => {
        if (!req.headers.get('authorization'))
          throw new SluiceError('unauthorized', 'a bearer token is required');
        if (action === 'table:drop') throw new SluiceError('forbidden', `may not drop ${resource.table}`);
      },
    });
    const anon = await guarded.request('/v1/namespaces');
    assert.equal(anon.status, 401);
    assert.equal(((await anon.json()) as Json).error.type, 'NotAuthorizedException');
    const auth = { authorization: 'Bearer t' };
    assert.equal((await guarded.request('/v1/namespaces', { headers: auth })).status, 200);
    const drop = await guarded.request('/v1/namespaces/shop/tables/orders', {
      method: 'DELETE',
      headers: auth,
    });
    assert.equal(drop.status, 403);
    assert.match(((await drop.json()) as Json).error.message, /may not drop orders/);
  });

  test('a prefix moves the routes under /v1/<prefix> and is announced in config', async () => {
    const prefixed = createIcebergRestApp({ catalog: h.catalog, prefix: 'main' });
    const config = (await (await prefixed.request('/v1/config')).json()) as Json;
    assert.deepEqual(config.overrides, { prefix: 'main' });
    assert.equal((await prefixed.request('/v1/main/namespaces')).status, 200);
    assert.equal((await prefixed.request('/v1/namespaces')).status, 404);
  });
});
