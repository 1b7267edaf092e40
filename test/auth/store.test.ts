import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import pg from 'pg';
import {
  AuthStore,
  authorize,
  createAuthenticator,
  formatScramVerifier,
  type Grant,
  LOCAL_PRINCIPAL,
  parseScramVerifier,
  scramVerifier,
} from '../../src/auth/index.js';
import { type MetaStore, openMetaStore } from '../../src/metastore/index.js';
import { tempDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: Error & { code?: string }) => {
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

function authContract(
  backend: string,
  open: () => Promise<{ meta: MetaStore; dispose: () => Promise<void> }>,
) {
  describe(`auth store on ${backend}`, () => {
    let meta: MetaStore;
    let dispose: () => Promise<void>;
    let store: AuthStore;
    before(async () => {
      ({ meta, dispose } = await open());
      store = new AuthStore(meta);
      await store.createRole('analyst', 'reads the marts');
      await store.createUser('ann', { password: 'correct horse', roles: ['analyst'] });
      await store.createUser('root', { password: 'battery staple', roles: ['admin'] });
      await store.createUser('svc-loader');
    });
    after(() => dispose());

    test('passwords are checked, and failures do not tell which names exist', async () => {
      const p = await store.authenticatePassword('ann', 'correct horse');
      assert.deepEqual(p, { name: 'ann', via: 'password', roles: ['analyst'] });
      await rejectsWith(store.authenticatePassword('ann', 'wrong'), 'unauthorized', /user "ann"/);
      await rejectsWith(store.authenticatePassword('nobody', 'wrong'), 'unauthorized', /user "nobody"/);
      // A user without a password (a service account) cannot log in with one.
      await rejectsWith(store.authenticatePassword('svc-loader', ''), 'unauthorized');
      const rows = await meta.query<{ password_hash: string }>(
        "SELECT password_hash FROM sluice_users WHERE name = 'ann'",
      );
      assert.match(rows[0]?.password_hash ?? '', /^\$argon2id\$/);
      assert.doesNotMatch(JSON.stringify(rows), /correct horse/);
    });

    test('bad names, weak passwords and duplicates are refused', async () => {
      await rejectsWith(store.createUser('ann'), 'conflict');
      await rejectsWith(store.createUser('bad name'), 'invalid_input', /invalid user name/);
      await rejectsWith(store.createUser('bob', { password: 'short' }), 'invalid_input', /too short/);
      await rejectsWith(store.createUser('bob', { roles: ['no-such-role'] }), 'not_found', /no role/);
      assert.equal(
        (await store.listUsers()).some((u) => u.name === 'bob'),
        false,
        'nothing half-created',
      );
      await rejectsWith(store.deleteRole('admin'), 'invalid_input');
    });

    test('tokens: shown once, hashed at rest, scoped, revocable, expiring', async () => {
      const { token, info } = await store.createToken('svc-loader', { name: 'loader', scopes: ['write'] });
      assert.match(token, /^sluice_[a-z0-9]{12}_/);
      const p = await store.authenticateToken(token);
      assert.equal(p.name, 'svc-loader');
      assert.deepEqual(p.scopes, ['write']);
      const stored = await meta.query('SELECT * FROM sluice_tokens WHERE id = ?', [info.id]);
      assert.doesNotMatch(JSON.stringify(stored), new RegExp(token.slice(-20)));
      await rejectsWith(store.authenticateToken(`${token.slice(0, -1)}x`), 'unauthorized', /invalid token/);
      await rejectsWith(store.authenticateToken('garbage'), 'unauthorized');
      await store.revokeToken(info.id);
      await rejectsWith(store.authenticateToken(token), 'unauthorized', /revoked/);
      const short = await store.createToken('svc-loader', { expiresInMs: -1 });
      await rejectsWith(store.authenticateToken(short.token), 'unauthorized', /expired/);
      await rejectsWith(store.createToken('nobody'), 'not_found');
      const listed = await store.listTokens('svc-loader');
      assert.equal(listed.length, 2);
      assert.ok(listed.every((t) => !('token_hash' in t)));
    });

    test('grants apply to the next check, in every process (version-checked cache)', async () => {
      const other = new AuthStore(meta);
      const ann = await store.principalOf('ann', 'password');
      const read = { kind: 'table', name: 'marts.revenue', privilege: 'read' } as const;
      assert.equal(authorize(ann, (await other.snapshot()).grants, read).allowed, false);
      const grant: Grant = { role: 'analyst', kind: 'namespace', name: 'marts', privilege: 'read' };
      await store.grant(grant, 'root');
      assert.equal(authorize(ann, (await other.snapshot()).grants, read).allowed, true);
      assert.equal(await store.revoke(grant), true);
      assert.equal(authorize(ann, (await other.snapshot()).grants, read).allowed, false);
      await rejectsWith(store.grant({ ...grant, privilege: 'run' }), 'invalid_input', /does not apply/);
      await rejectsWith(store.grant({ ...grant, role: 'ghost' }), 'not_found');
    });

    test('deleting a user revokes their tokens', async () => {
      await store.createUser('temp');
      const { token } = await store.createToken('temp');
      await store.deleteUser('temp');
      await rejectsWith(store.authenticateToken(token), 'unauthorized');
    });

    test('the authenticator: loopback trust, tokens, Basic, and refusals', async () => {
      const authn = createAuthenticator(store, { required: false });
      assert.equal(await authn(undefined, '127.0.0.1'), LOCAL_PRINCIPAL);
      assert.equal(await authn(undefined, '::ffff:127.0.0.1'), LOCAL_PRINCIPAL);
      await rejectsWith(authn(undefined, '10.0.0.8'), 'unauthorized', /authentication required/);
      const required = createAuthenticator(store, { required: true });
      await rejectsWith(required(undefined, '127.0.0.1'), 'unauthorized');
      const basic = `Basic ${Buffer.from('root:battery staple').toString('base64')}`;
      assert.equal((await required(basic, '10.0.0.8')).name, 'root');
      await rejectsWith(required('Basic !!!', '10.0.0.8'), 'unauthorized');
      await rejectsWith(required('Digest x', '10.0.0.8'), 'unauthorized', /unsupported/);
      const { token } = await store.createToken('ann');
      assert.equal((await required(`Bearer ${token}`, '10.0.0.8')).name, 'ann');
      await rejectsWith(required('Bearer not-a-token', '10.0.0.8'), 'unauthorized');
    });
  });
}

authContract('SQLite', async () => {
  const tmp = tempDir();
  const meta = await openMetaStore(`sqlite://${join(tmp.dir, 'meta.db')}`);
  return {
    meta,
    dispose: async () => {
      await meta.close();
      tmp.remove();
    },
  };
});

authContract('PostgreSQL', async () => {
  const db = await createTestDatabase();
  const meta = await openMetaStore(db.url);
  return {
    meta,
    dispose: async () => {
      await meta.close();
      await db.drop();
    },
  };
});

describe('policy', () => {
  const grants: Grant[] = [
    { role: 'analyst', kind: 'namespace', name: 'marts', privilege: 'read' },
    { role: 'loader', kind: 'table', name: 'raw.orders', privilege: 'write' },
    { role: 'ops', kind: 'pipeline', name: '*', privilege: 'run' },
    { role: 'privacy', kind: 'namespace', name: '*', privilege: 'pii' },
  ];
  const who = (roles: string[], scopes?: string[]) => ({ name: 'x', via: 'token' as const, roles, scopes });
  const can = (
    roles: string[],
    kind: Grant['kind'],
    name: string,
    privilege: Grant['privilege'],
    scopes?: string[],
  ) => authorize(who(roles, scopes), grants, { kind, name, privilege }).allowed;

  test('privileges are ordered and inherited from namespaces', () => {
    assert.equal(can(['analyst'], 'table', 'marts.daily', 'read'), true);
    assert.equal(can(['analyst'], 'table', 'marts.sub.daily', 'read'), true);
    assert.equal(can(['analyst'], 'table', 'marts.daily', 'write'), false);
    assert.equal(can(['analyst'], 'table', 'martsx.daily', 'read'), false);
    assert.equal(can(['loader'], 'table', 'raw.orders', 'read'), true);
    assert.equal(can(['loader'], 'table', 'raw.orders', 'admin'), false);
    assert.equal(can(['loader'], 'table', 'raw.customers', 'read'), false);
    assert.equal(can(['ops'], 'pipeline', 'orders', 'view'), true);
    assert.equal(can(['ops'], 'pipeline', 'orders', 'edit'), false);
    assert.equal(can(['ops'], 'table', 'raw.orders', 'read'), false);
  });

  test('pii is its own privilege; admin has everything; scopes cap grants', () => {
    assert.equal(can(['analyst'], 'table', 'marts.daily', 'pii'), false);
    assert.equal(can(['privacy'], 'table', 'marts.daily', 'pii'), true);
    assert.equal(can(['privacy'], 'table', 'marts.daily', 'read'), false);
    assert.equal(can(['admin'], 'table', 'any.thing', 'admin'), true);
    assert.equal(can(['admin'], 'table', 'any.thing', 'write', ['read']), false);
    const denied = authorize(who(['analyst']), grants, { kind: 'table', name: 'raw.x', privilege: 'read' });
    assert.deepEqual(denied, { allowed: false, reason: 'x lacks read on table raw.x' });
  });
});

describe('SCRAM verifiers', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(() => db.drop());

  test('match what PostgreSQL itself stores for the same password and salt', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const role = `scram_${Date.now()}`;
      await client.query("SET password_encryption = 'scram-sha-256'");
      await client.query(`CREATE ROLE ${role} LOGIN PASSWORD 'pencil-1234'`);
      const { rows } = await client.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role]);
      await client.query(`DROP ROLE ${role}`);
      const theirs = parseScramVerifier(rows[0].rolpassword);
      const ours = scramVerifier('pencil-1234', theirs.salt, theirs.iterations);
      assert.equal(formatScramVerifier(ours), rows[0].rolpassword);
    } finally {
      await client.end();
    }
  });
});

describe('JWT bearer tokens', () => {
  test('are verified against the JWKS, with claims mapped to roles and scopes', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const tmp = tempDir();
    const meta = await openMetaStore(`sqlite://${join(tmp.dir, 'meta.db')}`);
    try {
      const port = (server.address() as AddressInfo).port;
      const authn = createAuthenticator(new AuthStore(meta), {
        required: true,
        jwt: {
          jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
          issuer: 'https://idp.example',
          audience: 'sluice',
          userClaim: 'email',
          rolesClaim: 'groups',
          roleMap: { 'data-platform': 'admin', analysts: 'analyst' },
        },
      });
      const sign = (claims: Record<string, unknown>, issuer = 'https://idp.example') =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
          .setIssuer(issuer)
          .setAudience('sluice')
          .setExpirationTime('5m')
          .sign(privateKey);
      const p = await authn(
        `Bearer ${await sign({ email: 'ann@example.com', groups: ['analysts', 'other'], scope: 'read' })}`,
        '10.1.1.1',
      );
      assert.deepEqual(p, { name: 'ann@example.com', via: 'jwt', roles: ['analyst'], scopes: ['read'] });
      await rejectsWith(
        authn(`Bearer ${await sign({ email: 'x' }, 'https://evil.example')}`, '10.1.1.1'),
        'unauthorized',
        /invalid JWT/,
      );
      await rejectsWith(
        authn(`Bearer ${await sign({ groups: [] })}`, '10.1.1.1'),
        'unauthorized',
        /no "email" claim/,
      );
    } finally {
      server.close();
      await meta.close();
      tmp.remove();
    }
  });
});
