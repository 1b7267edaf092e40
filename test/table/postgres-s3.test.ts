import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openTable, type Table } from '../../src/table/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { type S3Fixture, useS3 } from '../helpers/s3.js';
import { type CatalogEnv, openCatalogEnv, schemaOf } from './table-helpers.js';

describe('tables on PostgreSQL + S3', () => {
  let db: TestDatabase;
  let s3: S3Fixture;
  let env: CatalogEnv;
  let table: Table;
  const id = { namespace: ['lake'], name: 'orders' };
  const count = async (o = {}) => {
    const [r] = await env.duck.all<{ n: bigint; d: bigint }>(
      `SELECT count(*) AS n, count(DISTINCT id) AS d FROM (${table.scanSql(await table.planScan(o))})`,
    );
    assert.equal(r?.n, r?.d);
    return Number(r?.n);
  };

  before(async () => {
    db = await createTestDatabase();
    s3 = await useS3();
    env = await openCatalogEnv({ metaUrl: db.url, storage: s3.storage('warehouse') });
    await env.catalog.createNamespace(['lake']);
    await env.catalog.createTable(id, {
      schema: {
        ...schemaOf([
          ['id', 'long', true],
          ['day', 'date'],
          ['amount', 'long'],
        ]),
        'schema-id': 0,
      },
      partitionSpec: {
        'spec-id': 0,
        fields: [{ 'source-id': 2, 'field-id': 1000, name: 'day', transform: 'identity' }],
      },
    });
    table = await openTable(env.catalog, env.store, env.duck, id);
  });
  after(async () => {
    await env?.close();
    await s3?.stop();
    await db?.drop();
  });

  test('append, upsert, delete, time travel, compaction, expiry and orphan removal', async () => {
    const first = await table.append(
      `SELECT i AS id, DATE '2024-06-01' + (i % 5)::INTEGER AS day, i AS amount FROM range(1000) t(i)`,
    );
    assert.match(first.snapshot['manifest-list'], /^s3:\/\//);
    assert.equal(await count(), 1000);
    await table.upsert(
      `SELECT i AS id, DATE '2024-06-01' + (i % 5)::INTEGER AS day, -i AS amount FROM range(990, 1010) t(i)`,
      { key: ['id'] },
    );
    assert.equal(await count(), 1010);
    const del = await table.delete("day = DATE '2024-06-02'");
    assert.equal(del.snapshot.summary.operation, 'delete');
    assert.equal(await count(), 808);
    assert.equal(await count({ snapshotId: first.snapshot['snapshot-id'] }), 1000);
    await table.append(
      `SELECT 2000 + i AS id, DATE '2024-06-01' + (i % 5)::INTEGER AS day, i AS amount FROM range(10) t(i)`,
    );
    const c = await table.compact({ targetFileSizeBytes: 1 << 20 });
    assert.equal(c.rewrittenFiles, 8);
    assert.equal(c.addedFiles, 4);
    assert.equal(await count(), 818);
    const exp = await table.expireSnapshots({ olderThanMs: 0, retainLast: 1 });
    assert.equal(exp.expiredSnapshotIds.length, 4);
    assert.ok(exp.deletedFiles > 0);
    assert.equal(table.snapshots().length, 1);
    assert.equal(await count(), 818);
    const orphans = await table.removeOrphanFiles({ olderThanMs: 0 });
    assert.equal(await count(), 818);
    assert.ok(orphans.orphanFiles.every((u) => u.includes('/metadata/') || u.includes('/data/')));
  });
});
