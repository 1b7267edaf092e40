import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Duck, openDuck, QueryCancelledError, QueryError } from '../../src/duck/index.js';
import { BUCKET_UDFS } from '../../src/table/index.js';

describe('DuckDB pool', () => {
  let duck: Duck;
  before(async () => {
    duck = await openDuck({ threads: 2, memoryLimit: '512MB', maxConnections: 2 });
  });
  after(() => duck.close());

  test('rows come back as plain objects; parameters bind', async () => {
    const rows = await duck.all<{ n: bigint; s: string; d: number }>(
      'SELECT 42::BIGINT AS n, $1 AS s, 1.5::DOUBLE AS d',
      ['x'],
    );
    assert.deepEqual(rows, [{ n: 42n, s: 'x', d: 1.5 }]);
    const [limits] = await duck.all<{ m: string; tz: string }>(
      "SELECT current_setting('memory_limit') AS m, current_setting('TimeZone') AS tz",
    );
    assert.match(String(limits?.m), /MiB|GiB/);
    assert.equal(limits?.tz, 'UTC');
  });

  test('large results stream in batches', async () => {
    let rows = 0;
    let batches = 0;
    for await (const batch of duck.stream<{ i: bigint }>('SELECT i FROM range(100000) t(i)')) {
      rows += batch.length;
      batches++;
    }
    assert.equal(rows, 100000);
    assert.ok(batches > 10);
  });

  test('connections are reused and bounded; temp tables live for one withConnection', async () => {
    let active = 0;
    let peak = 0;
    const conns = new Set<unknown>();
    await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) =>
        duck.withConnection(async (c) => {
          active++;
          peak = Math.max(peak, active);
          conns.add(c.raw);
          await c.run(`CREATE TEMP TABLE t${n} AS SELECT ${n} AS v`);
          const [r] = await c.all<{ v: number }>(`SELECT v FROM t${n}`);
          assert.equal(r?.v, n);
          await c.run(`DROP TABLE t${n}`);
          active--;
        }),
      ),
    );
    assert.ok(peak <= 2, `at most 2 connections at once, saw ${peak}`);
    assert.ok(conns.size <= 2, 'connections are reused');
  });

  test('the bucket UDFs are registered on every connection', async () => {
    const udf = BUCKET_UDFS.find((u) => u.name === 'iceberg_bucket_long')!;
    const results = await Promise.all(
      [1, 2, 3].map(() => duck.all<{ b: number }>('SELECT iceberg_bucket_long(34, 16) AS b')),
    );
    for (const [r] of results) assert.equal(r?.b, udf.compute(34n, 16));
    const [s] = await duck.all<{ b: number }>("SELECT iceberg_bucket_string('iceberg', 16) AS b");
    assert.equal(s?.b, BUCKET_UDFS.find((u) => u.name === 'iceberg_bucket_string')!.compute('iceberg', 16));
  });

  test('the columns of a query come from binding it, as DESCRIBE reports them', async () => {
    const sql = `SELECT 1::INTEGER AS i, 1.5::DECIMAL(38,6) AS d, TIMESTAMPTZ '2024-01-01' AS ts, [1, 2] AS xs,
      {'a b': [DATE '2024-01-02']} AS s, MAP {'k': 1.5::DOUBLE} AS m, gen_random_uuid() AS u, 'x'::BLOB AS b
      FROM range(3)`;
    const bound = await duck.withConnection((c) => c.columns(sql));
    const described = await duck.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sql}`);
    assert.deepEqual(
      bound?.map((c) => c.name),
      described.map((r) => r.column_name),
    );
    // Same types; DuckDB's type printer may quote struct field names where DESCRIBE does not.
    assert.deepEqual(
      bound?.map((c) => c.type.replaceAll('"', '')),
      described.map((r) => r.column_type.replaceAll('"', '')),
    );
    assert.equal(await duck.withConnection((c) => c.columns('CREATE TEMP TABLE t AS SELECT 1')), undefined);
    await assert.rejects(
      duck.withConnection((c) => c.columns('SELECT nope FROM range(3)')),
      (err: Error) => err instanceof QueryError && /nope/.test(err.message),
    );
  });

  test('errors carry DuckDB message and the first SQL line', async () => {
    await assert.rejects(duck.all('SELECT nope\nFROM range(3)'), (err: Error) => {
      assert.ok(err instanceof QueryError);
      assert.match(err.message, /nope/);
      assert.match(err.message, /in: SELECT nope$/m);
      return true;
    });
  });

  test('an AbortSignal interrupts a running query; the pool keeps working', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const started = Date.now();
    await assert.rejects(
      duck.all('SELECT count(*) FROM range(100000000000) a', undefined, { signal: ac.signal }),
      QueryCancelledError,
    );
    assert.ok(Date.now() - started < 5000);
    const [r] = await duck.all<{ x: number }>('SELECT 1 AS x');
    assert.equal(r?.x, 1);
  });
});
