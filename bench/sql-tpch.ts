// TPC-H-like analytical queries side by side: DuckDB directly on the tables' Parquet files,
// Sluice over the PostgreSQL wire protocol (node-postgres), Sluice HTTP `POST /api/v1/sql`,
// and PostgreSQL with the same rows loaded by COPY. A `sluice serve` child process serves
// the project. Every query's result is checked to agree across the four paths (row count,
// numeric sum, string cells) so no path does different work. Also the streaming throughput
// of a large `SELECT *` over pgwire against DuckDB reading the same rows.
//
// `npm run bench -- sql-tpch` (scale 1: ~6M lineitem rows). Options (after `node dist/bench/sql-tpch.js`):
//   --scale N         data size (TPC-H scale factor; 0.1 runs in about a minute)
//   --reps N          repetitions per query and path (median reported; default 5, PostgreSQL 3)
//   --stream-rows N   rows of the streaming test (default 10,000,000)
//   --stream-only     only the streaming test (no TPC-H tables, no PostgreSQL)
// Targets: pgwire ≤ 1.15× DuckDB direct (median), PostgreSQL ≥ 10× slower than pgwire on aggregates.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import pg from 'pg';
import { openCatalog } from '../src/catalog/index.js';
import { loadProject, scaffoldProject } from '../src/config/index.js';
import { openDuck } from '../src/duck/index.js';
import { openEngine } from '../src/engine/index.js';
import { createLogger } from '../src/observe/index.js';
import { openRuntime } from '../src/runtime/index.js';
import { openTable } from '../src/table/index.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { median, printTable, saveResult } from './util.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v =
    i >= 0
      ? Number(process.argv[i + 1])
      : Number(process.env[`BENCH_${name.toUpperCase().replace('-', '_')}`]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const scale = flag('scale', 1);
const reps = flag('reps', 5);
const pgReps = Math.min(reps, flag('pg-reps', 3));
const streamRows = Math.round(flag('stream-rows', 10_000_000));
const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;
const streamOnly = process.argv.includes('--stream-only');
const TABLES = streamOnly ? [] : ['region', 'nation', 'supplier', 'customer', 'part', 'orders', 'lineitem'];

const n = (base: number) => Math.max(10, Math.round(base * scale));
const NSUPP = n(10_000);
const NCUST = n(150_000);
const NPART = n(200_000);
const NORD = n(1_500_000);

/** DuckDB SQL generating each table (deterministic: hash of the key). */
const GENERATE: Record<string, string> = {
  region: `SELECT range::INTEGER AS r_regionkey, ['AFRICA','AMERICA','ASIA','EUROPE','MIDDLE EAST'][range + 1] AS r_name FROM range(5)`,
  nation: `SELECT range::INTEGER AS n_nationkey, 'NATION_' || lpad(range::VARCHAR, 2, '0') AS n_name, (range % 5)::INTEGER AS n_regionkey FROM range(25)`,
  supplier: `SELECT k::BIGINT AS s_suppkey, 'Supplier#' || lpad(k::VARCHAR, 9, '0') AS s_name, (hash(k, 1) % 25)::INTEGER AS s_nationkey,
      ((hash(k, 2) % 1099999)::DECIMAL(15,2) / 100 - 999.99)::DECIMAL(15,2) AS s_acctbal FROM range(1, ${NSUPP + 1}) t(k)`,
  customer: `SELECT k::BIGINT AS c_custkey, 'Customer#' || lpad(k::VARCHAR, 9, '0') AS c_name, (hash(k, 3) % 25)::INTEGER AS c_nationkey,
      ((hash(k, 4) % 1099999)::DECIMAL(15,2) / 100 - 999.99)::DECIMAL(15,2) AS c_acctbal,
      ['AUTOMOBILE','BUILDING','FURNITURE','MACHINERY','HOUSEHOLD'][(hash(k, 5) % 5)::BIGINT + 1] AS c_mktsegment FROM range(1, ${NCUST + 1}) t(k)`,
  part: `SELECT k::BIGINT AS p_partkey, 'part ' || k AS p_name, 'Brand#' || (1 + hash(k, 6) % 5) || (1 + hash(k, 7) % 5) AS p_brand,
      ['STANDARD','SMALL','MEDIUM','LARGE','ECONOMY','PROMO'][(hash(k, 8) % 6)::BIGINT + 1] || ' ' || ['ANODIZED','BURNISHED','PLATED','POLISHED','BRUSHED'][(hash(k, 9) % 5)::BIGINT + 1] AS p_type,
      (1 + hash(k, 10) % 50)::INTEGER AS p_size, ((90000 + (k / 10) % 20001 + 100 * (k % 1000)) / 100)::DECIMAL(15,2) AS p_retailprice FROM range(1, ${NPART + 1}) t(k)`,
  orders: `SELECT k::BIGINT AS o_orderkey, (1 + hash(k, 11) % ${NCUST})::BIGINT AS o_custkey, ['O','F','P'][(hash(k, 12) % 3)::BIGINT + 1] AS o_orderstatus,
      ((hash(k, 13) % 50000000)::DECIMAL(15,2) / 100 + 800)::DECIMAL(15,2) AS o_totalprice,
      (DATE '1992-01-01' + (hash(k, 14) % 2406)::INTEGER) AS o_orderdate,
      ['1-URGENT','2-HIGH','3-MEDIUM','4-NOT SPECIFIED','5-LOW'][(hash(k, 15) % 5)::BIGINT + 1] AS o_orderpriority, 0::INTEGER AS o_shippriority
      FROM range(1, ${NORD + 1}) t(k)`,
  lineitem: `SELECT o_orderkey AS l_orderkey, (1 + hash(o_orderkey, ln, 16) % ${NPART})::BIGINT AS l_partkey, (1 + hash(o_orderkey, ln, 17) % ${NSUPP})::BIGINT AS l_suppkey,
      ln::INTEGER AS l_linenumber, (1 + hash(o_orderkey, ln, 18) % 50)::DECIMAL(15,2) AS l_quantity,
      ((1 + hash(o_orderkey, ln, 18) % 50) * (900 + hash(o_orderkey, ln, 16) % 1100))::DECIMAL(15,2) AS l_extendedprice,
      ((hash(o_orderkey, ln, 19) % 11)::DECIMAL(15,2) / 100)::DECIMAL(15,2) AS l_discount,
      ((hash(o_orderkey, ln, 20) % 9)::DECIMAL(15,2) / 100)::DECIMAL(15,2) AS l_tax,
      CASE WHEN o_orderdate + 122 > DATE '1995-06-17' THEN 'N' ELSE ['R','A'][(hash(o_orderkey, ln, 21) % 2)::BIGINT + 1] END AS l_returnflag,
      CASE WHEN o_orderdate + 122 > DATE '1995-06-17' THEN 'O' ELSE 'F' END AS l_linestatus,
      (o_orderdate + (1 + hash(o_orderkey, ln, 22) % 121)::INTEGER) AS l_shipdate,
      (o_orderdate + (30 + hash(o_orderkey, ln, 23) % 61)::INTEGER) AS l_commitdate,
      (o_orderdate + (1 + hash(o_orderkey, ln, 22) % 121)::INTEGER + (1 + hash(o_orderkey, ln, 24) % 30)::INTEGER) AS l_receiptdate,
      ['REG AIR','AIR','RAIL','SHIP','TRUCK','MAIL','FOB'][(hash(o_orderkey, ln, 25) % 7)::BIGINT + 1] AS l_shipmode
      FROM tpch.orders, range(1, 8) l(ln) WHERE ln <= 1 + hash(o_orderkey, 26) % 7
      ORDER BY l_shipdate`,
  stream: `SELECT range AS id, (hash(range) % 1000)::INTEGER AS k, range * 0.5 AS x, 'row-' || range AS s,
      DATE '2020-01-01' + (range % 1000)::INTEGER AS d FROM range(${streamRows})`,
};

interface Query {
  name: string;
  kind: 'aggregate' | 'join' | 'window' | 'top-N';
  sql: string;
}

/** Written in SQL both DuckDB and PostgreSQL run as is; dates come out as text, ties are broken. */
const QUERIES: Query[] = [
  {
    name: 'Q1 pricing summary',
    kind: 'aggregate',
    sql: `SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price,
      sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price, sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
      avg(l_quantity) AS avg_qty, avg(l_extendedprice) AS avg_price, avg(l_discount) AS avg_disc, count(*) AS count_order
      FROM tpch.lineitem WHERE l_shipdate <= DATE '1998-09-02' GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus`,
  },
  {
    name: 'Q3 shipping priority',
    kind: 'join',
    sql: `SELECT l_orderkey, sum(l_extendedprice * (1 - l_discount)) AS revenue, CAST(o_orderdate AS VARCHAR) AS orderdate, o_shippriority
      FROM tpch.customer, tpch.orders, tpch.lineitem
      WHERE c_mktsegment = 'BUILDING' AND c_custkey = o_custkey AND l_orderkey = o_orderkey
        AND o_orderdate < DATE '1995-03-15' AND l_shipdate > DATE '1995-03-15'
      GROUP BY l_orderkey, o_orderdate, o_shippriority ORDER BY revenue DESC, orderdate, l_orderkey LIMIT 10`,
  },
  {
    name: 'Q5 local supplier volume',
    kind: 'join',
    sql: `SELECT n_name, sum(l_extendedprice * (1 - l_discount)) AS revenue
      FROM tpch.customer, tpch.orders, tpch.lineitem, tpch.supplier, tpch.nation, tpch.region
      WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey AND l_suppkey = s_suppkey AND c_nationkey = s_nationkey
        AND s_nationkey = n_nationkey AND n_regionkey = r_regionkey AND r_name = 'ASIA'
        AND o_orderdate >= DATE '1994-01-01' AND o_orderdate < DATE '1995-01-01'
      GROUP BY n_name ORDER BY revenue DESC, n_name`,
  },
  {
    name: 'Q6 forecast revenue',
    kind: 'aggregate',
    sql: `SELECT sum(l_extendedprice * l_discount) AS revenue FROM tpch.lineitem
      WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01' AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24`,
  },
  {
    name: 'Q10 returned items',
    kind: 'join',
    sql: `SELECT c_custkey, c_name, sum(l_extendedprice * (1 - l_discount)) AS revenue, c_acctbal, n_name
      FROM tpch.customer, tpch.orders, tpch.lineitem, tpch.nation
      WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey AND o_orderdate >= DATE '1993-10-01'
        AND o_orderdate < DATE '1994-01-01' AND l_returnflag = 'R' AND c_nationkey = n_nationkey
      GROUP BY c_custkey, c_name, c_acctbal, n_name ORDER BY revenue DESC, c_custkey LIMIT 20`,
  },
  {
    name: 'Q12 ship modes',
    kind: 'join',
    sql: `SELECT l_shipmode, sum(CASE WHEN o_orderpriority IN ('1-URGENT', '2-HIGH') THEN 1 ELSE 0 END) AS high_line_count,
        sum(CASE WHEN o_orderpriority NOT IN ('1-URGENT', '2-HIGH') THEN 1 ELSE 0 END) AS low_line_count
      FROM tpch.orders, tpch.lineitem
      WHERE o_orderkey = l_orderkey AND l_shipmode IN ('MAIL', 'SHIP') AND l_commitdate < l_receiptdate
        AND l_shipdate < l_commitdate AND l_receiptdate >= DATE '1994-01-01' AND l_receiptdate < DATE '1995-01-01'
      GROUP BY l_shipmode ORDER BY l_shipmode`,
  },
  {
    name: 'Q14 promotion effect',
    kind: 'join',
    sql: `SELECT 100.00 * sum(CASE WHEN p_type LIKE 'PROMO%' THEN l_extendedprice * (1 - l_discount) ELSE 0 END)
        / sum(l_extendedprice * (1 - l_discount)) AS promo_revenue
      FROM tpch.lineitem, tpch.part WHERE l_partkey = p_partkey AND l_shipdate >= DATE '1995-09-01' AND l_shipdate < DATE '1995-10-01'`,
  },
  {
    name: 'distinct suppliers per mode',
    kind: 'aggregate',
    sql: `SELECT l_shipmode, count(*) AS lines, count(DISTINCT l_suppkey) AS suppliers, sum(l_quantity) AS qty
      FROM tpch.lineitem GROUP BY l_shipmode ORDER BY l_shipmode`,
  },
  {
    name: 'window: top customers per nation',
    kind: 'window',
    sql: `SELECT nation, c_custkey, spend, rk FROM (
        SELECT c_nationkey AS nation, c_custkey, sum(o_totalprice) AS spend,
          rank() OVER (PARTITION BY c_nationkey ORDER BY sum(o_totalprice) DESC, c_custkey) AS rk
        FROM tpch.customer JOIN tpch.orders ON o_custkey = c_custkey GROUP BY c_nationkey, c_custkey) t
      WHERE rk <= 3 ORDER BY nation, rk`,
  },
  {
    name: 'top-N lines by price',
    kind: 'top-N',
    sql: `SELECT l_orderkey, l_linenumber, l_extendedprice FROM tpch.lineitem
      ORDER BY l_extendedprice DESC, l_orderkey, l_linenumber LIMIT 100`,
  },
];

/** What a result must agree on across paths: rows, the sum of numeric cells, the string cells. */
interface Check {
  rows: number;
  sum: number;
  strings: string;
}

function checkOf(rows: unknown[][]): Check {
  let sum = 0;
  const strings: string[] = [];
  for (const row of rows)
    for (const cell of row) {
      if (cell === null || cell === undefined) continue;
      const text = String(cell);
      const num = Number(text);
      if (text.trim() !== '' && Number.isFinite(num)) sum += num;
      else strings.push(text);
    }
  return { rows: rows.length, sum, strings: strings.sort().join('|') };
}

function agrees(a: Check, b: Check): boolean {
  const tol = Math.max(1e-6, Math.abs(a.sum) * 1e-9);
  return a.rows === b.rows && Math.abs(a.sum - b.sum) <= tol && a.strings === b.strings;
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitFor(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sluice serve exited ${child.exitCode}: ${log()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`sluice serve did not come up: ${log()}`);
}

/** Median ms of `reps` runs (after one warm-up run), and the last result's check. */
async function timeIt(times: number, run: () => Promise<unknown[][]>): Promise<{ ms: number; check: Check }> {
  let rows = await run();
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    rows = await run();
    ms.push(performance.now() - t0);
  }
  return { ms: median(ms), check: checkOf(rows) };
}

/**
 * Rows of a simple-protocol `SELECT` read straight off the socket (DataRow messages counted,
 * not decoded): the server's streaming rate without a client library's row decoding.
 */
function rawStream(port: number, sql: string): Promise<{ rows: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let pending = Buffer.alloc(0);
    let rows = 0;
    let bytes = 0;
    let sent = false;
    const params = Buffer.from('user\0sluice\0database\0sluice\0\0');
    const startup = Buffer.alloc(8 + params.length);
    startup.writeInt32BE(startup.length, 0);
    startup.writeInt32BE(196608, 4);
    params.copy(startup, 8);
    socket.on('connect', () => socket.write(startup));
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let at = 0;
      while (buf.length - at >= 5) {
        const len = buf.readInt32BE(at + 1);
        if (buf.length - at < 1 + len) break;
        const type = String.fromCharCode(buf[at] as number);
        if (type === 'D') rows++;
        else if (type === 'E') reject(new Error(buf.subarray(at + 5, at + 1 + len).toString()));
        else if (type === 'Z') {
          if (!sent) {
            sent = true;
            const q = Buffer.from(`${sql}\0`);
            const msg = Buffer.alloc(5 + q.length);
            msg.write('Q', 0);
            msg.writeInt32BE(4 + q.length, 1);
            q.copy(msg, 5);
            socket.write(msg);
          } else {
            socket.end();
            resolve({ rows, bytes });
          }
        }
        at += 1 + len;
      }
      buf = buf.subarray(at);
      pending = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
    });
  });
}

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'sluice-bench-tpch-'));
  const dir = join(root, 'proj');
  let server: ChildProcess | undefined;
  let postgres: Awaited<ReturnType<typeof startPostgres>> | undefined;
  try {
    console.log(
      `scale ${scale}: ${NORD.toLocaleString()} orders, ~${(NORD * 4).toLocaleString()} lineitem rows`,
    );
    // 1. Generate the tables through the engine (CREATE TABLE AS = table layer appends).
    await scaffoldProject(dir, { name: 'tpch' });
    const project = await loadProject(dir);
    const runtime = await openRuntime(project, createLogger({ level: 'silent', stderr: false }));
    const engine = await openEngine(runtime, { fileAccess: 'all' });
    const session = await engine.openSession({ name: 'bench', readOnly: false });
    const t0 = performance.now();
    for (const t of [...TABLES, 'stream']) {
      const r = await session.run(`CREATE TABLE tpch.${t} AS ${GENERATE[t]}`);
      console.log(`  tpch.${t}: ${r.rowsChanged?.toLocaleString() ?? '?'} rows`);
    }
    const genMs = performance.now() - t0;
    await session.close();
    await engine.close();
    const files: Record<string, string[]> = {};
    const catalog = openCatalog({ meta: runtime.meta, store: runtime.store });
    const planner = await openDuck();
    if (TABLES.includes('lineitem')) {
      // lineitem is loaded ordered by ship date and declares that sort order, as a user loading
      // date-ordered data would (what `ALTER TABLE ... WRITE ORDERED BY` commits over the REST
      // catalog): Parquet row-group statistics on l_shipdate then let date filters skip data.
      const id = { namespace: ['tpch'], name: 'lineitem' };
      const loaded = await catalog.loadTable(id);
      const schema = loaded.metadata.schemas.find(
        (x) => x['schema-id'] === loaded.metadata['current-schema-id'],
      );
      const field = schema?.fields.find((f) => f.name === 'l_shipdate');
      if (!field) throw new Error('tpch.lineitem has no l_shipdate');
      await catalog.commitTable(
        id,
        [],
        [
          {
            action: 'add-sort-order',
            'sort-order': {
              'order-id': 1,
              fields: [
                {
                  transform: 'identity',
                  'source-id': field.id,
                  direction: 'asc',
                  'null-order': 'nulls-first',
                },
              ],
            },
          },
          { action: 'set-default-sort-order', 'sort-order-id': -1 },
        ],
      );
    }
    for (const t of [...TABLES, 'stream']) {
      const table = await openTable(catalog, runtime.store, planner, { namespace: ['tpch'], name: t });
      const plan = await table.planScan();
      files[t] = plan.files.map((f) => f.localPath);
    }
    await planner.close();
    await runtime.close();
    console.log(`generated in ${(genMs / 1000).toFixed(1)} s`);

    // 2. DuckDB directly on the same Parquet files, same thread count.
    const duck = await DuckDBInstance.create(':memory:', { threads: String(cpus().length) });
    const dconn = await duck.connect();
    await dconn.run('CREATE SCHEMA tpch');
    for (const [t, paths] of Object.entries(files))
      await dconn.run(
        `CREATE VIEW tpch.${t} AS SELECT * FROM read_parquet([${paths.map((p) => `'${p}'`).join(', ')}])`,
      );

    // 3. PostgreSQL with the same rows (CSV exported by DuckDB, loaded with COPY).
    const results: Record<string, Record<string, number>> = {};
    const mismatches: string[] = [];
    let medPgwire = Number.NaN;
    let aggRatios: number[] = [];
    let pgClient: pg.Client | undefined;
    if (!streamOnly) {
      postgres = await startPostgres();
      const pgc = new pg.Client(postgres.url);
      await pgc.connect();
      await pgc.query("ALTER SYSTEM SET work_mem = '256MB'");
      await pgc.query("ALTER SYSTEM SET max_parallel_workers_per_gather = '2'");
      await pgc.query('SELECT pg_reload_conf()');
      await pgc.end();
      pgClient = new pg.Client(postgres.url);
      await pgClient.connect();
      await pgClient.query('CREATE SCHEMA tpch');
      const l0 = performance.now();
      for (const t of TABLES) {
        const cols = (await dconn.runAndReadAll(`DESCRIBE tpch.${t}`)).getRowObjects();
        const ddl = cols.map((c) => `${c.column_name} ${String(c.column_type).replace('VARCHAR', 'TEXT')}`);
        await pgClient.query(`CREATE TABLE tpch.${t} (${ddl.join(', ')})`);
        const csv = join(root, `${t}.csv`);
        await dconn.run(`COPY tpch.${t} TO '${csv}' (FORMAT csv, HEADER false)`);
        execFileSync('psql', [postgres.url, '-q', '-c', `\\copy tpch.${t} FROM '${csv}' WITH (FORMAT csv)`]);
        rmSync(csv);
      }
      await pgClient.query('VACUUM ANALYZE');
      console.log(`PostgreSQL loaded in ${((performance.now() - l0) / 1000).toFixed(1)} s`);
    }

    // 4. `sluice serve` over the project: HTTP and pgwire.
    const httpPort = await freePort();
    const pgPort = await freePort();
    let serverLog = '';
    server = spawn(
      process.execPath,
      [bin, 'serve', '--role', 'api', '--http-port', String(httpPort), '--pg-port', String(pgPort)],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server.stdout?.on('data', (d) => {
      serverLog += d;
    });
    server.stderr?.on('data', (d) => {
      serverLog += d;
    });
    await waitFor(`http://127.0.0.1:${httpPort}/api/v1/health`, server, () => serverLog);
    const wire = new pg.Client(`postgres://sluice@127.0.0.1:${pgPort}/sluice`);
    await wire.connect();
    wire.on('error', () => {});

    if (!streamOnly) {
      const postgresClient = pgClient as pg.Client;
      const paths: Record<string, (sql: string) => Promise<unknown[][]>> = {
        duckdb: async (sql) => (await dconn.runAndReadAll(sql)).getRows().map((r) => r.map(String)),
        pgwire: async (sql) => (await wire.query({ text: sql, rowMode: 'array' })).rows,
        http: async (sql) => {
          const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/sql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ sql }),
          });
          const body = (await res.json()) as { rows?: unknown[][]; error?: unknown };
          if (!res.ok) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body)}`);
          return body.rows ?? [];
        },
        postgres: async (sql) => (await postgresClient.query({ text: sql, rowMode: 'array' })).rows,
      };

      const table: (string | number)[][] = [];
      for (const q of QUERIES) {
        const row: Record<string, number> = {};
        let reference: Check | undefined;
        for (const [path, run] of Object.entries(paths)) {
          const r = await timeIt(path === 'postgres' ? pgReps : reps, () => run(q.sql));
          row[path] = r.ms;
          reference ??= r.check;
          if (!agrees(reference, r.check))
            mismatches.push(
              `${q.name}: ${path} ${JSON.stringify(r.check)} vs duckdb ${JSON.stringify(reference)}`,
            );
        }
        results[q.name] = row;
        const { duckdb = 0, pgwire = 0, http = 0, postgres: pgMs = 0 } = row;
        table.push([
          q.name,
          q.kind,
          reference?.rows ?? 0,
          fmt(duckdb),
          fmt(pgwire),
          fmt(http),
          fmt(pgMs),
          ratio(pgwire, duckdb),
          ratio(pgMs, pgwire),
        ]);
      }
      console.log(`\nmedian ms of ${reps} runs (PostgreSQL ${pgReps}), after one warm-up run each`);
      printTable(
        [
          'query',
          'kind',
          'rows',
          'DuckDB direct',
          'pgwire',
          'HTTP',
          'PostgreSQL',
          'pgwire/DuckDB',
          'PG/pgwire',
        ],
        table,
      );
      const pgwireRatios = QUERIES.map(
        (q) => (results[q.name]?.pgwire ?? 0) / (results[q.name]?.duckdb ?? 1),
      );
      aggRatios = QUERIES.filter((q) => q.kind === 'aggregate').map(
        (q) => (results[q.name]?.postgres ?? 0) / (results[q.name]?.pgwire ?? 1),
      );
      medPgwire = median(pgwireRatios);
      const minAgg = Math.min(...aggRatios);
      console.log(
        `pgwire/DuckDB direct, median over queries: ${medPgwire.toFixed(2)}× (target ≤ 1.15×: ${medPgwire <= 1.15 ? 'met' : 'MISSED'})`,
      );
      console.log(
        `PostgreSQL/pgwire on aggregates: ${aggRatios.map((r) => `${r.toFixed(1)}×`).join(', ')} (target ≥ 10×: ${minAgg >= 10 ? 'met' : 'MISSED'})`,
      );
      if (mismatches.length) {
        console.log('\nRESULTS DISAGREE:');
        for (const m of mismatches) console.log(`  ${m}`);
      } else console.log('all results agree across the four paths (rows, numeric sum, string cells)');
    }

    // 5. Streaming a large SELECT *.
    const streamSql = 'SELECT * FROM tpch.stream';
    const s0 = performance.now();
    let duckRows = 0;
    const streamed = await dconn.stream(streamSql);
    for (;;) {
      const chunk = await streamed.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      duckRows += (chunk.getRows() as DuckDBValue[][]).length;
    }
    const duckStreamMs = performance.now() - s0;
    const w0 = performance.now();
    const raw = await rawStream(pgPort, streamSql);
    const wireStreamMs = performance.now() - w0;
    const c0 = performance.now();
    execFileSync(
      'sh',
      [
        '-c',
        `psql "postgres://sluice@127.0.0.1:${pgPort}/sluice" -q -c "COPY (${streamSql}) TO STDOUT" > /dev/null`,
      ],
      { stdio: 'inherit' },
    );
    const copyMs = performance.now() - c0;
    const rate = (rows: number, ms: number) => Math.round(rows / (ms / 1000));
    console.log(`\nstreaming ${streamRows.toLocaleString()} rows of ${streamSql} (id, k, x, s, d)`);
    printTable(
      ['reader', 'rows', 'ms', 'rows/s', 'vs DuckDB direct'],
      [
        [
          'DuckDB direct (chunks → JS values)',
          duckRows,
          fmt(duckStreamMs),
          rate(duckRows, duckStreamMs),
          '1.00×',
        ],
        [
          'pgwire simple query (DataRows counted)',
          raw.rows,
          fmt(wireStreamMs),
          rate(raw.rows, wireStreamMs),
          ratio(rate(raw.rows, wireStreamMs), rate(duckRows, duckStreamMs)),
        ],
        [
          'psql COPY (query) TO STDOUT',
          streamRows,
          fmt(copyMs),
          rate(streamRows, copyMs),
          ratio(rate(streamRows, copyMs), rate(duckRows, duckStreamMs)),
        ],
      ],
    );
    if (raw.rows !== duckRows)
      mismatches.push(`stream: pgwire sent ${raw.rows} rows, DuckDB read ${duckRows}`);
    await wire.end();
    await pgClient?.end();
    dconn.closeSync();
    console.log(
      `saved ${saveResult('sql-tpch', {
        scale,
        reps,
        pgReps,
        results,
        medPgwire,
        aggRatios,
        mismatches,
        stream: { rows: streamRows, duckStreamMs, wireStreamMs, wireBytes: raw.bytes, copyMs },
      })}`,
    );
    if (mismatches.length) process.exitCode = 1;
  } finally {
    server?.kill('SIGTERM');
    await postgres?.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
