import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openTable, type Table } from '../../src/table/index.js';
import { InvalidInputError } from '../../src/util/index.js';
import { type Env, openEnv, schemaOf } from './table-helpers.js';

const N = 100000;

describe('upsert, delete, overwrite and change feeds', () => {
  let env: Env;
  let table: Table;
  const id = { namespace: ['shop'], name: 'orders' };
  const rows = async (sql: string) => env.duck.all(sql);
  const current = async (filter?: string) => table.scanSql(await table.planScan({ filter }));
  const livePaths = async () => new Set((await table.planScan()).files.map((f) => f.file.file_path));

  before(async () => {
    env = await openEnv();
    await env.catalog.createTable(
      id,
      schemaOf([
        ['id', 'long', true],
        ['status', 'string'],
        ['amount', 'long'],
      ]),
      { properties: { 'write.target-file-size-bytes': '20000' } },
    );
    table = await openTable(env.catalog, env.store, env.duck, id);
    await table.append(`SELECT i AS id, 'new' AS status, i * 10 AS amount FROM range(${N}) t(i) ORDER BY i`, {
      rowGroupSize: 1000,
    });
  });
  after(() => env.close());

  test('upsert of 1% of keys rewrites only the files holding them, without duplicates', async () => {
    const beforeFiles = await livePaths();
    assert.ok(beforeFiles.size >= 8, `need several files, got ${beforeFiles.size}`);
    const base = table.currentSnapshot()!['snapshot-id'];
    const incoming = `SELECT id, 'paid' AS status, id * 10 + 1 AS amount FROM range(5000, 6000) t(id)
      UNION ALL SELECT id, 'new' AS status, id * 10 AS amount FROM range(6000, 6010) t(id)
      UNION ALL SELECT id, 'new' AS status, 0 AS amount FROM range(${N}, ${N + 50}) t(id)`;
    const r = await table.upsert(incoming, { key: ['id'] });
    assert.equal(r.snapshot.summary.operation, 'overwrite');
    const afterFiles = await livePaths();
    const untouched = [...beforeFiles].filter((p) => afterFiles.has(p));
    assert.ok(r.removedFiles >= 1 && r.removedFiles <= 2, `rewrote ${r.removedFiles} files`);
    assert.equal(untouched.length, beforeFiles.size - r.removedFiles, 'all other files kept');
    const [c] = await rows(
      `SELECT count(*) AS n, count(DISTINCT id) AS d, count(*) FILTER (WHERE status = 'paid') AS paid FROM (${await current()})`,
    );
    assert.deepEqual(c, { n: BigInt(N + 50), d: BigInt(N + 50), paid: 1000n });
    const feed = await table.changesBetween(base, undefined, { key: ['id'] });
    const changes = await rows(
      `SELECT _change_type AS t, count(*) AS n, min(id) AS lo, max(id) AS hi FROM (${feed.sql}) GROUP BY ALL ORDER BY t`,
    );
    assert.deepEqual(changes, [
      { t: 'insert', n: 50n, lo: BigInt(N), hi: BigInt(N + 49) },
      { t: 'update_after', n: 1000n, lo: 5000n, hi: 5999n },
      { t: 'update_before', n: 1000n, lo: 5000n, hi: 5999n },
    ]);
    const pair = await rows(
      `SELECT _change_type AS t, status, amount FROM (${feed.sql}) WHERE id = 5001 ORDER BY t`,
    );
    assert.deepEqual(pair, [
      { t: 'update_after', status: 'paid', amount: 50011n },
      { t: 'update_before', status: 'new', amount: 50010n },
    ]);
  });

  test('duplicate keys in the input: the last row wins; NULL keys are refused', async () => {
    await table.upsert(`SELECT * FROM (VALUES (7, 'a', 1), (7, 'b', 2), (7, 'c', 3)) v(id, status, amount)`, {
      key: ['id'],
    });
    assert.deepEqual(await rows(`SELECT status, amount FROM (${await current('id = 7')})`), [
      { status: 'c', amount: 3n },
    ]);
    await assert.rejects(
      table.upsert(`SELECT NULL::BIGINT AS id, 'x' AS status`, { key: ['status'] }),
      InvalidInputError,
    );
    await assert.rejects(table.upsert(`SELECT 1 AS id`, { key: ['nope'] }), /unknown key column "nope"/);
  });

  test('delete: whole files dropped by their bounds, partial files rewritten', async () => {
    const bounds = (await table.planScan({ filter: 'id = 30000' })).files.map((f) => ({
      lo: Buffer.from(f.file.lower_bounds!.get(1)!).readBigInt64LE(0),
      hi: Buffer.from(f.file.upper_bounds!.get(1)!).readBigInt64LE(0),
    }));
    const { lo, hi } = bounds.sort((a, b) => Number(a.hi - a.lo - (b.hi - b.lo)))[0]!;
    const whole = await table.delete(`id >= ${lo} AND id <= ${hi}`);
    assert.equal(whole.snapshot.summary.operation, 'delete');
    assert.ok(whole.removedFiles >= 1);
    assert.equal(whole.addedFiles, 0, 'no rewrite for files wholly deleted');
    const part = await table.delete("id BETWEEN 72000 AND 72010 OR status = 'nothing'");
    assert.equal(part.snapshot.summary.operation, 'overwrite');
    assert.equal(part.removedFiles, 1);
    assert.equal(part.addedFiles, 1);
    assert.equal(part.removedRecords - part.addedRecords, 11);
    const [c] = await rows(
      `SELECT count(*) FILTER (WHERE id BETWEEN 72000 AND 72010) AS gone, count(*) FILTER (WHERE id BETWEEN ${lo} AND ${hi}) AS gone2, count(*) AS n FROM (${await current()})`,
    );
    assert.equal(c?.gone, 0n);
    assert.equal(c?.gone2, 0n);
    const feed = await table.changesBetween(whole.snapshot['parent-snapshot-id']!, undefined, {
      key: ['id'],
    });
    const [d] = await rows(
      `SELECT count(*) FILTER (WHERE _change_type = 'delete') AS del, count(*) AS n FROM (${feed.sql})`,
    );
    assert.equal(d?.del, d?.n);
    assert.equal(Number(d?.del), Number(hi - lo) + 1 + 11);
    const none = await table.delete('id < 0');
    assert.equal(none.removedFiles, 0);
  });

  test('overwrite by filter replaces matching rows in one snapshot', async () => {
    const r = await table.overwrite(`SELECT id, 'archived' AS status, 0 AS amount FROM range(0, 100) t(id)`, {
      where: 'id < 100',
    });
    assert.equal(r.snapshot.summary.operation, 'overwrite');
    const [c] = await rows(
      `SELECT count(*) AS n, count(*) FILTER (WHERE status = 'archived') AS a, count(DISTINCT id) AS d FROM (${await current()})`,
    );
    assert.equal(c?.a, 100n);
    assert.equal(c?.n, c?.d);
    assert.equal(table.currentSnapshot()?.summary['total-records'], String(c?.n));
  });

  test('appendedBetween lists appended files and skips other operations', async () => {
    const snaps = table.snapshots();
    const first = snaps[0]!['snapshot-id'];
    await table.append(`SELECT ${N + 1000} AS id, 'late' AS status, 1 AS amount`);
    const a = await table.appendedBetween(first);
    assert.equal(a.files.length, 1);
    assert.equal(a.files[0]?.file.record_count, 1);
    assert.ok(a.skipped.length >= 4);
    const all = await table.appendedBetween(null);
    assert.ok(all.files.length > 8);
  });
});
