import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startTestServer, type TestServer } from './harness.js';

describe('node-postgres against the wire server', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await t?.close();
  });

  async function withClient<T>(
    fn: (c: pg.Client) => Promise<T>,
    user = 'sluice',
    password?: string,
  ): Promise<T> {
    const client = new pg.Client({ connectionString: t.url(user, password) });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  test('parameterised queries bind text parameters to typed columns', async () => {
    await withClient(async (c) => {
      const r = await c.query(
        'SELECT id, customer, amount FROM shop.orders WHERE id >= $1 AND customer = $2',
        [1, 'bob'],
      );
      assert.deepEqual(r.rows, [{ id: 2, customer: 'bob', amount: '7.25' }]);
      assert.equal(r.fields[0]?.dataTypeID, 23);
      assert.equal(r.fields[2]?.dataTypeID, 1700);
      const nulls = await c.query('SELECT $1::INTEGER IS NULL AS is_null', [null]);
      assert.deepEqual(nulls.rows, [{ is_null: true }]);
    });
  });

  test('named prepared statements are reused across executions', async () => {
    await withClient(async (c) => {
      const q = { name: 'order-by-id', text: 'SELECT customer FROM shop.orders WHERE id = $1' };
      const a = await c.query({ ...q, values: [1] });
      const b = await c.query({ ...q, values: [2] });
      assert.deepEqual([a.rows[0]?.customer, b.rows[0]?.customer], ['ada', 'bob']);
      await assert.rejects(
        c.query({ name: 'order-by-id', text: 'SELECT 1', values: [] }),
        /already exists|Prepared statements must be unique/,
      );
    });
  });

  test('text results carry PostgreSQL type OIDs and parse into JS types', async () => {
    await withClient(async (c) => {
      const r = await c.query(`SELECT 1::SMALLINT AS i2, 2::INTEGER AS i4, 3::BIGINT AS i8, 1.1::FLOAT AS f4,
        2.25::DOUBLE AS f8, 12.345::DECIMAL(8,3) AS n, true AS b, 'x'::VARCHAR AS t, DATE '2024-05-06' AS d,
        TIME '01:02:03' AS tm, TIMESTAMP '2024-05-06 07:08:09.5' AS ts, TIMESTAMPTZ '2024-05-06 07:08:09+00' AS tz,
        INTERVAL '1 year 2 months 3 days 04:05:06' AS iv, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS u,
        '\\xDE\\xAD'::BLOB AS by, '{"a":[1,2]}'::JSON AS j, [1, 2, NULL]::INTEGER[] AS ia, ['x', 'y z']::VARCHAR[] AS ta`);
      const oids = Object.fromEntries(r.fields.map((f) => [f.name, f.dataTypeID]));
      assert.deepEqual(oids, {
        i2: 21,
        i4: 23,
        i8: 20,
        f4: 700,
        f8: 701,
        n: 1700,
        b: 16,
        t: 25,
        d: 1082,
        tm: 1083,
        ts: 1114,
        tz: 1184,
        iv: 1186,
        u: 2950,
        by: 17,
        j: 114,
        ia: 1007,
        ta: 1009,
      });
      const row = r.rows[0];
      assert.equal(row.i8, '3');
      assert.equal(row.f4, 1.1, 'float4 is printed with the digits it has');
      assert.equal(row.n, '12.345');
      assert.equal(row.tz.toISOString(), '2024-05-06T07:08:09.000Z');
      assert.deepEqual({ ...row.iv }, { years: 1, months: 2, days: 3, hours: 4, minutes: 5, seconds: 6 });
      assert.deepEqual(row.by, Buffer.from([0xde, 0xad]));
      assert.deepEqual(row.j, { a: [1, 2] });
      assert.deepEqual(row.ia, [1, 2, null]);
      assert.deepEqual(row.ta, ['x', 'y z']);
    });
  });

  test('large results stream in full and writes report row counts', async () => {
    await withClient(async (c) => {
      const r = await c.query("SELECT i, repeat('x', 50) AS pad FROM range(200000) t(i)");
      assert.equal(r.rowCount, 200000);
      assert.equal(r.rows[199999].i, '199999');
      const ins = await c.query(
        'INSERT INTO shop.orders VALUES ($1, $2, 1, NULL, NULL), (11, NULL, 2, NULL, NULL)',
        [10, 'x'],
      );
      assert.equal(ins.command, 'INSERT');
      assert.equal(ins.rowCount, 2);
      const del = await c.query('DELETE FROM shop.orders WHERE id >= 10');
      assert.equal(del.rowCount, 2);
    });
  });

  test('errors have SQLSTATE codes and do not break the connection', async () => {
    await withClient(async (c) => {
      const err = (await c.query('SELECT nope FROM shop.orders').catch((e: unknown) => e)) as {
        code?: string;
      };
      assert.equal(err.code, '42703');
      const parse = (await c.query('SELECT $1::INTEGER', ['abc']).catch((e: unknown) => e)) as {
        code?: string;
      };
      assert.equal(parse.code, '22P02');
      const r = await c.query('SELECT 1 AS one');
      assert.equal(r.rows[0].one, 1);
    });
  });

  test('statement_timeout set by the client limits its statements (57014)', async () => {
    await withClient(async (c) => {
      await c.query("SET statement_timeout = '300ms'");
      const err = (await c
        .query('SELECT count(*) FROM range(100000000) a, range(100000000) b')
        .catch((e: unknown) => e)) as {
        code?: string;
      };
      assert.equal(err.code, '57014');
      await c.query('SET statement_timeout = 0');
      assert.equal((await c.query('SELECT 1 AS x')).rows[0].x, 1);
    });
  });

  test('a read-only user cannot write (42501) but can read', async () => {
    await withClient(
      async (c) => {
        const err = (await c.query('DELETE FROM shop.orders').catch((e: unknown) => e)) as { code?: string };
        assert.equal(err.code, '42501');
        const r = await c.query('SELECT count(*)::INTEGER AS n FROM shop.orders');
        assert.equal(r.rows[0].n, 3);
      },
      'analyst',
      'a-secret',
    );
  });

  test('concurrent connections each get their own session', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        withClient(async (c) => {
          await c.query(`SET search_path TO ${i % 2 ? 'shop' : 'clicks'}`);
          const r = await c.query(
            `SELECT ${i} AS n, count(*)::INTEGER AS rows FROM ${i % 2 ? 'orders' : 'events'}`,
          );
          return r.rows[0];
        }),
      ),
    );
    assert.deepEqual(
      results.map((r) => [r.n, r.rows]),
      Array.from({ length: 8 }, (_, i) => [i, i % 2 ? 3 : 1]),
    );
  });

  test('SCRAM-SHA-256 accepts the right password and refuses others', async () => {
    const ok = await withClient(
      async (c) => (await c.query('SELECT 1 AS x')).rows[0].x,
      'writer',
      'w-secret',
    );
    assert.equal(ok, 1);
    await assert.rejects(
      withClient(async () => 0, 'writer', 'nope'),
      (e: { code?: string }) => e.code === '28P01',
    );
    await assert.rejects(
      withClient(async () => 0, 'mallory', 'x'),
      (e: { code?: string }) => e.code === '28P01',
    );
  });
});
