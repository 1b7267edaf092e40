import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openTable, type Table } from '../../src/table/index.js';
import { type Env, openEnv, schemaOf } from './table-helpers.js';

const EVENTS = `SELECT i AS id, 'user-' || (i % 50) AS user_name, (i % 7)::INTEGER AS kind,
  TIMESTAMP '2024-03-01 00:00:00' + to_hours(i % 48) AS ts, i * 2 AS amount
FROM range(6000) t(i)`;

describe('partitioned tables', () => {
  let env: Env;
  let table: Table;
  const id = { namespace: ['web'], name: 'events' };

  before(async () => {
    env = await openEnv();
    const schema = schemaOf([
      ['id', 'long', true],
      ['user_name', 'string'],
      ['kind', 'int'],
      ['ts', 'timestamp'],
      ['amount', 'long'],
    ]);
    await env.catalog.createTable(id, schema, {
      spec: [
        { 'source-id': 4, transform: 'day', name: 'ts_day' },
        { 'source-id': 3, transform: 'identity', name: 'kind' },
        { 'source-id': 1, transform: 'bucket[4]', name: 'id_bucket' },
        { 'source-id': 2, transform: 'truncate[6]', name: 'user_trunc' },
      ],
    });
    table = await openTable(env.catalog, env.store, env.duck, id);
    await table.append(EVENTS);
  });
  after(() => env.close());

  test('files land in partition directories with correct partition tuples', async () => {
    const plan = await table.planScan();
    assert.ok(plan.files.length > 50);
    for (const f of plan.files) {
      assert.match(
        f.file.file_path,
        /\/data\/ts_day=2024-03-\d\d\/kind=\d\/id_bucket=\d\/user_trunc=user-[0-9]?\/[0-9a-f-]+-\d{5}\.parquet$/,
      );
    }
    const check = await env.duck.all<{ bad: bigint }>(
      `SELECT count(*) AS bad FROM (${table.scanSql(plan, { withFile: true })}) s JOIN (VALUES ${plan.files
        .map(
          (f) =>
            `('${f.localPath}', ${f.file.partition.ts_day}, ${f.file.partition.kind}, ${f.file.partition.id_bucket}, '${f.file.partition.user_trunc}')`,
        )
        .join(', ')}) AS p(path, d, k, b, u) ON s.__file = p.path
       WHERE CAST(s.ts AS DATE) - DATE '1970-01-01' <> p.d OR s.kind <> p.k OR iceberg_bucket_long(s.id, 4) <> p.b OR substring(s.user_name, 1, 6) <> p.u`,
    );
    assert.equal(Number(check[0]?.bad), 0);
    const total = await env.duck.all<{ n: bigint }>(`SELECT count(*) AS n FROM (${table.scanSql(plan)})`);
    assert.equal(Number(total[0]?.n), 6000);
  });

  test('hidden partitioning prunes files and reports how many', async () => {
    const all = (await table.planScan()).files.length;
    const byDay = await table.planScan({
      filter: "ts >= TIMESTAMP '2024-03-02 00:00:00' AND ts < '2024-03-03'",
    });
    assert.ok(byDay.stats.prunedByPartition > 0);
    assert.equal(byDay.stats.prunedByPartition + byDay.stats.prunedByMetrics + byDay.files.length, all);
    const rows = await env.duck.all<{ n: bigint }>(`SELECT count(*) AS n FROM (${table.scanSql(byDay)})`);
    const expected = await env.duck.all<{ n: bigint }>(
      `SELECT count(*) AS n FROM (${EVENTS}) WHERE ts >= TIMESTAMP '2024-03-02' AND ts < TIMESTAMP '2024-03-03'`,
    );
    assert.equal(rows[0]?.n, expected[0]?.n);
    const none = await table.planScan({ filter: "ts >= '2024-04-01'" });
    assert.equal(none.stats.manifestsPruned, 1, 'partition summaries skip the whole manifest');
    assert.equal(none.files.length, 0);
    const byId = await table.planScan({ filter: 'id = 4242' });
    assert.ok(byId.files.length < all / 4, `bucket + bounds pruning left ${byId.files.length} of ${all}`);
    const one = await env.duck.all<{ id: bigint }>(`SELECT id FROM (${table.scanSql(byId)})`);
    assert.deepEqual(one, [{ id: 4242n }]);
    const byKind = await table.planScan({ filter: "kind IN (1, 2) AND user_name = 'user-7'" });
    assert.ok(byKind.stats.prunedByPartition > all / 2);
  });

  test('dynamic partition overwrite replaces only the partitions of the new rows', async () => {
    const before = (await table.planScan()).files;
    const r = await table.overwrite(
      `SELECT id, user_name, kind, ts, -1 AS amount FROM (${EVENTS}) WHERE kind = 3 AND ts < TIMESTAMP '2024-03-02'`,
      { partitions: 'dynamic' },
    );
    assert.equal(r.snapshot.summary.operation, 'overwrite');
    const after = (await table.planScan()).files;
    const kept = before.filter(
      (f) => !(f.file.partition.kind === 3 && Number(f.file.partition.ts_day) === 19783),
    );
    const keptPaths = new Set(after.map((f) => f.file.file_path));
    for (const f of kept) assert.ok(keptPaths.has(f.file.file_path));
    const [c] = await env.duck.all<{ n: bigint; neg: bigint }>(
      `SELECT count(*) AS n, count(*) FILTER (WHERE amount = -1) AS neg FROM (${table.scanSql(await table.planScan())})`,
    );
    const [e] = await env.duck.all<{ n: bigint }>(
      `SELECT count(*) AS n FROM (${EVENTS}) WHERE kind = 3 AND ts < TIMESTAMP '2024-03-02'`,
    );
    assert.equal(c?.n, 6000n);
    assert.equal(c?.neg, e?.n);
  });

  test('partition evolution: new spec for new data, old files still read and pruned', async () => {
    const spec = await table.updateSpec([{ column: 'ts', transform: 'month' }]);
    assert.equal(spec.fields.length, 1);
    assert.equal(spec.fields[0]?.name, 'ts_month');
    await table.append(
      `SELECT 100000 + i AS id, 'late' AS user_name, 9 AS kind, TIMESTAMP '2024-05-10' AS ts, 1 AS amount FROM range(10) t(i)`,
    );
    const plan = await table.planScan({ filter: "ts >= '2024-05-01'" });
    assert.equal(plan.files.length, 1);
    assert.match(plan.files[0]!.file.file_path, /ts_month=2024-05\//);
    const [c] = await env.duck.all<{ n: bigint }>(
      `SELECT count(*) AS n FROM (${table.scanSql(await table.planScan())})`,
    );
    assert.equal(c?.n, 6010n);
  });

  test('a partition larger than the target file size is split into several files', async () => {
    const bigId = { namespace: ['web'], name: 'big_partitions' };
    await env.catalog.createTable(
      bigId,
      schemaOf([
        ['id', 'long', true],
        ['kind', 'int'],
        ['payload', 'string'],
      ]),
      {
        spec: [{ 'source-id': 2, transform: 'identity', name: 'kind' }],
        properties: { 'write.target-file-size-bytes': '200000' },
      },
    );
    const big = await openTable(env.catalog, env.store, env.duck, bigId);
    await big.append(
      `SELECT i AS id, (i % 2)::INTEGER AS kind, md5(i::VARCHAR) || md5((i * 7)::VARCHAR) AS payload FROM range(60000) t(i)`,
      { rowGroupSize: 2000 },
    );
    const plan = await big.planScan();
    const perPartition = new Map<unknown, number>();
    for (const f of plan.files)
      perPartition.set(f.file.partition.kind, (perPartition.get(f.file.partition.kind) ?? 0) + 1);
    assert.deepEqual([...perPartition.keys()].sort(), [0, 1]);
    for (const [kind, n] of perPartition) assert.ok(n > 1, `partition kind=${kind} has ${n} file(s)`);
    for (const f of plan.files)
      assert.match(f.file.file_path, new RegExp(`/data/kind=${f.file.partition.kind}/[^/]+\\.parquet$`));
    const [c] = await env.duck.all<{ n: bigint; ids: bigint; bad: bigint }>(
      `SELECT count(*) AS n, count(DISTINCT id) AS ids, count(*) FILTER (WHERE kind <> id % 2) AS bad FROM (${big.scanSql(plan)})`,
    );
    assert.deepEqual(c, { n: 60000n, ids: 60000n, bad: 0n });
  });
});
