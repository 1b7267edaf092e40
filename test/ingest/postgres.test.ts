import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { type IngestEnv, openIngestEnv, plainRows, runSpec, tableRows } from './helpers.js';
import { makeRecords, startMockApi } from './mock-api.js';

let env: IngestEnv;
let db: TestDatabase;
let client: pg.Client;

before(async () => {
  env = await openIngestEnv();
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query(
    `CREATE TABLE orders (id bigint PRIMARY KEY, status text, amount numeric(10,2), updated_at timestamptz NOT NULL)`,
  );
  await client.query(
    `INSERT INTO orders SELECT i, 'new', i * 1.25, timestamptz '2024-01-01 00:00:00+00' + make_interval(mins => i) FROM generate_series(1, 1234) i`,
  );
});
after(async () => {
  await client.end();
  await db.drop();
  await env.close();
});

test('PostgreSQL: chunked snapshot, then incremental by cursor column', async () => {
  const spec = {
    source: {
      postgres: { url: db.url, table: 'public.orders', key: 'id', cursor: 'updated_at', chunk_rows: 100 },
    },
    sink: { table: 'pg.orders', mode: 'upsert', key: ['id'] },
  };
  const first = await runSpec(env, spec, { taskId: 'orders' });
  assert.equal(first.written, 1234);
  assert.equal(first.objects, 13);
  await client.query(
    `UPDATE orders SET status = 'paid', updated_at = timestamptz '2025-01-01 00:00:00+00' WHERE id IN (7, 8)`,
  );
  await client.query(`INSERT INTO orders VALUES (2000, 'new', 1, timestamptz '2025-01-02 00:00:00+00')`);
  const second = await runSpec(env, spec, { taskId: 'orders' });
  assert.equal(second.written, 3);
  const rows = plainRows(await tableRows(env.runtime, 'pg.orders', 'id'));
  assert.equal(rows.length, 1235);
  assert.deepEqual(
    rows.filter((r) => r.status === 'paid').map((r) => r.id),
    [7, 8],
  );
  assert.equal(rows.at(-1)?.id, 2000);
  const third = await runSpec(env, spec, { taskId: 'orders' });
  assert.equal(third.written, 0);
});

test('reprocessing rebuilds the table from the raw zone without calling the source', async () => {
  const api = await startMockApi({ records: makeRecords(45) });
  const spec = {
    source: {
      http: {
        url: `${api.url}/v1/page`,
        records: 'data.items',
        params: { per_page: 10 },
        paginate: { style: 'page' },
      },
    },
    sink: { table: 'pg.replayed' },
  };
  try {
    await runSpec(env, spec, { taskId: 'replay' });
    const before = plainRows(await tableRows(env.runtime, 'pg.replayed', 'id'));
    const requests = api.requests;
    await api.close();
    const summary = await runSpec(env, spec, { taskId: 'replay', options: { reprocess: true } });
    assert.equal(api.requests, requests);
    assert.equal(summary.written, 45);
    assert.deepEqual(plainRows(await tableRows(env.runtime, 'pg.replayed', 'id')), before);
    await assert.rejects(
      runSpec(env, spec, { taskId: 'replay', options: { reprocess: true, from: '2024-01-01' } }),
      /cannot replay into an append table/,
    );
  } finally {
    await api.close();
  }
});
