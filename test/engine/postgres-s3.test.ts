import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Engine, openEngine, sqlStateOf } from '../../src/engine/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { type S3Fixture, useS3 } from '../helpers/s3.js';
import { query, type TestProject, testProject } from './helpers.js';

describe('SQL engine on PostgreSQL + S3', () => {
  let db: TestDatabase;
  let s3: S3Fixture;
  let p: TestProject;
  let engine: Engine;

  before(async () => {
    db = await createTestDatabase();
    s3 = await useS3();
    p = await testProject({ storage: s3.storage('lake'), metastore: { url: db.url } });
    engine = await openEngine(p.runtime);
  });
  after(async () => {
    await engine?.close();
    await p?.remove();
    await s3?.stop();
    await db?.drop();
  });

  test('writes and reads S3 tables through the read cache; commits of other sessions are seen', async () => {
    const w = await engine.openSession({ name: 'w', readOnly: false });
    const r = await engine.openSession({ name: 'r', readOnly: true });
    await w.run('CREATE TABLE sales.orders AS SELECT range AS id, range % 7 AS shop FROM range(1000)');
    const snapshot = (await query(r, 'SELECT count(*), count(DISTINCT shop) FROM sales.orders'))[0];
    assert.deepEqual(snapshot, [1000, 7]);
    await w.run('DELETE FROM sales.orders WHERE shop = 0');
    assert.deepEqual(await query(r, 'SELECT count(*) FROM sales.orders'), [[857]]);
    await w.run('INSERT INTO sales.orders SELECT 5000 + range, 1 FROM range(10)');
    assert.deepEqual(await query(r, 'SELECT count(*) FROM sales.orders'), [[867]]);
    // Data files were read from local copies in the read cache.
    const cacheDir = p.runtime.project.config.storage.cache.dir;
    const files = await readdir(cacheDir, { recursive: true });
    assert.ok(
      files.some((f) => String(f).endsWith('.parquet')),
      `no Parquet file in ${cacheDir}`,
    );
    // Cached copies that disappear (evicted, or removed by hand) are fetched again.
    for (const f of files) if (String(f).endsWith('.parquet')) await rm(join(cacheDir, String(f)));
    assert.deepEqual(await query(r, 'SELECT count(*) FROM sales.orders'), [[867]]);
    await assert.rejects(
      r.run('INSERT INTO sales.orders VALUES (1, 1)'),
      (err: unknown) => sqlStateOf(err) === '42501',
    );
    await w.close();
    await r.close();
  });
});
