import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { createMetrics } from '../../src/observe/index.js';
import { Authenticator } from '../../src/serve/pgwire/auth.js';
import { tempDir } from '../helpers/cli.js';
import { startTestServer, type TestServer, USERS } from './harness.js';
import { errorFields, RawClient, startupPacket } from './raw-client.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('authentication and connection limits', () => {
  const servers: TestServer[] = [];
  const tmp = tempDir();
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    tmp.remove();
  });
  async function server(o: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
    const s = await startTestServer(o);
    servers.push(s);
    return s;
  }

  async function query(url: string, sql: string, ssl?: pg.ClientConfig['ssl']): Promise<unknown> {
    const client = new pg.Client({ connectionString: url, ssl });
    await client.connect();
    try {
      return (await client.query(sql)).rows[0];
    } finally {
      await client.end();
    }
  }

  test('the trust user is admitted without a password from loopback only', async () => {
    const auth = new Authenticator({ users: USERS, trustLoopbackUser: 'sluice' });
    assert.equal((await auth.plan('sluice', '127.0.0.1')).kind, 'trust');
    assert.equal((await auth.plan('sluice', '::ffff:127.0.0.1')).kind, 'trust');
    assert.equal((await auth.plan('sluice', '::1')).kind, 'trust');
    assert.equal((await auth.plan('sluice', '10.1.2.3')).kind, 'scram');
    assert.equal((await auth.plan('writer', '127.0.0.1')).kind, 'scram');
    const noTrust = new Authenticator({ users: USERS });
    assert.equal((await noTrust.plan('sluice', '127.0.0.1')).kind, 'scram');
  });

  test('without a trust user every connection needs a configured password', async () => {
    const s = await server({ auth: { users: USERS } });
    await assert.rejects(
      query(s.url('sluice', 'guess'), 'SELECT 1'),
      (e: { code?: string }) => e.code === '28P01',
    );
    assert.deepEqual(await query(s.url('analyst', 'a-secret'), 'SELECT 1 AS x'), { x: 1 });
  });

  test('cleartext password authentication when configured', async () => {
    const s = await server({ auth: { users: USERS, method: 'password' } });
    assert.deepEqual(await query(s.url('writer', 'w-secret'), 'SELECT 2 AS x'), { x: 2 });
    await assert.rejects(
      query(s.url('writer', 'bad'), 'SELECT 1'),
      (e: { code?: string }) => e.code === '28P01',
    );
  });

  test('a SCRAM exchange with a forged proof is refused', async () => {
    const s = await server();
    const c = await RawClient.open(s.port);
    c.write(startupPacket({ user: 'writer' }));
    const sasl = await c.message();
    assert.equal(sasl?.type, 'R');
    assert.equal(sasl?.body.readInt32BE(0), 10);
    const first = 'n,,n=,r=clientnonce';
    const mech = Buffer.from('SCRAM-SHA-256\0');
    const len = Buffer.alloc(4);
    len.writeInt32BE(first.length);
    const body = Buffer.concat([mech, len, Buffer.from(first)]);
    const head = Buffer.alloc(5);
    head.write('p');
    head.writeInt32BE(body.length + 4, 1);
    c.write(Buffer.concat([head, body]));
    const cont = await c.message();
    const serverFirst = cont?.body.subarray(4).toString() ?? '';
    const nonce = /r=([^,]+)/.exec(serverFirst)?.[1];
    const final = Buffer.from(`c=biws,r=${nonce},p=${Buffer.alloc(32, 7).toString('base64')}`);
    const head2 = Buffer.alloc(5);
    head2.write('p');
    head2.writeInt32BE(final.length + 4, 1);
    c.write(Buffer.concat([head2, final]));
    const msgs = await c.untilClosed();
    const error = msgs.find((m) => m.type === 'E');
    assert.ok(error);
    assert.equal(errorFields(error.body).C, '28P01');
  });

  test('connections beyond the limit are refused with 53300', async () => {
    const metrics = createMetrics();
    const s = await server({ maxConnections: 2, metrics });
    const a = new pg.Client({ connectionString: s.url() });
    const b = new pg.Client({ connectionString: s.url() });
    await a.connect();
    await b.connect();
    await assert.rejects(query(s.url(), 'SELECT 1'), (e: { code?: string }) => e.code === '53300');
    await a.end();
    for (let i = 0; i < 50; i++) {
      const ok = await query(s.url(), 'SELECT 1 AS x').catch(() => undefined);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(await query(s.url(), 'SELECT 3 AS x'), { x: 3 });
    await b.end();
    const text = await metrics.registry.metrics();
    assert.match(text, /^sluice_pgwire_refused_connections_total 1$/m);
    assert.match(text, /^sluice_pgwire_statements_total\{status="ok"\} [1-9]\d*$/m);
  });

  test('TLS is negotiated when a certificate is configured', {
    skip: hasOpenssl() ? false : 'openssl is not installed',
  }, async () => {
    const key = join(tmp.dir, 'key.pem');
    const cert = join(tmp.dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
      ],
      {
        stdio: 'ignore',
      },
    );
    const s = await server({ tls: { cert: readFileSync(cert), key: readFileSync(key) } });
    const row = await query(s.url('writer', 'w-secret'), 'SELECT 5 AS x', { rejectUnauthorized: false });
    assert.deepEqual(row, { x: 5 });
    const plain = await server();
    await assert.rejects(
      query(plain.url(), 'SELECT 1', { rejectUnauthorized: false }),
      /does not support SSL/,
    );
  });
});
