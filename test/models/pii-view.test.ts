import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { AuthStore, type Principal, sqlAccessHook } from '../../src/auth/index.js';
import { openCatalog } from '../../src/catalog/index.js';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import { openEngine } from '../../src/engine/index.js';
import { buildModels, deployModels, loadModelsProject } from '../../src/models/index.js';
import { createLogger } from '../../src/observe/index.js';
import { openRuntime, type Runtime } from '../../src/runtime/index.js';
import { type RunningServer, startServer } from '../../src/serve/index.js';
import type { PgWireServer } from '../../src/serve/pgwire/index.js';
import { query } from '../engine/helpers.js';
import { tempDir } from '../helpers/cli.js';
import { callAs } from '../helpers/http.js';
import { startProjectWire } from '../helpers/serve.js';

const FILES: Record<string, string> = {
  'dbt_project.yml': 'name: pv\n',
  // The table under the view carries no PII tags: the view's own tags must mask.
  'models/raw_people.sql':
    "{{ config(materialized='table') }}\nselect 1 as id, 'ann@example.com' as email, '+49 30 1234' as phone, 'Berlin' as city",
  'models/people.sql':
    "{{ config(materialized='view') }}\nselect id, email, phone, city from {{ ref('raw_people') }}",
  'models/schema.yml': [
    'models:',
    '  - name: people',
    '    columns:',
    '      - name: email',
    '        meta: { pii: true }',
    '      - name: phone',
    '        tags: [pii]',
    '        meta: { pii: redact }',
  ].join('\n'),
};

const CLEAR = [1, 'ann@example.com', '+49 30 1234', 'Berlin'];
const SELECT = 'SELECT id, email, phone, city FROM pv.people';

describe('PII tags of a view model mask the view itself: engine, HTTP and PostgreSQL wire', () => {
  const tmp = tempDir();
  const dir = join(tmp.dir, 'proj');
  let runtime: Runtime;
  let server: RunningServer;
  let wire: PgWireServer;
  let store: AuthStore;
  let sha: string;
  const tokens: Record<string, string> = {};
  const clients: pg.Client[] = [];

  before(async () => {
    await scaffoldProject(dir, { name: 'pv' });
    appendFileSync(join(dir, 'sluice.yaml'), '\nauth:\n  required: true\npgwire:\n  trustLoopback: false\n');
    for (const [path, text] of Object.entries(FILES)) {
      mkdirSync(dirname(join(dir, 'dbt', path)), { recursive: true });
      writeFileSync(join(dir, 'dbt', path), text);
    }
    runtime = await openRuntime(await loadProject(dir), createLogger({ level: 'silent', stderr: false }));
    const engine = await openEngine(runtime, { fileAccess: 'all' });
    try {
      const results = await buildModels(runtime, engine, loadModelsProject(join(dir, 'dbt')));
      for (const r of results) assert.equal(r.status, 'success', r.error);
    } finally {
      await engine.close();
    }
    store = new AuthStore(runtime.meta);
    await store.createRole('analyst');
    await store.createUser('root', { password: 'root-password', roles: ['admin'] });
    await store.createUser('ann', { password: 'ann-password', roles: ['analyst'] });
    await store.grant({ role: 'analyst', kind: 'namespace', name: 'pv', privilege: 'read' });
    for (const u of ['root', 'ann']) tokens[u] = (await store.createToken(u)).token;
    server = await startServer(runtime, { host: '127.0.0.1', httpPort: 0 });
    wire = await startProjectWire(runtime, server.engine, dir);
    sha = String((await http('root', "SELECT sha256('ann@example.com')"))[0]?.[0]);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await wire?.close();
    await server?.close();
    await runtime?.close();
    tmp.remove();
  });

  const call = callAs(() => server.url, tokens);
  async function http(who: string, sql: string): Promise<unknown[][]> {
    const r = await call('POST', '/api/v1/sql', who, { sql });
    const body = (await r.json()) as { rows: unknown[][] };
    assert.equal(r.status, 200, JSON.stringify(body));
    return body.rows;
  }
  async function pgRows(user: string, sql: string, values?: unknown[]): Promise<unknown[][]> {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: wire.port,
      user,
      password: `${user}-password`,
      database: 'sluice',
    });
    await client.connect();
    clients.push(client);
    return (await client.query({ text: sql, values, rowMode: 'array' })).rows as unknown[][];
  }

  test('the build tags the view (not the table under it) from the YAML', async () => {
    const catalog = openCatalog({ meta: runtime.meta, store: runtime.store });
    const view = await catalog.loadView({ namespace: ['pv'], name: 'people' });
    assert.equal(view.metadata.properties['sluice.pii.columns'], 'email,phone:redact');
    const table = await catalog.loadTable({ namespace: ['pv'], name: 'raw_people' });
    assert.equal(table.metadata.properties['sluice.pii.columns'], undefined);
  });

  test('over HTTP a reader without pii gets the masked view; the untagged table stays clear', async () => {
    assert.deepEqual(await http('ann', SELECT), [[1, sha, '****', 'Berlin']]);
    assert.deepEqual(await http('ann', 'SELECT p.* FROM pv.people AS p'), [[1, sha, '****', 'Berlin']]);
    assert.deepEqual(
      await http('ann', "SELECT count(*) FROM pv.people WHERE email = 'ann@example.com'"),
      [[0]],
      'filters see the masked value',
    );
    assert.deepEqual(await http('ann', 'SELECT email FROM pv.raw_people'), [['ann@example.com']]);
    assert.deepEqual(await http('root', SELECT), [CLEAR]);
    await store.grant({ role: 'analyst', kind: 'table', name: 'pv.people', privilege: 'pii' });
    assert.deepEqual(await http('ann', SELECT), [CLEAR]);
    await store.revoke({ role: 'analyst', kind: 'table', name: 'pv.people', privilege: 'pii' });
    assert.deepEqual(await http('ann', SELECT), [[1, sha, '****', 'Berlin']]);
  });

  test('over the PostgreSQL wire protocol the same (simple and extended query)', async () => {
    assert.deepEqual(await pgRows('ann', SELECT), [[1, sha, '****', 'Berlin']]);
    assert.deepEqual(await pgRows('ann', `${SELECT} WHERE id = $1`, [1]), [[1, sha, '****', 'Berlin']]);
    assert.deepEqual(await pgRows('root', SELECT), [CLEAR]);
  });

  test('a deploy switches the view with its tags', async () => {
    const r = await deployModels(runtime, loadModelsProject(join(dir, 'dbt'), { targetSchema: 'pvprod' }));
    assert.equal(r.ok, true, r.error);
    await store.grant({ role: 'analyst', kind: 'namespace', name: 'pvprod', privilege: 'read' });
    assert.deepEqual(await http('ann', 'SELECT id, email, phone, city FROM pvprod.people'), [
      [1, sha, '****', 'Berlin'],
    ]);
    assert.deepEqual(await http('root', 'SELECT id, email, phone, city FROM pvprod.people'), [CLEAR]);
  });

  test('in an engine session under the reader policy, views of the view are masked too', async () => {
    const engine = await openEngine(runtime, { fileAccess: 'all' });
    try {
      const admin = await engine.openSession({ name: 'root', readOnly: false });
      await query(admin, 'CREATE VIEW pv.people_again AS SELECT * FROM pv.people');
      await admin.close();
      const principal: Principal = { name: 'analyst', via: 'jwt', roles: ['analyst'] };
      const access = sqlAccessHook(principal, store, {});
      const session = await engine.openSession({ name: 'analyst', readOnly: true }, { access });
      try {
        assert.deepEqual(await query(session, 'SELECT id, email, phone, city FROM pv.people_again'), [
          [1, sha, '****', 'Berlin'],
        ]);
      } finally {
        await session.close();
      }
    } finally {
      await engine.close();
    }
  });
});
