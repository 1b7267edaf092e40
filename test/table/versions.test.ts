import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openTable, type Table } from '../../src/table/index.js';
import { InvalidInputError, NotFoundError } from '../../src/util/index.js';
import { type Env, openEnv, schemaOf } from './table-helpers.js';

describe('time travel, rollback and schema evolution', () => {
  let env: Env;
  let table: Table;
  const id = { namespace: ['hr'], name: 'people' };
  const count = async (t: Table, o = {}) => {
    const [r] = await env.duck.all<{ n: bigint }>(
      `SELECT count(*) AS n FROM (${t.scanSql(await t.planScan(o))})`,
    );
    return Number(r?.n);
  };

  before(async () => {
    env = await openEnv();
    await env.catalog.createTable(
      id,
      schemaOf([
        ['id', 'int', true],
        ['name', 'string'],
        ['age', 'int'],
        ['score', 'float'],
      ]),
    );
    table = await openTable(env.catalog, env.store, env.duck, id);
  });
  after(() => env.close());

  test('snapshots by id, time and tag; rollback', async () => {
    const s1 = (
      await table.append(
        `SELECT i::INTEGER AS id, 'p' || i AS name, 20 + i % 30 AS age, i / 4 AS score FROM range(100) t(i)`,
      )
    ).snapshot;
    await sleep(5);
    const between = Date.now();
    await sleep(5);
    const s2 = (
      await table.append(
        `SELECT (100 + i)::INTEGER AS id, 'q' || i AS name, 30 AS age, 1.5 AS score FROM range(50) t(i)`,
      )
    ).snapshot;
    await table.createTag('v1', s1['snapshot-id']);
    assert.equal(await count(table), 150);
    assert.equal(await count(table, { snapshotId: s1['snapshot-id'] }), 100);
    assert.equal(await count(table, { asOfMs: between }), 100);
    assert.equal(await count(table, { ref: 'v1' }), 100);
    assert.equal(await count(table, { ref: 'main' }), 150);
    await assert.rejects(table.planScan({ snapshotId: 42n }), NotFoundError);
    await assert.rejects(table.planScan({ ref: 'nope' }), NotFoundError);
    await assert.rejects(table.planScan({ asOfMs: 1000 }), NotFoundError);
    await table.rollbackTo(s1['snapshot-id']);
    assert.equal(await count(table), 100);
    assert.equal(table.currentSnapshot()?.['snapshot-id'], s1['snapshot-id']);
    assert.ok(
      table.snapshots().some((s) => s['snapshot-id'] === s2['snapshot-id']),
      'later snapshot kept',
    );
    const s3 = (
      await table.append(
        `SELECT (200 + i)::INTEGER AS id, 'r' AS name, 40 AS age, 2.5 AS score FROM range(10) t(i)`,
      )
    ).snapshot;
    assert.equal(s3['parent-snapshot-id'], s1['snapshot-id']);
    assert.equal(await count(table), 110);
  });

  test('rename, drop, add and widen read old files correctly', async () => {
    await table.evolveSchema([
      { op: 'rename-column', name: 'name', newName: 'full_name' },
      { op: 'drop-column', name: 'score' },
      { op: 'add-column', name: 'email', type: 'string' },
      { op: 'update-type', name: 'age', type: 'long' },
      { op: 'update-type', name: 'id', type: 'long' },
    ]);
    await table.append(`SELECT 1000 AS id, 'new person' AS full_name, 5000000000 AS age, 'a@b.c' AS email`);
    const rows = await env.duck.all<{ id: bigint; full_name: string; age: bigint; email: string | null }>(
      `SELECT * FROM (${table.scanSql(await table.planScan({ filter: 'id IN (3, 1000)' }))}) ORDER BY id`,
    );
    assert.deepEqual(rows, [
      { id: 3n, full_name: 'p3', age: 23n, email: null },
      { id: 1000n, full_name: 'new person', age: 5000000000n, email: 'a@b.c' },
    ]);
    const cols = await env.duck.all(`DESCRIBE ${table.scanSql(await table.planScan())}`);
    assert.deepEqual(
      cols.map((c) => c.column_name),
      ['id', 'full_name', 'age', 'email'],
    );
    const old = await env.duck.all<{ name: string; score: number }>(
      `SELECT name, score FROM (${table.scanSql(await table.planScan({ ref: 'v1', filter: 'id = 8' }))})`,
    );
    assert.deepEqual(old, [{ name: 'p8', score: 2 }], 'a tagged snapshot reads with its own schema');
    const pruned = await table.planScan({ filter: 'age > 4000000000' });
    assert.equal(pruned.files.length, 1, 'bounds written as int still prune a long column');
  });

  test('illegal schema changes and bad filters are refused clearly', async () => {
    await assert.rejects(
      table.evolveSchema([{ op: 'update-type', name: 'full_name', type: 'int' }]),
      InvalidInputError,
    );
    await assert.rejects(
      table.evolveSchema([{ op: 'update-type', name: 'age', type: 'int' }]),
      InvalidInputError,
    );
    await assert.rejects(table.planScan({ filter: 'nope = 1' }), (err: Error) => {
      assert.ok(err instanceof InvalidInputError);
      assert.match(err.message, /nope/);
      return true;
    });
    await assert.rejects(table.delete('missing_col > 3'), /missing_col/);
  });

  test('bad rows are refused before anything is committed', async () => {
    const snaps = table.snapshots().length;
    const listData = async () => {
      const keys: string[] = [];
      for await (const o of env.store.list('hr/people/data/')) keys.push(o.key);
      return keys;
    };
    const before = await listData();
    await assert.rejects(table.append(`SELECT 'x' AS id, 'n' AS full_name`), (err: Error) => {
      assert.ok(err instanceof InvalidInputError);
      assert.match(err.message, /column "id" is long in the table, but the rows to write have VARCHAR/);
      return true;
    });
    await assert.rejects(table.append(`SELECT 'n' AS full_name`), /required column "id" is missing/);
    await assert.rejects(
      table.append(`SELECT 1 AS id, 2 AS extra`),
      /"extra" of the rows to write is not in the table schema/,
    );
    await assert.rejects(
      table.append(`SELECT CASE WHEN i = 3 THEN NULL ELSE i END AS id FROM range(10) t(i)`),
      /required column "id" has 1 NULL value/,
    );
    await table.refresh();
    assert.equal(table.snapshots().length, snaps);
    assert.deepEqual(await listData(), before, 'no data files left behind');
  });
});
