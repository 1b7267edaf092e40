import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { type Duck, openDuck } from '../../src/duck/index.js';
import { type Engine, type EngineSession, openEngine, sqlStateOf } from '../../src/engine/index.js';
import { createMetrics, silentLogger } from '../../src/observe/index.js';
import { createApp } from '../../src/serve/index.js';
import { type PgWireServer, startPgWireServer } from '../../src/serve/pgwire/index.js';
import { openTable } from '../../src/table/index.js';
import { InvalidInputError, PermissionError } from '../../src/util/index.js';
import { runCli } from '../helpers/cli.js';
import { killWhileWriting, query, type TestProject, testProject } from './helpers.js';

describe('UPDATE and MERGE of lake tables', () => {
  let p: TestProject;
  let engine: Engine;
  let writer: EngineSession;
  let other: EngineSession;
  let reader: EngineSession;
  let duck: Duck;

  const snapshots = async (name: string) => {
    const t = await openTable(p.catalog, p.runtime.store, duck, { namespace: ['crm'], name });
    return t.snapshots();
  };

  before(async () => {
    p = await testProject();
    duck = await openDuck();
    engine = await openEngine(p.runtime);
    writer = await engine.openSession({ name: 'w', readOnly: false });
    other = await engine.openSession({ name: 'w2', readOnly: false });
    reader = await engine.openSession({ name: 'r', readOnly: true });
  });
  after(async () => {
    await engine?.close();
    await duck?.close();
    await p?.remove();
  });

  test('UPDATE with expressions rewrites only the files holding changed rows, in one commit', async () => {
    await writer.run(
      "CREATE TABLE crm.accounts AS SELECT i AS id, i * 10 AS balance, 'acct ' || i AS label FROM range(10) t(i)",
    );
    await writer.run("INSERT INTO crm.accounts SELECT 100 + i, 0, 'other' FROM range(5) t(i)");
    const before = await snapshots('accounts');
    const r = await writer.run(
      "UPDATE crm.accounts SET balance = balance * 2 + $1, label = upper(label) || CASE WHEN id % 2 = 0 THEN ' even' ELSE '' END WHERE id < 4",
      { params: [1] },
    );
    assert.equal(r.statementType, 'UPDATE');
    assert.equal(r.rowsChanged, 4);
    assert.deepEqual(
      await query(reader, 'SELECT id, balance, label FROM crm.accounts WHERE id < 5 ORDER BY id'),
      [
        [0, 1, 'ACCT 0 even'],
        [1, 21, 'ACCT 1'],
        [2, 41, 'ACCT 2 even'],
        [3, 61, 'ACCT 3'],
        [4, 40, 'acct 4'],
      ],
    );
    const after = await snapshots('accounts');
    assert.equal(after.length, before.length + 1, 'one commit');
    const summary: Record<string, string> = after[after.length - 1]?.summary ?? {};
    assert.equal(summary.operation, 'overwrite');
    assert.equal(summary['deleted-data-files'], '1', 'the file of ids 100.. was not rewritten');
    assert.deepEqual(await query(reader, 'SELECT count(*), sum(balance) FROM crm.accounts'), [[15, 514]]);
    // An alias, a condition on another table (FROM), and a qualified column.
    await writer.run('CREATE TABLE crm.bonus AS SELECT 101 AS id, 5 AS amount UNION ALL SELECT 102, 7');
    const joined = await writer.run(
      'UPDATE crm.accounts AS a SET balance = a.balance + b.amount FROM crm.bonus AS b WHERE a.id = b.id',
    );
    assert.equal(joined.rowsChanged, 2);
    assert.deepEqual(
      await query(reader, 'SELECT id, balance FROM crm.accounts WHERE id IN (101, 102) ORDER BY id'),
      [
        [101, 5],
        [102, 7],
      ],
    );
  });

  test('an UPDATE that matches no row commits nothing', async () => {
    const before = await snapshots('accounts');
    const r = await writer.run('UPDATE crm.accounts SET balance = 0 WHERE id = 999');
    assert.equal(r.rowsChanged, 0);
    // Rows updated to the values they already hold change no file either.
    const same = await writer.run('UPDATE crm.accounts SET balance = balance WHERE id = 1');
    assert.equal(same.rowsChanged, 1);
    assert.equal((await snapshots('accounts')).length, before.length);
  });

  test('MERGE with WHEN MATCHED UPDATE, WHEN MATCHED DELETE and WHEN NOT MATCHED INSERT is one commit', async () => {
    await writer.run(
      "CREATE TABLE crm.customers AS SELECT i AS id, 'c' || i AS name, 0 AS visits FROM range(6) t(i)",
    );
    const before = await snapshots('customers');
    const r = await writer.run(`
      MERGE INTO crm.customers AS c
      USING (VALUES (1, 'one', false), (2, 'two', true), (7, 'seven', false)) AS s(id, name, gone)
      ON c.id = s.id
      WHEN MATCHED AND s.gone THEN DELETE
      WHEN MATCHED THEN UPDATE SET name = s.name, visits = c.visits + 1
      WHEN NOT MATCHED THEN INSERT (id, name, visits) VALUES (s.id, s.name, 1)`);
    assert.equal(r.statementType, 'MERGE');
    assert.equal(r.rowsChanged, 3);
    assert.deepEqual(await query(reader, 'SELECT id, name, visits FROM crm.customers ORDER BY id'), [
      [0, 'c0', 0],
      [1, 'one', 1],
      [3, 'c3', 0],
      [4, 'c4', 0],
      [5, 'c5', 0],
      [7, 'seven', 1],
    ]);
    assert.equal((await snapshots('customers')).length, before.length + 1);
  });

  test('MERGE whose source matches a target row twice fails and changes nothing', async () => {
    const before = await snapshots('customers');
    await assert.rejects(
      writer.run(
        'MERGE INTO crm.customers USING (VALUES (3, 1), (3, 2)) AS s(id, v) ON customers.id = s.id WHEN MATCHED THEN UPDATE SET visits = s.v',
      ),
      (err: unknown) => {
        assert.ok(err instanceof InvalidInputError, String(err));
        assert.match(
          (err as Error).message,
          /MERGE matched 1 row\(s\) of crm\.customers with more than one source row/,
        );
        return true;
      },
    );
    assert.equal((await snapshots('customers')).length, before.length);
    assert.deepEqual(await query(reader, 'SELECT visits FROM crm.customers WHERE id = 3'), [[0]]);
    // Duplicate source keys that match no target row only insert.
    const ins = await writer.run(
      'MERGE INTO crm.customers USING (VALUES (50), (51)) AS s(id) ON customers.id = s.id WHEN NOT MATCHED THEN INSERT (id, name, visits) VALUES (s.id, NULL, 0)',
    );
    assert.equal(ins.rowsChanged, 2);
  });

  test('concurrent UPDATEs of the same file both land (the loser runs again on the new state)', async () => {
    await writer.run('CREATE TABLE crm.counters AS SELECT i AS id, 0 AS n FROM range(100) t(i)');
    const before = await snapshots('counters');
    const [a, b] = await Promise.all([
      writer.run('UPDATE crm.counters SET n = n + 1 WHERE id < 60'),
      other.run('UPDATE crm.counters SET n = n + 10 WHERE id >= 40'),
    ]);
    assert.equal(a.rowsChanged, 60);
    assert.equal(b.rowsChanged, 60);
    assert.deepEqual(await query(reader, 'SELECT n, count(*) FROM crm.counters GROUP BY n ORDER BY n'), [
      [1, 40],
      [10, 40],
      [11, 20],
    ]);
    assert.equal((await snapshots('counters')).length, before.length + 2);
  });

  test('read-only users cannot UPDATE or MERGE (SQLSTATE 42501)', async () => {
    for (const sql of [
      'UPDATE crm.counters SET n = 0',
      'MERGE INTO crm.counters USING (SELECT 1 AS id) s ON counters.id = s.id WHEN MATCHED THEN DELETE',
    ]) {
      await assert.rejects(reader.run(sql), (err: unknown) => {
        assert.ok(err instanceof PermissionError, `${sql}: ${err}`);
        assert.equal(sqlStateOf(err), '42501');
        return true;
      });
    }
    await assert.rejects(writer.run('UPDATE crm.counters SET n = 0 RETURNING id'), PermissionError);
  });

  test('over pgwire: UPDATE and MERGE answer with their command tags; read-only users get 42501', async () => {
    const server: PgWireServer = await startPgWireServer({
      engine,
      host: '127.0.0.1',
      port: 0,
      log: silentLogger,
      auth: { users: [{ name: 'analyst', password: 'a', readOnly: true }], trustLoopbackUser: 'sluice' },
    });
    const client = new pg.Client(`postgres://sluice@127.0.0.1:${server.port}/sluice`);
    const analyst = new pg.Client(`postgres://analyst:a@127.0.0.1:${server.port}/sluice`);
    try {
      await client.connect();
      await analyst.connect();
      const u = await client.query('UPDATE crm.counters SET n = $1 WHERE id = $2', [-1, 5]);
      assert.equal(u.command, 'UPDATE');
      assert.equal(u.rowCount, 1);
      const m = await client.query(
        'MERGE INTO crm.counters USING (SELECT 5 AS id UNION ALL SELECT 500) s ON counters.id = s.id WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT VALUES (s.id, 0)',
      );
      assert.equal(m.command, 'MERGE');
      assert.equal(m.rowCount, 2);
      const { rows } = await client.query('SELECT id FROM crm.counters WHERE id IN (5, 500)');
      assert.deepEqual(rows, [{ id: '500' }]);
      await assert.rejects(analyst.query('UPDATE crm.counters SET n = 0'), (err: { code?: string }) => {
        assert.equal(err.code, '42501');
        return true;
      });
    } finally {
      await client.end().catch(() => {});
      await analyst.end().catch(() => {});
      await server.close();
    }
  });

  test('over HTTP: POST /api/v1/sql runs an UPDATE', async () => {
    const app = createApp({ runtime: p.runtime, metrics: createMetrics(), startedAt: new Date(), engine });
    const res = await app.request('/api/v1/sql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sql: 'UPDATE crm.counters SET n = n * 100 WHERE id = 0' }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.statementType, 'UPDATE');
    assert.equal(body.rowsChanged, 1);
    assert.deepEqual(await query(reader, 'SELECT n FROM crm.counters WHERE id = 0'), [[100]]);
  });
});

test('an UPDATE killed with SIGKILL leaves the table at the old snapshot or commits all of it', async () => {
  const p = await testProject();
  try {
    const sql = (q: string) => runCli(['--project', p.dir, 'sql', '--format', 'csv', q]);
    const created = await sql('CREATE TABLE crash.u AS SELECT range AS id, 0 AS v FROM range(1000000)');
    assert.equal(created.code, 0, created.stderr);
    await killWhileWriting(p.dir, 'UPDATE crash.u SET v = v + 1');
    const after = await sql('SELECT count(*) AS n, sum(v) AS s FROM crash.u');
    assert.equal(after.code, 0, after.stderr);
    const [n, s] = (after.stdout.split('\n')[1] ?? '').split(',').map(Number);
    assert.equal(n, 1_000_000);
    assert.ok(s === 0 || s === 1_000_000, `partial update: sum ${s}`);
    const again = await sql('UPDATE crash.u SET v = 7 WHERE id = 0');
    assert.equal(again.code, 0, again.stderr);
    const final = await sql('SELECT v FROM crash.u WHERE id = 0');
    assert.equal(final.stdout.split('\n')[1], '7');
  } finally {
    await p.remove();
  }
});
