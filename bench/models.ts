// Build of 50 SQL models (a dbt project: 8 staging models, 42 marts in layers) over TPC-H-like
// tables in the lake, against running the same compiled SQL directly in DuckDB in the same run,
// as dbt-duckdb's external materialization does: sources and table models are Parquet files on
// disk (each fsynced) read through views, view models are views. Target: Sluice's wall time
// ≤ 1.2× DuckDB's. CPU time (all threads of the process) is printed too: it is steadier than
// wall time on a loaded machine. The first build (every table created) is timed once against
// the peer's first run; rebuilds run BENCH_REPEAT times (default 3) on each side, interleaved,
// and the medians are compared.
// BENCH_LINEITEMS (default 6,000,000: TPC-H scale 1, its smallest official scale) sets the size
// of the largest table; BENCH_LINEITEMS=1000000 (scale 0.17) is a quicker run, where each model's
// durable commit, a fixed cost per model, weighs more against DuckDB's few milliseconds.
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadProject, scaffoldProject } from '../src/config/index.js';
import { openEngine } from '../src/engine/index.js';
import { buildModels, buildOrder, Compiler, loadModelsProject, relationOf } from '../src/models/index.js';
import { createLogger } from '../src/observe/index.js';
import { openRuntime } from '../src/runtime/index.js';
import { median, printTable, saveResult } from './util.js';

/** Flush a file written by the peer to disk, as Sluice does with every committed file. */
function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** User + system CPU time of the process (all its threads, DuckDB's included) in ms. */
function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

const lineitems = Number(process.env.BENCH_LINEITEMS ?? 6_000_000);
const orders = Math.max(1, Math.floor(lineitems / 4));
const customers = Math.max(1, Math.floor(orders / 10));

/** The sources as SELECTs (deterministic, so both sides hold the same rows). */
const SOURCES: Record<string, string> = {
  customer: `SELECT i AS c_custkey, 'Customer#' || i AS c_name, (i % 25)::INTEGER AS c_nationkey,
    ((i * 37) % 1000000 / 100.0)::DECIMAL(12,2) AS c_acctbal, ['AUTOMOBILE','BUILDING','FURNITURE','HOUSEHOLD','MACHINERY'][1 + i % 5] AS c_mktsegment
    FROM range(${customers}) t(i)`,
  orders: `SELECT i AS o_orderkey, (i * 7) % ${customers} AS o_custkey, ['F','O','P'][1 + i % 3] AS o_orderstatus,
    DATE '1995-01-01' + (i % 2000)::INTEGER AS o_orderdate, ['1-URGENT','2-HIGH','3-MEDIUM','4-NOT SPECIFIED','5-LOW'][1 + i % 5] AS o_orderpriority
    FROM range(${orders}) t(i)`,
  lineitem: `SELECT i // 4 AS l_orderkey, (i % 4 + 1)::INTEGER AS l_linenumber, (i * 13) % 20000 AS l_partkey,
    (1 + i % 50)::DECIMAL(12,2) AS l_quantity, ((i * 31) % 100000 / 10.0 + 1)::DECIMAL(12,2) AS l_extendedprice,
    ((i % 11) / 100.0)::DECIMAL(4,2) AS l_discount, ((i % 9) / 100.0)::DECIMAL(4,2) AS l_tax,
    ['A','N','R'][1 + i % 3] AS l_returnflag, DATE '1995-01-01' + (i % 2200)::INTEGER AS l_shipdate
    FROM range(${lineitems}) t(i)`,
  nation: `SELECT i::INTEGER AS n_nationkey, 'NATION' || i AS n_name, (i % 5)::INTEGER AS n_regionkey FROM range(25) t(i)`,
};

/** A dbt project of 50 models over `tpch.*`. */
function projectFiles(): Record<string, string> {
  const files: Record<string, string> = {
    'dbt_project.yml':
      'name: tpch_marts\nmodels:\n  tpch_marts:\n    staging:\n      +schema: staging\n    marts:\n      +materialized: table\n',
    'models/staging/sources.yml': `version: 2\nsources:\n  - name: tpch\n    tables: [{name: customer}, {name: orders}, {name: lineitem}, {name: nation}]\n`,
    'macros/net.sql': '{% macro net_price(p, d) %}({{ p }} * (1 - {{ d }})){% endmacro %}\n',
    'models/staging/stg_customer.sql': "select * from {{ source('tpch', 'customer') }}",
    'models/staging/stg_orders.sql': "select * from {{ source('tpch', 'orders') }}",
    'models/staging/stg_lineitem.sql':
      "select *, {{ net_price('l_extendedprice', 'l_discount') }} as l_net from {{ source('tpch', 'lineitem') }}",
    'models/staging/stg_nation.sql': "select * from {{ source('tpch', 'nation') }}",
    'models/staging/stg_order_lines.sql':
      "select o.*, l.* exclude (l_orderkey) from {{ ref('stg_orders') }} o join {{ ref('stg_lineitem') }} l on l.l_orderkey = o.o_orderkey",
    'models/staging/stg_customer_nation.sql':
      "select c.*, n.n_name, n.n_regionkey from {{ ref('stg_customer') }} c join {{ ref('stg_nation') }} n on c.c_nationkey = n.n_nationkey",
    'models/staging/stg_order_totals.sql':
      "select o_orderkey, o_custkey, o_orderdate, sum(l_net) as total, count(*) as lines from {{ ref('stg_order_lines') }} group by all",
    'models/staging/stg_customer_orders.sql':
      "select c.c_custkey, c.n_name, c.c_mktsegment, t.o_orderdate, t.total from {{ ref('stg_customer_nation') }} c join {{ ref('stg_order_totals') }} t on t.o_custkey = c.c_custkey",
  };
  // 42 marts: per-dimension aggregates at three levels of the DAG.
  const dims = [
    'n_name',
    'c_mktsegment',
    'year(o_orderdate)',
    'month(o_orderdate)',
    'quarter(o_orderdate)',
    'dayofweek(o_orderdate)',
    'c_custkey % 10',
  ];
  const lineDims = [
    'l_returnflag',
    'l_linenumber',
    'year(l_shipdate)',
    'month(l_shipdate)',
    'quarter(l_shipdate)',
    'dayofweek(l_shipdate)',
    'l_partkey % 10',
  ];
  for (const [i, dim] of dims.entries()) {
    files[`models/marts/rev_${i}.sql`] =
      `select ${dim} as k, sum(total) as revenue, count(*) as orders from {{ ref('stg_customer_orders') }} group by 1`;
    files[`models/marts/top_${i}.sql`] =
      `select k, revenue, rank() over (order by revenue desc) as r from {{ ref('rev_${i}') }}`;
    files[`models/marts/share_${i}.sql`] =
      `select k, revenue / sum(revenue) over () as share from {{ ref('rev_${i}') }}`;
    files[`models/marts/lines_${i}.sql`] =
      `select ${lineDims[i]} as k, sum(l_quantity) as qty, avg(l_net) as avg_net from {{ ref('stg_order_lines') }} group by 1`;
    files[`models/marts/mix_${i}.sql`] =
      `select t.k, t.r, s.share from {{ ref('top_${i}') }} t join {{ ref('share_${i}') }} s using (k)`;
    files[`models/marts/summary_${i}.sql`] =
      `select count(*) as keys, max(share) as max_share, (select sum(qty) from {{ ref('lines_${i}') }}) as qty from {{ ref('mix_${i}') }}`;
  }
  return files;
}

const tmp = mkdtempSync(join(tmpdir(), 'sluice-bench-models-'));
try {
  const dir = join(tmp, 'proj');
  await scaffoldProject(dir, { name: 'proj' });
  for (const [path, text] of Object.entries(projectFiles())) {
    mkdirSync(dirname(join(dir, 'dbt', path)), { recursive: true });
    writeFileSync(join(dir, 'dbt', path), text);
  }
  const runtime = await openRuntime(await loadProject(dir), createLogger({ level: 'silent', stderr: false }));
  const engine = await openEngine(runtime, { fileAccess: 'all' });
  const session = await engine.openSession({ name: 'bench', readOnly: false });
  for (const [name, select] of Object.entries(SOURCES)) {
    const r = await session.run(`CREATE TABLE tpch.${name} AS ${select}`);
    for await (const _ of r.batches()) {
      // consume
    }
  }
  await session.close();
  const project = loadModelsProject(join(dir, 'dbt'));
  const count = [...project.nodes.values()].filter((n) => n.kind === 'model').length;

  // DuckDB: the same compiled SQL in build order, the way dbt-duckdb runs a project with
  // `materialized: external`: sources are Parquet files on disk, each table model is written
  // with COPY ... TO a Parquet file (flushed to disk) and read back through a view over it,
  // and view models are plain views. One connection. Parquet files are zstd-compressed, like
  // the files of Sluice's tables (the Iceberg default codec), so both sides write the same
  // files; BENCH_PEER_CODEC=snappy gives DuckDB's own default instead.
  const compiler = new Compiler(project);
  const codec = process.env.BENCH_PEER_CODEC ?? 'zstd';
  const peerDir = join(tmp, 'duckdb');
  mkdirSync(peerDir);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run('CREATE SCHEMA tpch');
  for (const [name, select] of Object.entries(SOURCES)) {
    const file = join(peerDir, `tpch.${name}.parquet`);
    await conn.run(`COPY (${select}) TO '${file}' (FORMAT parquet, COMPRESSION ${codec})`);
    await conn.run(`CREATE VIEW tpch.${name} AS SELECT * FROM read_parquet('${file}')`);
  }
  for (const n of project.nodes.values()) await conn.run(`CREATE SCHEMA IF NOT EXISTS ${n.schema}`);
  const order = buildOrder(project, project.nodes.keys());
  const compiled = new Map(order.map((name) => [name, compiler.compile(project.nodes.get(name)!)]));
  /** One run of the peer: the compiled SQL in build order on one connection. */
  const peerRun = async () => {
    for (const name of order) {
      const node = project.nodes.get(name)!;
      const relation = relationOf(node);
      const sql = compiled.get(name)!;
      if (node.kind === 'model' && node.config.materialized === 'view') {
        await conn.run(`CREATE OR REPLACE VIEW ${relation} AS ${sql}`);
        continue;
      }
      const file = join(peerDir, `${node.schema}.${node.name}.parquet`);
      await conn.run(`COPY (${sql}) TO '${file}' (FORMAT parquet, COMPRESSION ${codec})`);
      fsyncFile(file);
      await conn.run(`CREATE OR REPLACE VIEW ${relation} AS SELECT * FROM read_parquet('${file}')`);
    }
  };
  const sluiceRun = async (threads: number) => {
    const built = await buildModels(runtime, engine, project, { threads });
    const failed = built.filter((b) => b.status !== 'success');
    if (failed.length)
      throw new Error(`models failed: ${failed.map((f) => `${f.name}: ${f.error}`).join('; ')}`);
  };
  /** Wall and CPU milliseconds of one call. */
  const timed = async (fn: () => Promise<void>) => {
    global.gc?.();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    return { ms: performance.now() - t0, cpu: cpuMs(process.cpuUsage(cpu0)) };
  };

  // The first build creates every table (CREATE TABLE AS); its peer run writes every file anew.
  const firstPeer = await timed(peerRun);
  const first = await timed(() => sluiceRun(4));
  // Rebuilds replace the tables' rows: each side runs `repeat` times, interleaved, medians kept.
  const repeat = Math.max(1, Number(process.env.BENCH_REPEAT ?? 3));
  const threadCounts = [1, 2, 4];
  const samples = new Map<string, { ms: number[]; cpu: number[] }>();
  const add = (key: string, r: { ms: number; cpu: number }) => {
    const s = samples.get(key) ?? { ms: [], cpu: [] };
    s.ms.push(r.ms);
    s.cpu.push(r.cpu);
    samples.set(key, s);
  };
  for (let i = 0; i < repeat; i++) {
    add('duckdb', await timed(peerRun));
    for (const threads of threadCounts) add(`sluice${threads}`, await timed(() => sluiceRun(threads)));
  }
  conn.closeSync();
  const med = (key: string) => {
    const s = samples.get(key)!;
    return { ms: median(s.ms), cpu: median(s.cpu) };
  };
  const duck = med('duckdb');
  const verdict = (ratio: number) => (ratio <= 1.2 ? '≤ 1.2×: met' : '≤ 1.2×: MISSED');
  const row = (label: string, r: { ms: number; cpu: number }, base: { ms: number; cpu: number }) => [
    label,
    r.ms.toFixed(0),
    `${(r.ms / base.ms).toFixed(2)}×`,
    r.cpu.toFixed(0),
    `${(r.cpu / base.cpu).toFixed(2)}×`,
    label.startsWith('DuckDB') ? '' : verdict(r.ms / base.ms),
  ];
  const rows = [
    row('DuckDB, first run', firstPeer, firstPeer),
    row('sluice models build --threads 4, first build', first, firstPeer),
    row(`DuckDB, rebuild (median of ${repeat})`, duck, duck),
    ...threadCounts.map((t) =>
      row(
        `sluice models build --threads ${t}, rebuild${t === 4 ? ' (default)' : ''}`,
        med(`sluice${t}`),
        duck,
      ),
    ),
  ];
  const results: Record<string, unknown> = {
    repeat,
    first: { duckMs: firstPeer.ms, duckCpuMs: firstPeer.cpu, sluiceMs: first.ms, sluiceCpuMs: first.cpu },
    samples: Object.fromEntries(samples),
  };
  await engine.close();
  await runtime.close();
  console.log(`${count} models, ${lineitems.toLocaleString()} line items, ${orders.toLocaleString()} orders`);
  printTable(['run', 'wall ms', 'vs DuckDB', 'CPU ms', 'CPU vs DuckDB', 'target (wall)'], rows);
  console.log(`saved ${saveResult('models', { models: count, lineitems, ...results })}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
