import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadProject } from '../../src/config/index.js';
import { type Duck, openDuck } from '../../src/duck/index.js';
import { type Engine, type EngineSession, openEngine, sqlStateOf } from '../../src/engine/index.js';
import { createLogger } from '../../src/observe/index.js';
import { openRuntime } from '../../src/runtime/index.js';
import { keyForLocation } from '../../src/storage/index.js';
import { openTable } from '../../src/table/index.js';
import { PermissionError } from '../../src/util/index.js';
import { createKeyedTable, query, rowsOf, type TestProject, testProject } from './helpers.js';

const orders = { namespace: ['shop'], name: 'orders' };

describe('SQL engine over the lake (SQLite + local files)', () => {
  let p: TestProject;
  let engine: Engine;
  let writer: EngineSession;
  let reader: EngineSession;
  let duck: Duck;

  before(async () => {
    p = await testProject();
    duck = await openDuck();
    engine = await openEngine(p.runtime, { maxConcurrentQueries: 4, queueSize: 1 });
    writer = await engine.openSession({ name: 'w', readOnly: false });
    reader = await engine.openSession({ name: 'r', readOnly: true });
  });
  after(async () => {
    await engine?.close();
    await duck?.close();
    await p?.remove();
  });

  test('CREATE TABLE AS, INSERT and DELETE commit lake tables that every session reads', async () => {
    const created = await writer.run(
      'CREATE TABLE shop.orders AS SELECT i AS id, i * 10 AS amount FROM range(5) t(i)',
    );
    assert.equal(created.statementType, 'CREATE_TABLE');
    assert.equal(created.rowsChanged, 5);
    assert.deepEqual(await query(reader, 'SELECT count(*), sum(amount) FROM shop.orders'), [[5, 100]]);
    const inserted = await writer.run('INSERT INTO shop.orders VALUES (10, $1), (11, $2)', {
      params: [7, 8],
    });
    assert.equal(inserted.rowsChanged, 2);
    assert.deepEqual(await query(reader, 'SELECT amount FROM shop.orders WHERE id >= 10 ORDER BY id'), [
      [7],
      [8],
    ]);
    const deleted = await writer.run('DELETE FROM shop.orders WHERE id < 3');
    assert.equal(deleted.rowsChanged, 3);
    assert.deepEqual(await query(reader, 'SELECT count(*) FROM shop.orders'), [[4]]);
  });

  test('upsert, replace, drop, and session-only temporary objects', async () => {
    await createKeyedTable(p.catalog, 'shop', 'stock');
    await writer.run('INSERT INTO shop.stock SELECT range, 0 FROM range(3)');
    const stock = await openTable(p.catalog, p.runtime.store, duck, { namespace: ['shop'], name: 'stock' });
    const up = await writer.run('INSERT OR REPLACE INTO shop.stock VALUES (1, 5), (7, 1)');
    assert.equal(up.rowsChanged, 2);
    assert.deepEqual(await query(reader, 'SELECT sku, qty FROM shop.stock ORDER BY sku'), [
      [0, 0],
      [1, 5],
      [2, 0],
      [7, 1],
    ]);
    await assert.rejects(writer.run('INSERT OR REPLACE INTO shop.orders SELECT 1, 1'), /identifier columns/);
    await writer.run('CREATE OR REPLACE TABLE shop.stock AS SELECT 9 AS sku, 9 AS qty');
    assert.deepEqual(await query(reader, 'SELECT * FROM shop.stock'), [[9, 9]]);
    // A temporary view over a lake table follows the table's commits.
    await writer.run('CREATE TEMP VIEW stock_view AS SELECT * FROM shop.stock');
    await stock.append('SELECT 10 AS sku, 10 AS qty');
    assert.deepEqual(await query(writer, 'SELECT count(*) FROM stock_view'), [[2]]);
    await writer.run('DROP TABLE shop.stock');
    await assert.rejects(
      reader.run('SELECT * FROM shop.stock'),
      (err: unknown) => sqlStateOf(err) === '42P01',
    );
    await writer.run('DROP TABLE IF EXISTS shop.stock');
    assert.equal(await p.catalog.tableExists({ namespace: ['shop'], name: 'stock' }), false);
  });

  test('a commit made elsewhere while a session is open is visible to its next query', async () => {
    const before = await query(reader, 'SELECT count(*) FROM shop.orders');
    const table = await openTable(p.catalog, p.runtime.store, duck, orders);
    await table.append('SELECT 100 AS id, 1 AS amount');
    const after = await query(reader, 'SELECT count(*) FROM shop.orders');
    assert.equal(Number(after[0]?.[0]), Number(before[0]?.[0]) + 1);
  });

  test('renamed and dropped columns read by field id', async () => {
    await writer.run("CREATE TABLE shop.people AS SELECT 1 AS id, 'ann' AS name, 5 AS age");
    const table = await openTable(p.catalog, p.runtime.store, duck, { namespace: ['shop'], name: 'people' });
    await table.evolveSchema([
      { op: 'rename-column', name: 'name', newName: 'full_name' },
      { op: 'drop-column', name: 'age' },
    ]);
    await writer.run("INSERT INTO shop.people VALUES (2, 'bob')");
    assert.deepEqual(await query(reader, 'SELECT id, full_name FROM shop.people ORDER BY id'), [
      [1, 'ann'],
      [2, 'bob'],
    ]);
  });

  test('time travel by snapshot id, timestamp and tag', async () => {
    const table = await openTable(p.catalog, p.runtime.store, duck, orders);
    const snaps = table.snapshots();
    const first = snaps[0];
    assert.ok(first);
    assert.deepEqual(await query(reader, `SELECT count(*) FROM shop."orders@${first['snapshot-id']}"`), [
      [5],
    ]);
    const at = new Date(first['timestamp-ms']).toISOString();
    assert.deepEqual(await query(reader, `SELECT count(*) FROM shop."orders@${at}"`), [[5]]);
    await table.createTag('v1', first['snapshot-id']);
    assert.deepEqual(await query(reader, 'SELECT count(*) FROM shop."orders@v1"'), [[5]]);
    await assert.rejects(reader.run('SELECT * FROM shop."orders@999"'), /snapshot 999 does not exist/);
    // A table of the same name in another schema lacks that snapshot: reading shop's still works.
    await writer.run('CREATE TABLE archive.orders AS SELECT 1 AS id');
    assert.deepEqual(await query(reader, `SELECT count(*) FROM shop."orders@${first['snapshot-id']}"`), [
      [5],
    ]);
    await writer.run('DROP TABLE archive.orders');
  });

  test('read-only users cannot write or change engine state (SQLSTATE 42501)', async () => {
    for (const sql of [
      'INSERT INTO shop.orders VALUES (1, 1)',
      'DELETE FROM shop.orders',
      'CREATE TABLE shop.x AS SELECT 1',
      'DROP TABLE shop.orders',
      'CREATE TEMP TABLE t AS SELECT 1',
      "SET memory_limit = '100GB'",
      "COPY (SELECT 1) TO '/tmp/x.csv'",
      "ATTACH ':memory:' AS other",
    ]) {
      await assert.rejects(reader.run(sql), (err: unknown) => {
        assert.ok(err instanceof PermissionError, `${sql}: ${err}`);
        assert.equal(sqlStateOf(err), '42501');
        return true;
      });
    }
    assert.deepEqual(await query(reader, "SET search_path = 'shop'"), []);
    assert.equal((await query(reader, 'SELECT count(*) FROM orders'))[0]?.length, 1);
  });

  test('the lake is the only file system a server session reaches', async () => {
    await assert.rejects(writer.run("SELECT * FROM read_csv('/etc/passwd')"), (err: unknown) => {
      assert.equal(sqlStateOf(err), '42501');
      return true;
    });
  });

  test('parameters bind, and describe gives columns and parameter types without running', async () => {
    assert.deepEqual(await query(reader, 'SELECT $1::INTEGER + 1 AS n, $2 AS s', [41, 'x']), [[42, 'x']]);
    const shape = await reader.describe('SELECT id, amount FROM shop.orders WHERE id = $1::BIGINT');
    assert.deepEqual(
      shape.columns.map((c) => [c.name, c.type.toString()]),
      [
        ['id', 'BIGINT'],
        ['amount', 'BIGINT'],
      ],
    );
    assert.equal(shape.paramTypes.length, 1);
    await assert.rejects(reader.describe('DELETE FROM shop.orders'), PermissionError);
  });

  test('errors carry SQLSTATE and position', async () => {
    const cases: [string, string, number | undefined][] = [
      ['SELEC 1', '42601', 0],
      ['SELECT * FROM shop.nope', '42P01', 14],
      ['SELECT nope FROM shop.orders', '42703', 7],
    ];
    for (const [sql, state, position] of cases) {
      await assert.rejects(reader.run(sql), (err: unknown) => {
        assert.equal(sqlStateOf(err), state, sql);
        assert.equal((err as { position?: number }).position, position, sql);
        return true;
      });
    }
    await assert.rejects(reader.run('SELECT 1; SELECT 2'), /one SQL statement/);
  });

  test('a statement over its timeout is cancelled with SQLSTATE 57014, and the session goes on', async () => {
    const slow = 'SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b';
    await assert.rejects(reader.run(slow, { timeoutMs: 200 }).then(rowsOf), (err: unknown) => {
      assert.equal(sqlStateOf(err), '57014');
      assert.match(String(err), /statement timeout of 200 ms/);
      return true;
    });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(
      reader.run(slow, { signal: ac.signal }).then(rowsOf),
      (err: unknown) => sqlStateOf(err) === '57014',
    );
    assert.deepEqual(await query(reader, 'SELECT 42'), [[42]]);
  });

  test('statements beyond the concurrency limit queue, and fail clearly when the queue is full', async () => {
    const sessions = await Promise.all(
      Array.from({ length: 6 }, () => engine.openSession({ name: 'x', readOnly: true })),
    );
    const slow = 'SELECT sum(a.range * b.range) FROM range(100000) a, range(100000) b';
    const ac = new AbortController();
    const runs = sessions.map((s) => s.run(slow, { signal: ac.signal }).then(rowsOf));
    const settled = await Promise.allSettled(runs.slice(5));
    assert.equal(settled[0]?.status, 'rejected');
    assert.equal(sqlStateOf((settled[0] as PromiseRejectedResult).reason), '53000');
    ac.abort();
    await Promise.allSettled(runs);
    await Promise.all(sessions.map((s) => s.close()));
    assert.deepEqual(await query(reader, 'SELECT 1'), [[1]]);
  });
});

describe('SQL engine memory limit', () => {
  test('a query over the memory limit fails with SQLSTATE 53200, not a crash', async () => {
    const p = await testProject();
    const engine = await openEngine(p.runtime, { memoryLimitBytes: 64 * 1024 * 1024 });
    try {
      const s = await engine.openSession({ name: 'r', readOnly: true });
      await assert.rejects(
        s.run('SELECT max(len(l)) FROM (SELECT list(i) AS l FROM range(30000000) t(i))').then(rowsOf),
        (err: unknown) => {
          assert.equal(sqlStateOf(err), '53200', String(err));
          return true;
        },
      );
      assert.deepEqual(await query(s, 'SELECT 7'), [[7]]);
    } finally {
      await engine.close();
      await p.remove();
    }
  });
});

describe('SQL engine: tables a statement does not name', () => {
  let p: TestProject;
  const broken = { namespace: ['shop'], name: 'broken' };
  const columnsSql =
    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'broken' ORDER BY ordinal_position";

  before(async () => {
    p = await testProject();
  });
  after(async () => {
    await p?.remove();
  });

  /** Run `sql` in a new engine, whose views are all built by that statement. */
  async function fresh(sql: string): Promise<unknown[][]> {
    const engine = await openEngine(p.runtime);
    try {
      return await query(await engine.openSession({ name: 'r', readOnly: true }), sql);
    } finally {
      await engine.close();
    }
  }

  /**
   * Run `sql` in an engine of a new runtime, as a restarted server would: a process remembers
   * the metadata files it committed (they never change), so damage done to one afterwards is
   * seen by the next process.
   */
  async function restarted(sql: string): Promise<unknown[][]> {
    const runtime = await openRuntime(
      await loadProject(p.dir),
      createLogger({ level: 'silent', stderr: false }),
    );
    try {
      const engine = await openEngine(runtime);
      try {
        return await query(await engine.openSession({ name: 'r', readOnly: true }), sql);
      } finally {
        await engine.close();
      }
    } finally {
      await runtime.close();
    }
  }

  /** Replace the metadata file at `location` by `change` of its JSON. */
  async function editMetadata(
    location: string,
    change: (md: Record<string, unknown>) => void,
  ): Promise<void> {
    const key = keyForLocation(p.runtime.store, location);
    const md = JSON.parse((await p.runtime.store.getBytes(key)).toString('utf8'));
    change(md);
    await p.runtime.store.put(key, Buffer.from(JSON.stringify(md)));
  }

  test('show the columns of the current schema, as when named; a broken metadata file errors naming it', async () => {
    const engine = await openEngine(p.runtime);
    const writer = await engine.openSession({ name: 'w', readOnly: false });
    await writer.run(
      "CREATE TABLE shop.broken AS SELECT 1 AS id, 'a' AS name, [1, 2] AS xs, {'a': 1.5::DECIMAL(9,2), 'b': DATE '2024-01-02'} AS s, MAP {'k': 1} AS m",
    );
    // Named by the statement: the view is built from the fully validated metadata.
    await query(writer, 'SELECT count(*) FROM shop.broken');
    const named = await query(writer, columnsSql);
    await engine.close();
    assert.equal(named.length, 5);
    // Not named: a placeholder view with the same columns, built without the full validation.
    assert.deepEqual(await fresh(columnsSql), named);

    // A problem outside the current schema: statements naming the table fail with the file's name.
    const location = (await p.catalog.loadTable(broken)).metadataLocation;
    await editMetadata(location, (md) => {
      md['last-sequence-number'] = 'x';
    });
    assert.deepEqual(await restarted('SELECT 1'), [[1]]);
    await assert.rejects(restarted('SELECT count(*) FROM shop.broken'), (err: Error) => {
      assert.match(err.message, new RegExp(`metadata file ${location}: invalid table metadata`));
      assert.match(err.message, /last-sequence-number/);
      return true;
    });
    await assert.rejects(restarted('SELECT * FROM shop."broken@main"'), /invalid table metadata/);

    // A problem in the current schema: every statement fails, naming the file.
    await editMetadata(location, (md) => {
      md['last-sequence-number'] = 1;
      const schema = (md.schemas as { fields: { type: unknown }[] }[])[0];
      if (schema?.fields[0]) schema.fields[0].type = 'no-such-type';
    });
    await assert.rejects(
      restarted('SELECT 1'),
      new RegExp(`metadata file ${location}: invalid table metadata`),
    );
  });
});
