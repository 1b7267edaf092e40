import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import postgres from 'postgres';
import { startTestServer, type TestServer } from './harness.js';

describe('postgres (porsager) against the wire server', () => {
  let t: TestServer;
  let sql: postgres.Sql;
  before(async () => {
    t = await startTestServer();
    sql = postgres(t.url('writer', 'w-secret'), { max: 4, onnotice: () => {} });
  });
  after(async () => {
    await sql?.end({ timeout: 5 });
    await t?.close();
  });

  test('tagged-template parameters run as prepared statements', async () => {
    for (const id of [1, 2, 3, 1]) {
      const rows = await sql`SELECT id, customer FROM shop.orders WHERE id = ${id}`;
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.id, id);
    }
    const [row] =
      await sql`SELECT ${'text'}::VARCHAR AS t, ${42}::INTEGER AS i, ${true}::BOOLEAN AS b, ${null}::INTEGER AS n`;
    assert.deepEqual({ ...row }, { t: 'text', i: 42, b: true, n: null });
  });

  test('types arrive parsed (dates, arrays, json, bytea)', async () => {
    const [row] = await sql`SELECT DATE '2024-05-06' AS d, TIMESTAMPTZ '2024-05-06 07:08:09+00' AS tz,
      [1, 2, 3]::INTEGER[] AS ia, ['a', 'b,c']::VARCHAR[] AS ta, '{"k": true}'::JSON AS j, '\\x01\\x02'::BLOB AS by`;
    assert.ok(row);
    assert.equal((row.tz as Date).toISOString(), '2024-05-06T07:08:09.000Z');
    assert.deepEqual(row?.ia, [1, 2, 3]);
    assert.deepEqual(row?.ta, ['a', 'b,c']);
    assert.deepEqual(row?.j, { k: true });
    assert.deepEqual(row?.by, Buffer.from([1, 2]));
  });

  test('cursors read a large result in slices (Execute with a row limit)', async () => {
    let rows = 0;
    let slices = 0;
    let sum = 0n;
    for await (const slice of sql`SELECT i FROM range(50000) t(i)`.cursor(1000)) {
      slices++;
      rows += slice.length;
      for (const r of slice) sum += BigInt(r.i as string);
    }
    assert.equal(rows, 50000);
    assert.equal(slices, 50);
    assert.equal(sum, (49999n * 50000n) / 2n);
    const [after] = await sql`SELECT 7 AS seven`;
    assert.equal(after?.seven, 7);
  });

  test('concurrent queries over a pool of connections', async () => {
    const results = await Promise.all(
      Array.from(
        { length: 12 },
        (_, i) =>
          sql`SELECT ${i}::INTEGER AS n, count(*)::INTEGER AS c FROM range(${1000 * (i + 1)}::BIGINT)`,
      ),
    );
    assert.deepEqual(
      results.map((r) => [r[0]?.n, r[0]?.c]),
      Array.from({ length: 12 }, (_, i) => [i, 1000 * (i + 1)]),
    );
  });

  test('errors carry SQLSTATE codes', async () => {
    const err = (await sql`SELECT * FROM shop.missing`.catch((e: unknown) => e)) as { code?: string };
    assert.equal(err.code, '42P01');
    const untyped = (await sql`SELECT count(*) FROM range(${5})`.catch((e: unknown) => e)) as {
      code?: string;
    };
    assert.equal(untyped.code, '42883', 'an untyped parameter of an overloaded function needs a cast');
    const unsafe = (await sql.unsafe('SELECT 1; SELEKT 2').catch((e: unknown) => e)) as { code?: string };
    assert.equal(unsafe.code, '42601');
  });
});
