/**
 * Fuzz every surface of a real `sluice serve` (platform API, UI API, Iceberg REST, Nakadi
 * publish and stream, PostgreSQL wire) with seeded random, oversized and malformed input:
 * each answer is a 4xx or a closed connection, the server stays up (checked after every
 * batch), and nothing is written (table snapshot, event offsets, users, namespaces unchanged).
 * SSRF guards of HTTP sources are tested in test/util/ssrf.test.ts and test/ingest/ssrf.test.ts.
 * Set FUZZ_SEED to replay a run.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import pg from 'pg';
import { AuthStore } from '../../src/auth/index.js';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import { seededRandom } from '../../src/demo/marketplace-data.js';
import { createLogger } from '../../src/observe/index.js';
import { openRuntime, type Runtime } from '../../src/runtime/index.js';
import type { RunningServer } from '../../src/serve/index.js';
import type { PgWireServer } from '../../src/serve/pgwire/index.js';
import { tempDir } from '../helpers/cli.js';
import { type AllSurfaces, serveAllSurfaces } from '../helpers/serve.js';
import { frontend, RawClient, startupPacket } from '../pgwire/raw-client.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);

const random = seededRandom(SEED);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));

const STRINGS = ['', '\u0000', '../../etc/passwd', '%2e%2e%2f', '\ud800', 'é'.repeat(300), '%s%n%x', "'; --"];

/** A random JSON value: deep, wide, odd numbers and strings. */
function jsonValue(depth = 0): unknown {
  switch (int(depth > 3 ? 4 : 7)) {
    case 0:
      return pick([0, -1, 1e308, -0.5, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER]);
    case 1:
      return pick(STRINGS);
    case 2:
      return pick([null, true, false]);
    case 3:
      return bytes(int(40)).toString('latin1');
    case 4:
      return Array.from({ length: int(5) }, () => jsonValue(depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: int(5) }, () => [
          pick([...STRINGS, 'name', 'sql', 'namespace']),
          jsonValue(depth + 1),
        ]),
      );
  }
}

/** A malformed body: garbage bytes, broken JSON, deep nesting, or a random JSON value. */
function body(): string | Buffer {
  switch (int(5)) {
    case 0:
      return bytes(int(2000));
    case 1:
      return JSON.stringify(jsonValue()).slice(0, -1 - int(3));
    case 2:
      return '['.repeat(5000 + int(5000));
    default:
      return JSON.stringify(jsonValue());
  }
}

/** A malformed publish (an empty batch is a valid publish of nothing). */
function publishBody(): string | Buffer {
  const b = body();
  return b.toString() === '[]' ? '[[]]' : b;
}

/** A header value that is not a credential. */
function authorization(): string | undefined {
  return pick([
    undefined,
    undefined,
    'Bearer',
    'Bearer sluice_x_y',
    `Bearer ${bytes(30).toString('base64')}`,
    'Basic !!!',
    `Basic ${Buffer.from('admin:').toString('base64')}`,
    'Bearer a.b.c',
    `Negotiate ${'A'.repeat(5000)}`,
  ]);
}

describe(`fuzzing every surface (seed ${SEED})`, () => {
  const tmp = tempDir();
  let runtime: Runtime;
  let server: RunningServer;
  let wire: PgWireServer;
  let surfaces: AllSurfaces;
  let failures: string[] = [];

  const http = async (method: string, path: string, o: { body?: string | Buffer; auth?: string } = {}) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (o.auth) headers.authorization = o.auth;
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers,
      body: o.body,
      signal: AbortSignal.timeout(5000),
    }).catch(
      (err: Error) => ({ status: 0, text: async () => err.message, body: null }) as unknown as Response,
    );
    await res.body?.cancel().catch(() => undefined);
    return res.status;
  };

  /** What must not change: the table's snapshot, event offsets, users, namespaces, event types. */
  async function state(): Promise<string> {
    const get = async (path: string) => {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 200, `GET ${path} while checking state`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    const table = (await get('/iceberg/v1/namespaces/shop/tables/t')) as {
      metadata: Record<string, unknown>;
    };
    return JSON.stringify([
      table.metadata['current-snapshot-id'],
      await get('/event-types/shop.orders/partitions'),
      (await get('/event-types')).length,
      await get('/iceberg/v1/namespaces'),
      await get('/api/v1/users'),
      await get('/api/v1/grants'),
    ]);
  }

  /** The server answers health checks and SQL after a batch. */
  async function alive(batch: string): Promise<void> {
    assert.equal(await http('GET', '/api/v1/health'), 200, `health after ${batch}`);
    const client = new pg.Client({ host: '127.0.0.1', port: wire.port, user: 'sluice', database: 'sluice' });
    await client.connect();
    try {
      const r = await client.query('SELECT count(*)::int AS n FROM shop.t');
      assert.equal(r.rows[0].n, 2, `pgwire after ${batch}`);
    } finally {
      await client.end();
    }
  }

  let before_: string;
  before(async () => {
    const dir = join(tmp.dir, 'proj');
    await scaffoldProject(dir, { name: 'fuzz' });
    runtime = await openRuntime(await loadProject(dir), createLogger({ level: 'silent', stderr: false }));
    await new AuthStore(runtime.meta).createUser('ann', { password: 'ann-password-123' });
    surfaces = await serveAllSurfaces(runtime, dir);
    ({ server, wire } = surfaces);
    // Loopback callers without credentials are the local administrator: the fuzz reaches every route.
    const setup = [
      ['POST', '/iceberg/v1/namespaces', { namespace: ['shop'] }],
      ['POST', '/api/v1/sql', { sql: 'CREATE TABLE shop.t AS SELECT * FROM range(2) r(id)' }],
      [
        'POST',
        '/event-types',
        {
          name: 'shop.orders',
          owning_application: 'shop',
          category: 'undefined',
          schema: { type: 'json_schema', schema: '{"properties":{"n":{"type":"string"}},"required":["n"]}' },
        },
      ],
      ['POST', '/event-types/shop.orders/events', [{ n: 'one' }]],
    ] as const;
    for (const [method, path, json] of setup) {
      const status = await http(method, path, { body: JSON.stringify(json) });
      assert.ok(status >= 200 && status < 300, `${method} ${path}: ${status}`);
    }
    before_ = await state();
  });
  after(async () => {
    await surfaces?.close();
    await runtime?.close();
    tmp.remove();
  });

  /** Send each request; every answer must be a 4xx. */
  async function batch(
    name: string,
    requests: [string, string, { body?: string | Buffer; auth?: string }][],
  ) {
    for (const [method, path, o] of requests) {
      const status = await http(method, path, o);
      if (status < 400 || status >= 500)
        failures.push(`${name}: ${method} ${path} auth=${o.auth?.slice(0, 20)} → ${status}`);
    }
    await alive(name);
    assert.equal(await state(), before_, `${name} changed something`);
  }

  const N = 40;
  beforeEach(() => {
    failures = [];
  });

  test('platform API and UI API: malformed bodies, paths and credentials', async () => {
    const writes = ['/api/v1/sql', '/api/v1/users', '/api/v1/roles', '/api/v1/tokens', '/api/v1/grants'];
    await batch(
      'platform API',
      Array.from({ length: N }, () => [
        'POST',
        pick(writes),
        { body: body(), auth: pick([undefined, authorization()]) },
      ]),
    );
    const reads = ['/api/v1/models', '/api/v1/info', '/api/v1/me', '/api/v1/users', '/api/v1/grants'];
    await batch(
      'UI API',
      Array.from({ length: N }, () => {
        const auth = authorization();
        // Without credentials these answer 200 (a loopback administrator); junk credentials are a 401.
        return [
          'GET',
          `${pick(reads)}?${new URLSearchParams({ [pick(STRINGS)]: String(int(1e9)) })}`,
          { auth: auth ?? 'Bearer x' },
        ];
      }),
    );
    await batch('oversized', [['POST', '/api/v1/sql', { body: Buffer.alloc(11 * 1024 * 1024, 0x20) }]]);
    await batch(
      'traversal',
      ['/api/v1/tables/..%2f..%2fetc%2fpasswd', '/api/v1/runs/%00', '/api/v1/../../etc/passwd'].map((p) => [
        'DELETE',
        p,
        {},
      ]),
    );
    assert.deepEqual(failures, []);
  });

  test('Iceberg REST: malformed namespaces, table creations and commits', async () => {
    const paths = [
      '/iceberg/v1/namespaces',
      '/iceberg/v1/namespaces/shop/tables',
      '/iceberg/v1/namespaces/shop/tables/t',
      '/iceberg/v1/tables/rename',
      '/iceberg/v1/transactions/commit',
    ];
    await batch(
      'Iceberg REST',
      Array.from({ length: N }, () => [
        'POST',
        pick(paths),
        { body: body(), auth: pick([undefined, authorization()]) },
      ]),
    );
    assert.deepEqual(failures, []);
  });

  test('Nakadi: malformed publishes, event types and stream parameters', async () => {
    const requests: [string, string, { body?: string | Buffer; auth?: string }][] = [];
    for (let i = 0; i < N; i++) {
      requests.push([
        'POST',
        '/event-types/shop.orders/events',
        { body: publishBody(), auth: pick([undefined, authorization()]) },
      ]);
      requests.push(['POST', '/event-types', { body: body() }]);
      requests.push(['POST', '/subscriptions', { body: body() }]);
      const q = new URLSearchParams({
        [pick(['batch_limit', 'stream_limit', 'batch_flush_timeout', 'stream_timeout'])]: pick([
          '-1',
          'x',
          '-0.5',
          'NaN',
        ]),
      });
      requests.push(['GET', `/event-types/shop.orders/events?${q}`, {}]);
    }
    requests.push(['POST', '/event-types/shop.orders/events', { body: Buffer.alloc(6 * 1024 * 1024, 0x20) }]);
    await batch('Nakadi', requests);
    // Malformed cursors on a stream (the header, not the query).
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${server.url}/event-types/shop.orders/events`, {
        headers: {
          'x-nakadi-cursors': JSON.stringify(jsonValue())
            .slice(0, int(50) + 1)
            .replace(/[^\x20-\x7e]/g, '?'),
        },
        signal: AbortSignal.timeout(5000),
      });
      await res.body?.cancel();
      if (res.status < 400 || res.status >= 500) failures.push(`stream cursors → ${res.status}`);
    }
    await alive('Nakadi cursors');
    assert.deepEqual(failures, []);
  });

  test('PostgreSQL wire: garbage, truncated and oversized messages close the connection', async () => {
    const closes = async (what: string, send: (c: RawClient) => void) => {
      const c = await RawClient.open(wire.port);
      send(c);
      c.end();
      const closed = await Promise.race([
        c.closed.then(() => true),
        new Promise((r) => setTimeout(() => r(false), 3000)),
      ]);
      if (!closed) failures.push(`${what}: connection still open 3 s after the client's FIN`);
      c.socket.destroy();
    };
    for (let i = 0; i < 20; i++) {
      await closes('garbage startup', (c) => c.write(bytes(1 + int(300))));
      await closes('truncated startup', (c) =>
        c.write(startupPacket({ user: 'sluice' }).subarray(0, 1 + int(20))),
      );
      const oversize = Buffer.alloc(8);
      oversize.writeInt32BE(0x7fffffff - int(1000), 0);
      await closes('oversized startup', (c) => c.write(oversize));
      await closes('garbage after startup', (c) => {
        c.write(startupPacket({ user: 'sluice', database: 'sluice' }));
        for (let k = 0; k < 5; k++) {
          const type = String.fromCharCode(
            pick([0x50, 0x42, 0x45, 0x44, 0x51, 0x48, 0x53, 0x64, 0x66, int(256)]),
          );
          const message = frontend(type, bytes(int(200)));
          if (random() < 0.3) message.writeInt32BE(int(2 ** 31), 1);
          c.write(random() < 0.3 ? message.subarray(0, int(message.length)) : message);
        }
      });
    }
    await alive('PostgreSQL wire');
    assert.equal(await state(), before_, 'the wire fuzz changed something');
    assert.deepEqual(failures, []);
  });
});
