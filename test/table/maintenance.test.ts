import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openTable, type Table } from '../../src/table/index.js';
import { type Env, openEnv, schemaOf } from './table-helpers.js';

describe('maintenance', () => {
  let env: Env;
  let table: Table;
  const id = { namespace: ['m'], name: 'events' };
  const total = async (o = {}) => {
    const [r] = await env.duck.all<{ n: bigint; s: bigint }>(
      `SELECT count(*) AS n, sum(v) AS s FROM (${table.scanSql(await table.planScan(o))})`,
    );
    return { n: Number(r?.n), s: Number(r?.s) };
  };

  before(async () => {
    env = await openEnv();
    await env.catalog.createTable(
      id,
      schemaOf([
        ['id', 'long', true],
        ['kind', 'string'],
        ['v', 'long'],
      ]),
      {
        spec: [{ 'source-id': 2, transform: 'identity', name: 'kind' }],
      },
    );
    table = await openTable(env.catalog, env.store, env.duck, id);
    for (let i = 0; i < 4; i++) {
      await table.append(
        `SELECT ${i * 100} + i AS id, CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END AS kind, i AS v FROM range(100) t(i)`,
      );
    }
  });
  after(() => env.close());

  test('compact with a filter rewrites only matching partitions; rows unchanged', async () => {
    const before = await total();
    const r = await table.compact({ where: "kind = 'a'" });
    assert.equal(r.rewrittenFiles, 4);
    assert.equal(r.addedFiles, 1);
    assert.equal(r.commit?.snapshot.summary.operation, 'replace');
    assert.deepEqual(await total(), before);
    const files = (await table.planScan()).files;
    assert.equal(files.filter((f) => f.file.partition.kind === 'a').length, 1);
    assert.equal(files.filter((f) => f.file.partition.kind === 'b').length, 4);
    const again = await table.compact({ where: "kind = 'a'" });
    assert.equal(again.commit, undefined, 'nothing left to compact');
    const feed = await table.changesBetween(r.commit!.snapshot['parent-snapshot-id']!, undefined, {
      key: ['id'],
    });
    assert.deepEqual(
      await env.duck.all(`SELECT count(*) AS n FROM (${feed.sql})`),
      [{ n: 0n }],
      'compaction is not a change',
    );
  });

  test('rewriteManifests merges manifests without changing rows', async () => {
    const before = await total();
    const manifests = await table.io.manifestList(table.currentSnapshot()!);
    assert.ok(manifests.length > 1);
    const r = await table.rewriteManifests();
    assert.equal(r?.snapshot.summary.operation, 'replace');
    const after = await table.io.manifestList(table.currentSnapshot()!);
    assert.equal(after.length, 1);
    assert.equal(after[0]?.existing_files_count, (await table.planScan()).files.length);
    assert.deepEqual(await total(), before);
    assert.equal((await table.planScan({ filter: "kind = 'b'" })).stats.prunedByPartition, 1);
    assert.equal(await table.rewriteManifests(), undefined);
  });

  test('expiry keeps tagged and recent snapshots; time travel to kept ones still works', async () => {
    const first = table.snapshots()[0]!;
    await table.createTag('first', first['snapshot-id']);
    const count = table.snapshots().length;
    const r = await table.expireSnapshots({ olderThanMs: 0, retainLast: 2 });
    assert.equal(r.expiredSnapshotIds.length, count - 3);
    assert.ok(!r.expiredSnapshotIds.includes(first['snapshot-id']));
    assert.equal((await total({ ref: 'first' })).n, 100);
    assert.equal((await total()).n, 400);
  });

  test('orphan removal deletes unreferenced old files only', async () => {
    await env.store.put('m/events/data/kind=a/leftover.parquet', 'junk');
    await env.store.put('m/events/metadata/leftover-m0.avro', 'junk');
    const dry = await table.removeOrphanFiles({ olderThanMs: 0, dryRun: true });
    assert.deepEqual(dry.orphanFiles.filter((f) => f.includes('leftover')).length, 2);
    assert.ok(await env.store.head('m/events/data/kind=a/leftover.parquet'));
    const young = await table.removeOrphanFiles({ olderThanMs: 60_000 });
    assert.deepEqual(young.orphanFiles, []);
    const r = await table.removeOrphanFiles({ olderThanMs: 0 });
    assert.ok(r.orphanFiles.some((f) => f.endsWith('leftover.parquet')));
    assert.equal(await env.store.head('m/events/data/kind=a/leftover.parquet'), undefined);
    assert.equal((await total()).n, 400);
    assert.equal((await total({ ref: 'first' })).n, 100);
  });
});
