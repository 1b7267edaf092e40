import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { listRawObjects } from '../../src/ingest/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { type S3Fixture, useS3 } from '../helpers/s3.js';
import { type IngestEnv, openIngestEnv, plainRows, runSpec, tableRows } from './helpers.js';
import { type MockApi, makeRecords, startMockApi } from './mock-api.js';

let db: TestDatabase;
let s3: S3Fixture;
let env: IngestEnv;
let api: MockApi;

before(async () => {
  db = await createTestDatabase();
  s3 = await useS3();
  const storage = s3.storage('warehouse');
  env = await openIngestEnv(
    `name: scaled\nmetastore: { url: "${db.url}" }\nstorage:\n${Object.entries(storage)
      .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
      .join('\n')}\n`,
  );
  api = await startMockApi({ records: makeRecords(120, { badEvery: 40 }), faults: { 'page:1': ['500'] } });
});
after(async () => {
  await api?.close();
  await env?.close();
  await db?.drop();
  await s3?.stop();
});

test('on a PostgreSQL metastore and S3 storage: raw zone in S3, ledger in PostgreSQL, exactly the rows', async () => {
  const spec = {
    source: {
      http: {
        url: `${api.url}/v1/page`,
        records: 'data.items',
        paginate: { style: 'page', size_param: 'per_page', size: 25 },
        retry: { max_attempts: 3, initial: 5, max: 50 },
      },
    },
    sink: { table: 'lake.items', schema: { amount: 'double' } },
    batch: { max_objects: 2 },
  };
  const summary = await runSpec(env, spec, { taskId: 'scaled' });
  assert.equal(summary.written, 117);
  assert.equal(summary.quarantined, 3);
  const rows = plainRows(await tableRows(env.runtime, 'lake.items', 'id'));
  assert.equal(rows.length, 117);
  const ledger = await listRawObjects(env.runtime.meta, { task: 'p.scaled' });
  assert.equal(ledger.length, 5);
  for (const o of ledger) assert.ok(await env.runtime.store.head(o.id), `${o.id} is in S3`);
  assert.ok(env.runtime.store.url.startsWith('s3://'));
});
