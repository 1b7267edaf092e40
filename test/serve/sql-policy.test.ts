import assert from 'node:assert/strict';
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AuthStore } from '../../src/auth/index.js';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import { createLogger } from '../../src/observe/index.js';
import { openRuntime, type Runtime } from '../../src/runtime/index.js';
import { type RunningServer, startServer } from '../../src/serve/index.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { callAs } from '../helpers/http.js';

type Answer = {
  rows: unknown[][];
  columns: { name: string; type: string }[];
  error?: { sqlState: string; message: string };
};

describe('per-table SQL policy: grants, PII masking, approval, production namespaces, audit', () => {
  const tmp = tempDir();
  let runtime: Runtime;
  let server: RunningServer;
  let store: AuthStore;
  const tokens: Record<string, string> = {};
  const dir = join(tmp.dir, 'proj');

  before(async () => {
    await scaffoldProject(dir, { name: 'policy' });
    appendFileSync(
      join(dir, 'sluice.yaml'),
      '\nauth:\n  required: true\n  approvedOnly: true\n  productionNamespaces: [prod]\n',
    );
    runtime = await openRuntime(await loadProject(dir), createLogger({ level: 'silent', stderr: false }));
    store = new AuthStore(runtime.meta);
    await store.createRole('analyst');
    await store.createRole('owner');
    await store.createUser('root', { roles: ['admin'] });
    await store.createUser('ann', { roles: ['analyst'] });
    await store.createUser('olga', { roles: ['owner'] });
    await store.grant({ role: 'analyst', kind: 'table', name: 'shop.customers', privilege: 'read' });
    await store.grant({ role: 'analyst', kind: 'table', name: 'shop.drafts', privilege: 'read' });
    await store.grant({ role: 'owner', kind: 'namespace', name: 'shop', privilege: 'write' });
    await store.grant({ role: 'owner', kind: 'namespace', name: 'prod', privilege: 'write' });
    for (const u of ['root', 'ann', 'olga']) tokens[u] = (await store.createToken(u)).token;
    server = await startServer(runtime, { host: '127.0.0.1', httpPort: 0 });
    for (const ns of ['shop', 'prod'])
      assert.equal((await call('POST', '/iceberg/v1/namespaces', 'root', { namespace: [ns] })).status, 200);
    for (const [table, select] of [
      [
        'shop.customers',
        "SELECT 1 AS id, 'ann@example.com' AS email, 'Ann' AS name UNION ALL SELECT 2, NULL, 'Bob'",
      ],
      ['shop.orders', 'SELECT 1 AS id, 10 AS amount'],
      ['shop.drafts', 'SELECT 1 AS id'],
      ['prod.facts', 'SELECT 1 AS id'],
    ]) {
      const r = await sql('root', `CREATE TABLE ${table} AS ${select}`);
      assert.equal(r.status, 200, await r.clone().text());
    }
    await setProperties('shop.customers', {
      'sluice.state': 'approved',
      'sluice.pii.columns': 'email,name:redact',
    });
    await setProperties('shop.drafts', { 'sluice.owner': 'olga' });
  });
  after(async () => {
    await server?.close();
    await runtime?.close();
    tmp.remove();
  });

  const call = callAs(() => server.url, tokens);
  const sql = (who: string, statement: string) => call('POST', '/api/v1/sql', who, { sql: statement });
  const answer = async (who: string, statement: string) => {
    const r = await sql(who, statement);
    return { status: r.status, body: (await r.json()) as Answer };
  };
  async function setProperties(table: string, updates: Record<string, string>) {
    const [ns, name] = table.split('.');
    const r = await call('POST', `/iceberg/v1/namespaces/${ns}/tables/${name}`, 'root', {
      requirements: [],
      updates: [{ action: 'set-properties', updates }],
    });
    assert.equal(r.status, 200, await r.text());
  }

  test('a reader reads the tables granted to it and gets 403 / 42501 naming the others', async () => {
    const ok = await answer('ann', 'SELECT id FROM shop.customers ORDER BY id');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body.rows, [[1], [2]]);
    for (const statement of [
      'SELECT * FROM shop.orders',
      'SELECT c.id FROM shop.customers c JOIN shop.orders o ON c.id = o.id',
      'WITH x AS (SELECT * FROM shop.orders) SELECT * FROM x',
      'SELECT (SELECT max(amount) FROM shop.orders)',
      'SELECT * FROM shop.customers WHERE id IN (SELECT id FROM "shop"."orders")',
    ]) {
      const denied = await answer('ann', statement);
      assert.equal(denied.status, 403, statement);
      assert.equal(denied.body.error?.sqlState, '42501');
      assert.match(denied.body.error?.message ?? '', /shop\.orders/);
    }
  });

  test('UPDATE and MERGE check the target for write and every table they read', async () => {
    const ok = await answer('olga', 'UPDATE shop.drafts SET id = id WHERE id = 1');
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const reader = await answer('ann', 'UPDATE shop.customers SET id = id WHERE id = 1');
    assert.equal(reader.status, 403);
    assert.equal(reader.body.error?.sqlState, '42501');
    const hidden = await answer('olga', 'UPDATE shop.drafts SET id = (SELECT max(id) FROM prod.facts)');
    assert.equal(hidden.body.error?.sqlState, '0A000', JSON.stringify(hidden.body));
    const merge = await answer(
      'olga',
      `MERGE INTO shop.drafts AS d USING prod.facts AS f ON d.id = f.id
       WHEN MATCHED THEN UPDATE SET id = d.id`,
    );
    assert.equal(merge.status, 403, JSON.stringify(merge.body));
    assert.match(merge.body.error?.message ?? '', /prod\.facts/);
    const admin = await answer(
      'root',
      'UPDATE shop.orders SET amount = (SELECT max(amount) FROM shop.orders)',
    );
    assert.equal(admin.status, 200, JSON.stringify(admin.body));
  });

  test('unqualified names resolve through the search path; CTEs named like tables are not tables', async () => {
    assert.equal((await answer('ann', "SET search_path = 'shop'")).status, 200);
    // Each request is its own session: qualify through a CTE instead.
    const cte = await answer('ann', 'WITH orders AS (SELECT 1 AS id) SELECT * FROM orders');
    assert.equal(cte.status, 200, JSON.stringify(cte.body));
  });

  test('files and file-reading table functions are refused to non-administrators', async () => {
    for (const statement of [
      "SELECT * FROM read_parquet('/etc/passwd')",
      "SELECT * FROM query_table('shop.orders')",
      "SELECT * FROM 'data/file.parquet'",
    ]) {
      const r = await answer('ann', statement);
      assert.equal(r.status, 403, statement);
    }
    assert.equal((await answer('ann', 'SELECT * FROM range(3)')).status, 200);
  });

  test('PII columns are masked for readers without the pii privilege, in the engine', async () => {
    const masked = await answer('ann', 'SELECT id, email, name FROM shop.customers ORDER BY id');
    assert.equal(masked.status, 200, JSON.stringify(masked.body));
    const sha = (await answer('root', "SELECT sha256('ann@example.com')")).body.rows[0]?.[0];
    assert.deepEqual(masked.body.rows, [
      [1, sha, '****'],
      [2, null, '****'],
    ]);
    const star = await answer('ann', 'SELECT c.* FROM shop.customers AS c WHERE c.id = 1');
    assert.deepEqual(star.body.rows, [[1, sha, '****']]);
    const filtered = await answer(
      'ann',
      "SELECT count(*) FROM shop.customers WHERE email = 'ann@example.com'",
    );
    assert.deepEqual(filtered.body.rows, [[0]], 'filters see the masked value too');
    const full = await answer('root', 'SELECT email FROM shop.customers WHERE id = 1');
    assert.deepEqual(full.body.rows, [['ann@example.com']]);
    await store.grant({ role: 'analyst', kind: 'table', name: 'shop.customers', privilege: 'pii' });
    const granted = await answer('ann', 'SELECT email FROM shop.customers WHERE id = 1');
    assert.deepEqual(granted.body.rows, [['ann@example.com']]);
    await store.revoke({ role: 'analyst', kind: 'table', name: 'shop.customers', privilege: 'pii' });
    const again = await answer('ann', 'SELECT email FROM shop.customers WHERE id = 1');
    assert.deepEqual(again.body.rows, [[sha]], 'the revoke applies to the next statement');
  });

  test('with approvedOnly, drafts are readable only by their owners and administrators', async () => {
    const ann = await answer('ann', 'SELECT * FROM shop.drafts');
    assert.equal(ann.status, 403);
    assert.match(ann.body.error?.message ?? '', /draft/);
    await store.grant({ role: 'owner', kind: 'namespace', name: 'shop', privilege: 'read' });
    assert.equal((await answer('olga', 'SELECT * FROM shop.drafts')).status, 200);
    assert.equal((await answer('root', 'SELECT * FROM shop.drafts')).status, 200);
    await setProperties('shop.drafts', { 'sluice.state': 'approved' });
    assert.equal((await answer('ann', 'SELECT * FROM shop.drafts')).status, 200);
  });

  test('production namespaces refuse ad-hoc writes from writers; system tables refuse everyone', async () => {
    assert.equal((await answer('olga', 'INSERT INTO shop.orders SELECT 2, 20')).status, 200);
    const prod = await answer('olga', 'INSERT INTO prod.facts SELECT 2');
    assert.equal(prod.status, 403);
    assert.match(prod.body.error?.message ?? '', /production/);
    assert.equal((await answer('root', 'INSERT INTO prod.facts SELECT 2')).status, 200);
    for (const who of ['root', 'olga', 'ann']) {
      const audit = await answer(who, 'DELETE FROM sluice_system.audit');
      assert.equal(audit.status, 403, who);
      assert.equal(audit.body.error?.sqlState, '42501');
    }
  });

  test('every statement leaves an audit row: user, statement hash, tables read, rows', async () => {
    await answer('ann', 'SELECT id FROM shop.customers');
    await answer('ann', 'SELECT * FROM shop.orders');
    const rows = await runtime.meta.query<{ payload: string }>(
      "SELECT payload FROM sluice_system_outbox WHERE table_name = 'audit' ORDER BY id",
    );
    const queries = rows
      .map((r) => JSON.parse(r.payload) as { actor: string; action: string; outcome: string; detail: string })
      .filter((r) => r.action === 'query' && r.actor === 'ann');
    const ok = queries.find((q) => q.outcome === 'ok' && /"rowsReturned":2/.test(q.detail));
    assert.ok(ok, JSON.stringify(queries.slice(-3)));
    assert.match(ok.detail, /"read":\["shop.customers"\]/);
    assert.match(ok.detail, /"statement":"[0-9a-f]{32}"/);
    assert.ok(queries.some((q) => q.outcome === 'denied' && /shop\.orders/.test(q.detail)));
    // The tables root made over HTTP SQL: created with its rows in one commit as root, with the
    // statement's hash (the owner's later writes follow as hers).
    const made = rows
      .map(
        (r) =>
          JSON.parse(r.payload) as {
            actor: string;
            action: string;
            surface: string;
            resource: string;
            detail: string;
          },
      )
      .filter((r) => r.resource === 'table:shop.orders' && (r.action === 'create' || r.action === 'commit'));
    assert.deepEqual(made.map((r) => [r.action, r.actor, r.surface]).slice(0, 2), [
      ['create', 'root', 'http'],
      ['commit', 'olga', 'http'],
    ]);
    assert.match(made[0]?.detail ?? '', /"statement":"[0-9a-f]{32}".*"operation":"append"/);
  });

  test('the CLI: sluice tables set-pii / approve, and masked or refused results in sluice sql --server', async () => {
    const env = { SLUICE_TOKEN: tokens.ann, NO_COLOR: '1' };
    const tagged = await runCli(['tables', 'set-pii', 'shop.customers', 'email', 'name:null'], { cwd: dir });
    assert.equal(tagged.code, 0, tagged.stderr);
    assert.match(tagged.stdout, /email \(hash\), name \(null\)/);
    const bad = await runCli(['tables', 'set-pii', 'shop.customers', 'nosuch'], { cwd: dir });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /no column "nosuch"/);
    const masked = await runCli(
      [
        'sql',
        '--server',
        server.url,
        '--format',
        'csv',
        'SELECT email, name FROM shop.customers WHERE id = 1',
      ],
      { cwd: dir, env },
    );
    assert.equal(masked.code, 0, masked.stderr);
    const sha = (await answer('root', "SELECT sha256('ann@example.com')")).body.rows[0]?.[0] as string;
    assert.match(masked.stdout, new RegExp(`${sha},\\s*$`, 'm'));
    const refused = await runCli(['sql', '--server', server.url, 'SELECT * FROM shop.orders'], {
      cwd: dir,
      env,
    });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /permission denied for table shop\.orders/);
    const file = join(dir, 'orders.parquet');
    const refusedParquet = await runCli(
      ['sql', '--server', server.url, '--format', 'parquet', '--output', file, 'SELECT * FROM shop.orders'],
      { cwd: dir, env },
    );
    assert.equal(refusedParquet.code, 1);
    assert.match(refusedParquet.stderr, /permission denied for table shop\.orders/);
    assert.equal(existsSync(file), false);
    const draft = await runCli(['tables', 'approve', 'shop.drafts', '--draft'], { cwd: dir });
    assert.equal(draft.code, 0, draft.stderr);
    assert.equal((await answer('ann', 'SELECT * FROM shop.drafts')).status, 403);
  });
});
