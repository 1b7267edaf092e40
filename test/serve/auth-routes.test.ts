import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Hono } from 'hono';
import { AuthStore, createAuthenticator } from '../../src/auth/index.js';
import { type MetaStore, openMetaStore } from '../../src/metastore/index.js';
import { type AuthVariables, authenticate } from '../../src/serve/auth.js';
import { httpErrorInfo } from '../../src/serve/errors.js';
import { authRoutes } from '../../src/serve/routes/auth.js';
import { tempDir } from '../helpers/cli.js';

describe('identity administration over HTTP', () => {
  const tmp = tempDir();
  let meta: MetaStore;
  let app: Hono<{ Variables: AuthVariables }>;
  let adminToken: string;
  let annToken: string;

  before(async () => {
    meta = await openMetaStore(`sqlite://${join(tmp.dir, 'meta.db')}`);
    const store = new AuthStore(meta);
    await store.createUser('root', { roles: ['admin'] });
    await store.createUser('ann');
    adminToken = (await store.createToken('root')).token;
    annToken = (await store.createToken('ann')).token;
    app = new Hono<{ Variables: AuthVariables }>();
    app.onError((err, c) => {
      const info = httpErrorInfo(err);
      return c.json({ error: { code: info.code, message: info.message } }, info.status as 400);
    });
    app.use('*', authenticate(createAuthenticator(store, { required: true }), { audit: meta }));
    app.route('/api/v1', authRoutes(store, meta));
  });
  after(async () => {
    await meta.close();
    tmp.remove();
  });

  const call = (method: string, path: string, token?: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });

  test('anonymous → 401, non-admin → 403, admin → 200', async () => {
    assert.equal((await call('GET', '/api/v1/users')).status, 401);
    assert.equal((await call('GET', '/api/v1/users', 'sluice_bad')).status, 401);
    const denied = await call('GET', '/api/v1/users', annToken);
    assert.equal(denied.status, 403);
    assert.match(
      ((await denied.json()) as { error: { message: string } }).error.message,
      /ann is not an administrator/,
    );
    assert.equal((await call('GET', '/api/v1/users', adminToken)).status, 200);
    const me = (await (await call('GET', '/api/v1/me', annToken)).json()) as { name: string };
    assert.equal(me.name, 'ann');
  });

  test('an admin manages roles, members, grants and tokens; changes apply to the next request', async () => {
    assert.equal((await call('POST', '/api/v1/roles', adminToken, { name: 'analyst' })).status, 201);
    assert.equal((await call('PUT', '/api/v1/roles/analyst/members/ann', adminToken)).status, 204);
    const grant = { role: 'analyst', kind: 'namespace', name: 'marts', privilege: 'read' };
    assert.equal((await call('POST', '/api/v1/grants', adminToken, grant)).status, 201);
    const listed = (await (await call('GET', '/api/v1/grants?role=analyst', adminToken)).json()) as {
      grants: unknown[];
    };
    assert.deepEqual(listed.grants, [grant]);
    const bad = await call('POST', '/api/v1/grants', adminToken, { ...grant, privilege: 'run' });
    assert.equal(bad.status, 400);
    assert.equal((await call('POST', '/api/v1/grants', adminToken, '{not json')).status, 400);
    assert.equal((await call('POST', '/api/v1/grants', adminToken, { ...grant, extra: 1 })).status, 400);

    const made = await call('POST', '/api/v1/tokens', adminToken, {
      user: 'ann',
      scopes: ['read'],
      expires: '1h',
    });
    assert.equal(made.status, 201);
    const { id, token } = (await made.json()) as { id: string; token: string };
    assert.equal((await call('GET', '/api/v1/me', token)).status, 200);
    assert.equal((await call('DELETE', `/api/v1/tokens/${id}`, adminToken)).status, 204);
    assert.equal((await call('GET', '/api/v1/me', token)).status, 401);
    const tokens = await (await call('GET', '/api/v1/tokens', adminToken)).text();
    assert.doesNotMatch(tokens, new RegExp(token.slice(-16)), 'secrets are never returned');
  });

  test('changes and refused requests are audited, without secrets', async () => {
    const rows = await meta.query<{ payload: string }>(
      "SELECT payload FROM sluice_system_outbox WHERE table_name = 'audit' ORDER BY id",
    );
    const audit = rows.map((r) => JSON.parse(r.payload) as Record<string, unknown>);
    const actions = audit.map((r) => `${r.actor}:${r.action}:${r.outcome}`);
    for (const expected of [
      'root:create_role:ok',
      'root:grant:ok',
      'root:create_token:ok',
      'root:revoke_token:ok',
    ])
      assert.ok(actions.includes(expected), `${expected} in ${actions.join(', ')}`);
    assert.ok(actions.includes('anonymous:authenticate:denied'));
    assert.doesNotMatch(JSON.stringify(audit), /sluice_[a-z0-9]{12}_[A-Za-z0-9_-]{20}/);
  });
});
