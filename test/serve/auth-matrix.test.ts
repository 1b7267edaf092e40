import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { AuthStore } from '../../src/auth/index.js';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import { createLogger } from '../../src/observe/index.js';
import { openRuntime, type Runtime } from '../../src/runtime/index.js';
import type { RunningServer } from '../../src/serve/index.js';
import type { PgWireServer } from '../../src/serve/pgwire/index.js';
import { tempDir } from '../helpers/cli.js';
import { callAs } from '../helpers/http.js';
import { type AllSurfaces, serveAllSurfaces } from '../helpers/serve.js';

const WHO = ['anonymous', 'wrong', 'expired', 'reader', 'writer', 'admin'] as const;
type Who = (typeof WHO)[number];

/** Expected HTTP status per caller, in WHO's order. */
const HTTP: [string, string, (who: Who) => unknown, number[]][] = [
  ['GET', '/api/v1/me', () => undefined, [401, 401, 401, 200, 200, 200]],
  ['GET', '/api/v1/users', () => undefined, [401, 401, 401, 403, 403, 200]],
  // (The pipelines API starts an orchestrator this test would have to stop: see auth-surfaces.)
  ['GET', '/metrics', () => undefined, [401, 401, 401, 200, 200, 200]],
  ['GET', '/iceberg/v1/namespaces', () => undefined, [401, 401, 401, 200, 200, 200]],
  ['GET', '/iceberg/v1/namespaces/shop/tables/t', () => undefined, [401, 401, 401, 200, 200, 200]],
  ['POST', '/iceberg/v1/namespaces', (w) => ({ namespace: [`ns_${w}`] }), [401, 401, 401, 403, 403, 200]],
  ['POST', '/api/v1/sql', () => ({ sql: 'SELECT count(*) FROM shop.t' }), [401, 401, 401, 200, 200, 200]],
  ['POST', '/api/v1/sql', () => ({ sql: 'INSERT INTO shop.t SELECT 9' }), [401, 401, 401, 403, 200, 200]],
  ['POST', '/api/v1/sql', () => ({ sql: 'SELECT * FROM other.secret' }), [401, 401, 401, 403, 403, 200]],
  // The Nakadi API: event types are grant objects (read = readers, write = writers, admin = admins).
  ['GET', '/event-types', () => undefined, [401, 401, 401, 200, 200, 200]],
  ['GET', '/event-types/shop.orders/partitions', () => undefined, [401, 401, 401, 200, 200, 200]],
  ['POST', '/event-types/shop.orders/events', () => [orderEvent()], [401, 401, 401, 403, 200, 200]],
  ['GET', '/event-types/other.audit/partitions', () => undefined, [401, 401, 401, 403, 403, 200]],
  ['POST', '/event-types', (w) => eventType(`made.by_${w}`), [401, 401, 401, 403, 403, 201]],
];

let eid = 0;
function orderEvent(): Record<string, unknown> {
  eid++;
  return {
    order_number: `o${eid}`,
    metadata: {
      eid: `00000000-0000-4000-8000-${String(eid).padStart(12, '0')}`,
      occurred_at: new Date().toISOString(),
    },
  };
}

function eventType(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    owning_application: 'shop',
    category: 'business',
    enrichment_strategies: ['metadata_enrichment'],
    partition_strategy: 'random',
    schema: { type: 'json_schema', schema: '{"properties":{"order_number":{"type":"string"}}}' },
    ...extra,
  };
}

/** A static `bus.auth` token: the Nakadi-compatible path, authorized by its scopes. */
const LEGACY_TOKEN = 'nakadi-static-token-0001';

describe('the permission matrix over HTTP API, Iceberg REST, HTTP SQL and the PostgreSQL wire', () => {
  const tmp = tempDir();
  let runtime: Runtime;
  let server: RunningServer;
  let wire: PgWireServer;
  let store: AuthStore;
  let surfaces: AllSurfaces;
  const tokens: Record<string, string> = { wrong: 'sluice_notatoken_0000' };

  before(async () => {
    const dir = join(tmp.dir, 'proj');
    await scaffoldProject(dir, { name: 'matrix' });
    appendFileSync(join(dir, 'sluice.yaml'), '\nauth:\n  required: true\npgwire:\n  trustLoopback: false\n');
    const yaml = readFileSync(join(dir, 'sluice.yaml'), 'utf8').replace(
      'bus:\n',
      `bus:\n  auth:\n    tokens:\n      - { token: ${LEGACY_TOKEN}, subject: legacy, scopes: [nakadi.event_stream.read] }\n`,
    );
    writeFileSync(join(dir, 'sluice.yaml'), yaml);
    runtime = await openRuntime(await loadProject(dir), createLogger({ level: 'silent', stderr: false }));
    store = new AuthStore(runtime.meta);
    await store.createRole('readers');
    await store.createRole('writers');
    await store.createUser('admin1', { password: 'admin-password', roles: ['admin'] });
    await store.createUser('reader', { password: 'reader-password', roles: ['readers'] });
    await store.createUser('writer', { password: 'writer-password', roles: ['writers'] });
    await store.grant({ role: 'readers', kind: 'namespace', name: 'shop', privilege: 'read' });
    await store.grant({ role: 'writers', kind: 'namespace', name: 'shop', privilege: 'write' });
    await store.grant({ role: 'readers', kind: 'pipeline', name: '*', privilege: 'view' });
    await store.grant({ role: 'readers', kind: 'event_type', name: 'shop.orders', privilege: 'read' });
    await store.grant({ role: 'writers', kind: 'event_type', name: 'shop.orders', privilege: 'write' });
    tokens.admin = (await store.createToken('admin1')).token;
    tokens.reader = (await store.createToken('reader')).token;
    tokens.writer = (await store.createToken('writer')).token;
    tokens.expired = (await store.createToken('reader', { expiresInMs: -1 })).token;
    surfaces = await serveAllSurfaces(runtime, dir);
    ({ server, wire } = surfaces);
    for (const ns of ['shop', 'other'])
      assert.equal((await call('POST', '/iceberg/v1/namespaces', 'admin', { namespace: [ns] })).status, 200);
    for (const t of ['shop.t', 'other.secret'])
      assert.equal(
        (await call('POST', '/api/v1/sql', 'admin', { sql: `CREATE TABLE ${t} AS SELECT 1 AS id` })).status,
        200,
      );
    for (const name of ['shop.orders', 'other.audit'])
      assert.equal((await call('POST', '/event-types', 'admin', eventType(name))).status, 201);
  });
  after(async () => {
    await surfaces?.close();
    await runtime?.close();
    tmp.remove();
  });

  const as = callAs(() => server.url, tokens);
  // "anonymous" sends no credentials at all.
  const call = (method: string, path: string, who: Who, body?: unknown) =>
    as(method, path, who === 'anonymous' ? undefined : who, body);

  test('HTTP surfaces: the exact status per caller and action', async () => {
    const wrong: string[] = [];
    for (const [method, path, body, want] of HTTP)
      for (const [i, who] of WHO.entries()) {
        const res = await call(method, path, who, body(who));
        await res.body?.cancel();
        if (res.status !== want[i])
          wrong.push(
            `${who} ${method} ${path} ${JSON.stringify(body(who))}: ${res.status}, expected ${want[i]}`,
          );
      }
    assert.deepEqual(wrong, []);
  });

  const PASSWORDS: Partial<Record<Who, [string, string]>> = {
    // The loopback trust user, with trust off: an unknown name like any other.
    anonymous: ['sluice', 'any-password'],
    wrong: ['reader', 'not-the-password'],
    reader: ['reader', 'reader-password'],
    writer: ['writer', 'writer-password'],
    admin: ['admin1', 'admin-password'],
  };
  async function sqlstate(who: Who, statements: string[]): Promise<string[]> {
    const [user, password] = PASSWORDS[who] as [string, string];
    const client = new pg.Client({ host: '127.0.0.1', port: wire.port, user, password, database: 'sluice' });
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      return statements.map(() => (err as { code: string }).code);
    }
    const out: string[] = [];
    try {
      for (const s of statements)
        out.push(
          await client.query(s).then(
            () => 'ok',
            (e: { code: string }) => e.code,
          ),
        );
    } finally {
      await client.end();
    }
    return out;
  }

  test('PostgreSQL wire: SQLSTATE per caller and action (tokens are not wire credentials: no "expired" column)', async () => {
    const statements = [
      'SELECT count(*) FROM shop.t',
      'INSERT INTO shop.t SELECT 7',
      'SELECT * FROM other.secret',
      'GRANT SELECT ON other.secret TO readers',
      'REVOKE SELECT ON other.secret FROM readers',
    ];
    assert.deepEqual(await sqlstate('anonymous', statements), Array(5).fill('28P01'));
    assert.deepEqual(await sqlstate('wrong', statements), Array(5).fill('28P01'));
    assert.deepEqual(await sqlstate('reader', statements), ['ok', '42501', '42501', '42501', '42501']);
    assert.deepEqual(await sqlstate('writer', statements), ['ok', 'ok', '42501', '42501', '42501']);
    assert.deepEqual(await sqlstate('admin', statements), ['ok', 'ok', 'ok', 'ok', 'ok']);
  });

  test('a revoked grant takes effect on the next request and the next statement, on every surface', async () => {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: wire.port,
      user: 'reader',
      password: 'reader-password',
      database: 'sluice',
    });
    await client.connect();
    try {
      await client.query('SELECT * FROM shop.t');
      assert.equal(
        (await call('POST', '/api/v1/sql', 'reader', { sql: 'SELECT * FROM shop.t' })).status,
        200,
      );
      await store.revoke({ role: 'readers', kind: 'namespace', name: 'shop', privilege: 'read' });
      assert.equal(
        (await call('POST', '/api/v1/sql', 'reader', { sql: 'SELECT * FROM shop.t' })).status,
        403,
      );
      await assert.rejects(client.query('SELECT * FROM shop.t'), (e: { code: string }) => e.code === '42501');
      await store.grant({ role: 'readers', kind: 'namespace', name: 'shop', privilege: 'read' });
      await client.query('SELECT * FROM shop.t');
    } finally {
      await client.end();
    }
  });

  test('Nakadi API: Problem JSON, revoked grants, authorization lists on top, bus.auth tokens', async () => {
    const problem = async (res: Response, status: number, detail: RegExp) => {
      const text = await res.text();
      assert.equal(res.status, status, text);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.match((JSON.parse(text) as { detail: string }).detail, detail);
    };
    await problem(await call('GET', '/event-types', 'anonymous'), 401, /authentication/i);
    await problem(await call('GET', '/event-types', 'expired'), 401, /expired/);
    await problem(
      await call('POST', '/event-types/shop.orders/events', 'reader', [orderEvent()]),
      403,
      /reader lacks write on event type shop.orders/,
    );

    const partitions = (who: Who) => call('GET', '/event-types/shop.orders/partitions', who);
    assert.equal((await partitions('reader')).status, 200);
    await store.revoke({ role: 'readers', kind: 'event_type', name: 'shop.orders', privilege: 'read' });
    await problem(await partitions('reader'), 403, /lacks read/);
    await store.grant({ role: 'readers', kind: 'event_type', name: 'shop.orders', privilege: 'read' });
    assert.equal((await partitions('reader')).status, 200);

    // The event type's own list applies on top of the grants: by user, or by platform role.
    const authorization = {
      admins: [{ data_type: 'user', value: 'admin1' }],
      readers: [{ data_type: 'role', value: 'writers' }],
      writers: [{ data_type: 'user', value: 'writer' }],
    };
    assert.equal(
      (await call('POST', '/event-types', 'admin', eventType('shop.private', { authorization }))).status,
      201,
    );
    for (const role of ['readers', 'writers'])
      await store.grant({ role, kind: 'event_type', name: 'shop.private', privilege: 'read' });
    await problem(await call('GET', '/event-types/shop.private/partitions', 'reader'), 403, /READ/);
    assert.equal((await call('GET', '/event-types/shop.private/partitions', 'writer')).status, 200);

    // Passwords work as on the REST API.
    const basic = await fetch(`${server.url}/event-types/shop.orders/partitions`, {
      headers: { authorization: `Basic ${Buffer.from('reader:reader-password').toString('base64')}` },
    });
    assert.equal(basic.status, 200);

    // Static bus.auth tokens keep their Nakadi scopes (read only here).
    assert.equal((await call('GET', '/event-types/shop.orders/partitions', LEGACY_TOKEN as Who)).status, 200);
    await problem(
      await call('POST', '/event-types/shop.orders/events', LEGACY_TOKEN as Who, [orderEvent()]),
      403,
      /scope nakadi.event_stream.write/,
    );
  });

  test('commits and catalog changes are audited with their caller', async () => {
    const rows = await runtime.meta.query<{ payload: string }>(
      "SELECT payload FROM sluice_system_outbox WHERE table_name = 'audit' ORDER BY id",
    );
    const audit = rows.map((r) => JSON.parse(r.payload) as Record<string, string>);
    assert.ok(audit.some((r) => r.actor === 'admin1' && r.action === 'catalog_change' && r.outcome === 'ok'));
    assert.ok(
      audit.some(
        (r) => r.actor === 'writer' && r.action === 'query' && /"written":\["shop.t"\]/.test(r.detail ?? ''),
      ),
    );
    assert.ok(
      audit.some((r) => r.actor === 'anonymous' && r.action === 'authenticate' && r.outcome === 'denied'),
    );
    // Successful authentications: one row per caller, way and surface a minute, not one per request.
    const logins = (surface: string, via: string) =>
      audit.filter(
        (r) =>
          r.actor === 'reader' &&
          r.action === 'authenticate' &&
          r.outcome === 'ok' &&
          r.surface === surface &&
          r.via === via,
      ).length;
    assert.deepEqual(
      [
        logins('http', 'token'),
        logins('iceberg', 'token'),
        logins('bus', 'token'),
        logins('bus', 'password'),
      ],
      [1, 1, 1, 1],
    );
  });
});
