import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { AuthStore } from '../../src/auth/index.js';
import { openCatalog } from '../../src/catalog/index.js';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import { createLogger } from '../../src/observe/index.js';
import { openRuntime, type Runtime } from '../../src/runtime/index.js';
import { type RunningServer, startServer } from '../../src/serve/index.js';
import { type PgWireServer, startPgWire } from '../../src/serve/pgwire/index.js';
import { tempDir } from '../helpers/cli.js';

type PgError = { code?: string; message: string };

describe('PostgreSQL wire users are the auth store users, under the same SQL policy', () => {
  const tmp = tempDir();
  let runtime: Runtime;
  let http: RunningServer;
  let wire: PgWireServer;
  let store: AuthStore;
  const clients: pg.Client[] = [];

  before(async () => {
    const dir = join(tmp.dir, 'proj');
    await scaffoldProject(dir, { name: 'wire' });
    appendFileSync(
      join(dir, 'sluice.yaml'),
      '\npgwire:\n  trustLoopback: false\n  users:\n    - { name: legacy, password: legacy-pw, readOnly: true }\n',
    );
    runtime = await openRuntime(await loadProject(dir), createLogger({ level: 'silent', stderr: false }));
    store = new AuthStore(runtime.meta);
    await store.createRole('analyst');
    await store.createUser('root', { password: 'root-password', roles: ['admin'] });
    await store.createUser('ann', { password: 'ann-password', roles: ['analyst'] });
    await store.createUser('bob', { password: 'bob-password' });
    await store.grant({ role: 'analyst', kind: 'table', name: 'shop.customers', privilege: 'read' });
    http = await startServer(runtime, { host: '127.0.0.1', httpPort: 0 });
    const { config } = runtime.project;
    wire = await startPgWire(http.engine as NonNullable<typeof http.engine>, {
      config: config.pgwire,
      dir,
      host: '127.0.0.1',
      port: 0,
      log: runtime.log,
      meta: runtime.meta,
      policy: config.auth,
    });
    const root = await connect('root', 'root-password');
    await root.query("CREATE TABLE shop.customers AS SELECT 1 AS id, 'ann@example.com' AS email");
    await root.query('CREATE TABLE shop.orders AS SELECT 1 AS id, 10 AS amount');
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await wire?.close();
    await http?.close();
    await runtime?.close();
    tmp.remove();
  });

  async function connect(user: string, password: string): Promise<pg.Client> {
    const client = new pg.Client({ host: '127.0.0.1', port: wire.port, user, password, database: 'sluice' });
    await client.connect();
    clients.push(client);
    return client;
  }
  const failsWith = async (p: Promise<unknown>, code: string, message?: RegExp) =>
    assert.rejects(p, (e: PgError) => {
      assert.equal(e.code, code, e.message);
      if (message) assert.match(e.message, message);
      return true;
    });

  test('SCRAM-SHA-256 against the stored verifier; wrong passwords and unknown users get 28P01', async () => {
    const ann = await connect('ann', 'ann-password');
    assert.deepEqual((await ann.query('SELECT current_user AS u')).rows.length, 1);
    await failsWith(connect('ann', 'wrong-password'), '28P01');
    await failsWith(connect('nobody', 'whatever-pw'), '28P01');
    const logins = await auditRows('authenticate');
    assert.ok(logins.some((r) => r.actor === 'ann' && r.outcome === 'ok' && r.surface === 'pgwire'));
    assert.ok(logins.some((r) => r.actor === 'ann' && r.outcome === 'denied'));
  });

  test('config users still log in (a fallback without per-table grants)', async () => {
    const legacy = await connect('legacy', 'legacy-pw');
    assert.equal((await legacy.query('SELECT count(*)::INT AS n FROM shop.orders')).rows[0].n, 1);
    await failsWith(legacy.query('INSERT INTO shop.orders SELECT 2, 3'), '42501');
    await failsWith(legacy.query('GRANT SELECT ON shop.orders TO analyst'), '0A000');
  });

  test('per-table reads: 42501 for tables without a grant; GRANT and REVOKE apply to the next statement', async () => {
    const ann = await connect('ann', 'ann-password');
    const root = await connect('root', 'root-password');
    assert.equal((await ann.query('SELECT id FROM shop.customers')).rows[0].id, 1);
    await failsWith(ann.query('SELECT * FROM shop.orders'), '42501', /shop\.orders/);
    await root.query('GRANT SELECT ON TABLE shop.orders TO analyst');
    assert.equal((await ann.query('SELECT amount FROM shop.orders')).rows[0].amount, 10);
    await root.query('REVOKE SELECT ON shop.orders FROM analyst');
    await failsWith(ann.query('SELECT * FROM shop.orders'), '42501');
    await root.query('GRANT SELECT ON ALL TABLES IN SCHEMA shop TO analyst');
    assert.ok(
      await store
        .listGrants('analyst')
        .then((g) => g.some((x) => x.kind === 'namespace' && x.name === 'shop')),
    );
    await root.query('REVOKE SELECT ON SCHEMA shop FROM analyst');
    const grants = await auditRows('grant');
    assert.ok(grants.some((r) => r.actor === 'root' && r.resource === 'table:shop.orders read analyst'));
  });

  test('GRANT role TO user makes a member; non-admins and unsupported forms are refused clearly', async () => {
    const bob = await connect('bob', 'bob-password');
    await failsWith(bob.query('SELECT * FROM shop.customers'), '42501');
    await failsWith(bob.query('GRANT analyst TO bob'), '42501', /not an administrator/);
    const root = await connect('root', 'root-password');
    await root.query('GRANT analyst TO bob');
    assert.equal((await bob.query('SELECT id FROM shop.customers')).rows[0].id, 1);
    await root.query('REVOKE analyst FROM bob');
    await failsWith(bob.query('SELECT * FROM shop.customers'), '42501');
    await failsWith(root.query('GRANT SELECT ON shop.orders TO nosuchrole'), '42704');
    await failsWith(root.query('GRANT EXECUTE ON FUNCTION f() TO analyst'), '0A000');
    await failsWith(root.query('GRANT SELECT ON shop.orders TO analyst WITH GRANT OPTION'), '0A000');
    await failsWith(root.query('GRANT SELECT ON orders TO analyst'), '42601', /schema/);
    await failsWith(root.query('GRANT SELECT ON shop.orders'), '42601');
  });

  test('PII columns are masked over the wire for readers without the pii privilege', async () => {
    const root = await connect('root', 'root-password');
    const catalog = openCatalog({ meta: runtime.meta, store: runtime.store, log: runtime.log });
    await catalog.commitTable(
      { namespace: ['shop'], name: 'customers' },
      [],
      [{ action: 'set-properties', updates: { 'sluice.pii.columns': 'email' } }],
    );
    const ann = await connect('ann', 'ann-password');
    const masked = (await ann.query('SELECT email FROM shop.customers')).rows[0].email;
    const sha = (await root.query("SELECT sha256('ann@example.com') AS h")).rows[0].h;
    assert.equal(masked, sha);
    assert.equal((await root.query('SELECT email FROM shop.customers')).rows[0].email, 'ann@example.com');
    await root.query('GRANT PII ON shop.customers TO analyst');
    assert.equal((await ann.query('SELECT email FROM shop.customers')).rows[0].email, 'ann@example.com');
  });

  async function auditRows(action: string) {
    const rows = await runtime.meta.query<{ payload: string }>(
      "SELECT payload FROM sluice_system_outbox WHERE table_name = 'audit' ORDER BY id",
    );
    return rows
      .map((r) => JSON.parse(r.payload) as Record<string, string>)
      .filter((r) => r.action === action);
  }
});
