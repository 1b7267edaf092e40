// Iceberg table writes and reads against bare DuckDB on the same machine in the same run:
// append throughput vs `COPY ... TO parquet` (target ≥ 0.8×), upsert of 1% random keys vs DuckDB
// rewriting the same files (target ≤ 2×), file pruning of a selective scan, and peak RSS
// (target ≤ 1.5 GB). BENCH_ROWS (default 10,000,000) sets the table size.
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openCatalog } from '../src/catalog/index.js';
import { openDuck } from '../src/duck/index.js';
import { openMetaStore } from '../src/metastore/index.js';
import { openObjectStore } from '../src/storage/index.js';
import { openTable } from '../src/table/index.js';
import { printTable, saveResult } from './util.js';

const rows = Number(process.env.BENCH_ROWS ?? 10_000_000);
const memoryLimit = process.env.BENCH_DUCKDB_MEMORY ?? '1GB';

const generate = (
  offset: number,
) => `SELECT ${offset} + i AS id, (i % 100000)::INTEGER AS user_id, 'cat-' || (i % 20) AS category,
  ((i * 7919) % 1000000 / 100.0)::DECIMAL(12,2) AS amount, (i % 977) * 1.25 AS price, (i % 13)::INTEGER AS qty,
  TIMESTAMP '2024-01-01' + to_seconds(i % 31536000) AS created_at, DATE '2024-01-01' + (i % 365)::INTEGER AS day,
  (i % 3 = 0) AS flag, substr(md5(i::VARCHAR), 1, 12) AS note
FROM range(${rows}) t(i)`;

const SCHEMA = {
  type: 'struct' as const,
  'schema-id': 0,
  fields: [
    ['id', 'long', true],
    ['user_id', 'int', false],
    ['category', 'string', false],
    ['amount', 'decimal(12,2)', false],
    ['price', 'double', false],
    ['qty', 'int', false],
    ['created_at', 'timestamp', false],
    ['day', 'date', false],
    ['flag', 'boolean', false],
    ['note', 'string', false],
  ].map(([name, type, required], i) => ({
    id: i + 1,
    name: name as string,
    type: type as never,
    required: required as boolean,
  })),
};

async function dirSize(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += (await stat(join(e.parentPath, e.name))).size;
  }
  return { files, bytes };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-table-'));
try {
  const store = await openObjectStore({ url: `file://${dir}/warehouse` });
  const meta = await openMetaStore(`sqlite://${dir}/meta.db`);
  const catalog = openCatalog({ meta, store });
  const duck = await openDuck({ memoryLimit, tempDir: join(dir, 'spill') });
  await catalog.createNamespace(['bench']);
  const id = { namespace: ['bench'], name: 'orders' };
  await catalog.createTable(id, { schema: SCHEMA });
  const table = await openTable(catalog, store, duck, id);
  const bare = join(dir, 'bare');
  await mkdir(bare, { recursive: true });

  // Each side runs twice, interleaved, and the faster run counts: other load on the machine hits both alike.
  const best = <T>(a: { ms: number; value: T }, b: { ms: number; value: T }) => (a.ms <= b.ms ? a : b);
  const bareCopy = (n: number) =>
    timed(() =>
      duck.run(
        `COPY (${generate((n - 1) * rows)}) TO '${bare}/orders-${n}.parquet' (FORMAT parquet, COMPRESSION zstd)`,
      ),
    );
  const copy1 = await bareCopy(1);
  const append1 = await timed(() => table.append(generate(0)));
  if (process.env.BENCH_LOAD_ONLY) {
    // A big load's memory bound: one COPY and one append of `rows` rows, then stop.
    const loadRssMb = process.resourceUsage().maxRSS / 1024;
    const loaded = await dirSize(join(dir, 'warehouse', 'bench', 'orders', 'data'));
    printTable(
      ['rows', 'bare COPY ms', 'append ms', 'throughput ratio', 'data written', 'peak RSS'],
      [
        [
          rows,
          copy1.ms.toFixed(0),
          append1.ms.toFixed(0),
          (copy1.ms / append1.ms).toFixed(2),
          `${(loaded.bytes / 2 ** 30).toFixed(2)} GiB in ${loaded.files} files`,
          `${loadRssMb.toFixed(0)} MB`,
        ],
      ],
    );
    saveResult('table-load', {
      rows,
      memoryLimit,
      bareCopyMs: copy1.ms,
      appendMs: append1.ms,
      bytes: loaded,
      peakRssMb: loadRssMb,
    });
    process.exit(0);
  }
  const copy = best(copy1, await bareCopy(2));
  const append = best(append1, await timed(() => table.append(generate(rows))));
  const written = await dirSize(join(dir, 'warehouse', 'bench', 'orders', 'data'));

  const lo = Math.floor(rows * 0.37);
  const filter = `id BETWEEN ${lo} AND ${lo + 999}`;
  const scan = await timed(async () => {
    const p = await table.planScan({ filter });
    const [r] = await duck.all<{ n: bigint }>(`SELECT count(*) AS n FROM (${table.scanSql(p)})`);
    return { plan: p, n: Number(r?.n) };
  });
  const bareScan = await timed(() =>
    duck.all(
      `SELECT count(*) FROM read_parquet(['${bare}/orders-1.parquet', '${bare}/orders-2.parquet']) WHERE ${filter}`,
    ),
  );

  const keys = `SELECT id FROM range(${2 * rows}) t(id) WHERE hash(id) % 100 = 0`;
  const incoming = `SELECT g.id, g.user_id, 'updated' AS category, g.amount, g.price + 1 AS price, g.qty, g.created_at, g.day, NOT g.flag AS flag, g.note
    FROM (${generate(0)} UNION ALL ${generate(rows)}) g SEMI JOIN (${keys}) k ON g.id = k.id`;
  await duck.run(`COPY (${incoming}) TO '${bare}/incoming.parquet' (FORMAT parquet)`);
  const changed =
    (await duck.all<{ n: bigint }>(`SELECT count(*) AS n FROM '${bare}/incoming.parquet'`))[0]?.n ?? 0n;
  // 1% of the keys, spread over the whole table: both the bare rewrite and the upsert rewrite every file.
  const files = (await table.planScan()).files.map((f) => `'${f.localPath}'`).join(', ');
  const bareRewrite = (n: number) =>
    timed(() =>
      duck.run(
        `COPY (SELECT o.* FROM read_parquet([${files}]) o ANTI JOIN read_parquet('${bare}/incoming.parquet') n ON o.id = n.id
          UNION ALL SELECT * FROM read_parquet('${bare}/incoming.parquet')) TO '${bare}/rewritten-${n}' (FORMAT parquet, COMPRESSION zstd, FILE_SIZE_BYTES 134217728)`,
      ),
    );
  const upsertOnce = () =>
    timed(() => table.upsert({ files: [`${bare}/incoming.parquet`] }, { key: ['id'] }));
  const before = table.currentSnapshot()?.['snapshot-id'] ?? 0n;
  const bare1 = await bareRewrite(1);
  const upsert1 = await upsertOnce();
  await table.rollbackTo(before); // the second run starts from the same files
  const bareUpsert = best(bare1, await bareRewrite(2));
  const upsert = best(upsert1, await upsertOnce());
  const rssMb = process.resourceUsage().maxRSS / 1024;

  const appendRatio = copy.ms / append.ms;
  const upsertRatio = upsert.ms / bareUpsert.ms;
  const s = scan.value.plan.stats;
  printTable(
    ['measure', 'sluice', 'bare DuckDB', 'ratio', 'target'],
    [
      [
        `append ${rows.toLocaleString()} rows (ms, best of 2)`,
        append.ms.toFixed(0),
        copy.ms.toFixed(0),
        `${appendRatio.toFixed(2)}× throughput`,
        appendRatio >= 0.8 ? '≥ 0.8×: met' : '≥ 0.8×: MISSED',
      ],
      [
        `upsert ${Number(changed).toLocaleString()} keys (ms, best of 2)`,
        upsert.ms.toFixed(0),
        bareUpsert.ms.toFixed(0),
        `${upsertRatio.toFixed(2)}× time`,
        upsertRatio <= 2 ? '≤ 2×: met' : '≤ 2×: MISSED',
      ],
      [
        `scan ${filter} (ms)`,
        scan.ms.toFixed(0),
        bareScan.ms.toFixed(0),
        `${s.prunedByPartition + s.prunedByMetrics} of ${s.dataFiles} files pruned`,
        '',
      ],
      ['peak RSS (MB)', rssMb.toFixed(0), '', '', rssMb <= 1536 ? '≤ 1.5 GB: met' : '≤ 1.5 GB: MISSED'],
    ],
  );
  console.log(
    `appended ${written.files} files, ${(written.bytes / 2 ** 20).toFixed(1)} MiB; upsert rewrote ${upsert.value.removedFiles} files into ${upsert.value.addedFiles}; scan returned ${scan.value.n} rows`,
  );
  const out = saveResult('table', {
    rows,
    memoryLimit,
    appendMs: append.ms,
    bareCopyMs: copy.ms,
    appendThroughputRatio: appendRatio,
    appendFiles: written.files,
    appendBytes: written.bytes,
    upsertKeys: Number(changed),
    upsertMs: upsert.ms,
    bareUpsertMs: bareUpsert.ms,
    upsertTimeRatio: upsertRatio,
    upsertFilesRewritten: upsert.value.removedFiles,
    scanMs: scan.ms,
    bareScanMs: bareScan.ms,
    scanFiles: s.dataFiles,
    scanFilesPruned: s.prunedByPartition + s.prunedByMetrics,
    scanRows: scan.value.n,
    peakRssMb: rssMb,
  });
  console.log(`saved ${out}`);
  await duck.close();
  await meta.close();
  await store.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
