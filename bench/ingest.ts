// Ingestion against bare DuckDB on the same machine in the same run:
//  - a CSV file (BENCH_CSV_GB, default 1) loaded into an Iceberg table by the files source vs
//    DuckDB `COPY (SELECT * FROM read_csv(...)) TO parquet` (targets: ≥ 0.8× and peak RSS ≤ 1.5 GB);
//  - a local mock HTTP API, BENCH_HTTP_RECORDS (default 1,000,000) records at 1,000 per page,
//    to a table end to end (target ≥ 50,000 records/s).
// Each side runs in its own child process so peak RSS is its own.
// BENCH_ONLY=csv|http runs one case; BENCH_CPU_PROF_DIR=DIR writes a CPU profile of each
// Sluice child (node --cpu-prof) there.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadProject } from '../src/config/index.js';
import { openDuck } from '../src/duck/index.js';
import { ingestSpecSchema, ingestTaskKind } from '../src/ingest/index.js';
import { silentLogger } from '../src/observe/index.js';
import { openRuntime } from '../src/runtime/index.js';
import { printTable, saveResult } from './util.js';

const SELF = fileURLToPath(import.meta.url);
const csvGiB = Number(process.env.BENCH_CSV_GB ?? 1);
const httpRecords = Number(process.env.BENCH_HTTP_RECORDS ?? 1_000_000);
const memoryLimit = process.env.BENCH_DUCKDB_MEMORY ?? '1GB';
const PAGE = 1000;

interface ChildResult {
  ms: number;
  /** CPU time of the child (user + system, all threads): steadier than wall time on a loaded machine. */
  cpuMs: number;
  maxRssMiB: number;
  summary?: Record<string, unknown>;
}

/** One measured side, in this process (invoked as a child). */
async function child(mode: string, dir: string, arg: string): Promise<void> {
  const t0 = performance.now();
  let summary: Record<string, unknown> | undefined;
  if (mode === 'duckdb') {
    const duck = await openDuck({ memoryLimit, tempDir: join(dir, 'duck-tmp') });
    await duck.run(
      `COPY (SELECT * FROM read_csv('${arg}')) TO '${join(dir, 'baseline.parquet')}' (FORMAT parquet)`,
    );
    await duck.close();
  } else {
    const runtime = await openRuntime(await loadProject(dir), silentLogger);
    const spec = ingestSpecSchema.parse(JSON.parse(arg));
    const ctx = {
      runtime,
      log: silentLogger,
      pipeline: 'bench',
      taskId: mode,
      runId: `bench-${Date.now()}`,
      attempt: 1,
      dataIntervalStart: new Date(),
      dataIntervalEnd: new Date(),
      params: {},
      signal: new AbortController().signal,
      progress: () => {},
    };
    summary = (await ingestTaskKind.run(ctx, spec)).summary;
    await runtime.close();
  }
  const cpu = process.cpuUsage();
  const result: ChildResult = {
    ms: performance.now() - t0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    summary,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function measure(mode: string, dir: string, arg: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const prof = process.env.BENCH_CPU_PROF_DIR;
    const flags = prof && mode !== 'duckdb' ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
    const p = spawn(process.execPath, [...flags, SELF, 'child', mode, dir, arg], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${mode} exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1) as string));
    });
  });
}

async function project(root: string, name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'sluice.yaml'), `name: ${name}\n`);
  return dir;
}

async function csvBench(root: string) {
  const data = join(root, 'data');
  await mkdir(data, { recursive: true });
  const file = join(data, 'orders.csv');
  const rows = Math.round((csvGiB * 1024 ** 3) / 110);
  const duck = await openDuck({ memoryLimit });
  await duck.run(
    `COPY (SELECT i AS id, (i % 100000) AS user_id, 'cat-' || (i % 20) AS category, ((i * 7919) % 1000000 / 100.0)::DECIMAL(12,2) AS amount,
      TIMESTAMP '2024-01-01' + to_seconds(i % 31536000) AS created_at, DATE '2024-01-01' + (i % 365)::INTEGER AS day,
      (i % 3 = 0) AS flag, md5(i::VARCHAR) AS note FROM range(${rows}) t(i)) TO '${file}' (FORMAT csv, HEADER)`,
  );
  await duck.close();
  const bytes = (await stat(file)).size;
  const baseline = await measure('duckdb', await project(root, 'duckdb'), file);
  const dir = await project(root, 'sluice-csv');
  const spec = {
    source: { files: { path: data, glob: '*.csv' } },
    sink: { table: 'bench.orders' },
    memory_limit: memoryLimit,
  };
  const sluice = await measure('csv', dir, JSON.stringify(spec));
  return { rows, bytes, baseline, sluice };
}

async function httpBench(root: string) {
  const pages = Math.ceil(httpRecords / PAGE);
  const bodies: Buffer[] = [];
  for (let p = 0; p < pages; p++) {
    const items = [];
    for (let i = p * PAGE; i < Math.min(httpRecords, (p + 1) * PAGE); i++)
      items.push({
        id: i,
        name: `item-${i}`,
        amount: (i % 10000) / 100,
        updated_at: new Date(1704067200000 + i * 1000).toISOString(),
        tags: ['a', 'b'],
      });
    bodies.push(Buffer.from(JSON.stringify({ data: { items }, meta: { page: p + 1 } })));
  }
  const server = createServer((req, res) => {
    const page = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('page') ?? 1);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(bodies[page - 1] ?? '{"data":{"items":[]}}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`;
  try {
    const spec = {
      source: {
        http: { url, records: 'data.items', paginate: { style: 'page', size_param: 'per_page', size: PAGE } },
      },
      sink: { table: 'bench.api' },
      memory_limit: memoryLimit,
    };
    const sluice = await measure('http', await project(root, 'sluice-http'), JSON.stringify(spec));
    return { records: httpRecords, pages, sluice };
  } finally {
    server.close();
  }
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'sluice-bench-ingest-'));
  try {
    const only = process.env.BENCH_ONLY;
    const csv = only === 'http' ? undefined : await csvBench(root);
    const ratio = csv ? csv.baseline.ms / csv.sluice.ms : Number.NaN;
    const http = only === 'csv' ? undefined : await httpBench(root);
    const rate = http ? http.records / (http.sluice.ms / 1000) : Number.NaN;
    const rows: (string | number)[][] = [];
    if (csv)
      rows.push([
        'CSV → table vs DuckDB COPY to Parquet',
        `${(csv.bytes / 1024 ** 3).toFixed(2)} GiB, ${csv.rows.toLocaleString()} rows`,
        (csv.sluice.ms / 1000).toFixed(1),
        (csv.baseline.ms / 1000).toFixed(1),
        `${ratio.toFixed(2)}×`,
        Math.round(csv.sluice.maxRssMiB),
        `≥ 0.8× and ≤ 1536 MiB: ${ratio >= 0.8 && csv.sluice.maxRssMiB <= 1536 ? 'met' : 'NOT met'}`,
      ]);
    if (http)
      rows.push([
        'mock HTTP API → table',
        `${http.records.toLocaleString()} records, ${http.pages} pages`,
        (http.sluice.ms / 1000).toFixed(1),
        '',
        `${Math.round(rate).toLocaleString()} rec/s`,
        Math.round(http.sluice.maxRssMiB),
        `≥ 50,000 rec/s: ${rate >= 50_000 ? 'met' : 'NOT met'}`,
      ]);
    printTable(['case', 'size', 'Sluice s', 'baseline s', 'ratio', 'Sluice peak RSS MiB', 'target'], rows);
    if (csv) console.log(`DuckDB baseline peak RSS: ${Math.round(csv.baseline.maxRssMiB)} MiB`);
    if (csv)
      console.log(
        `CSV CPU time: Sluice ${(csv.sluice.cpuMs / 1000).toFixed(1)} s, DuckDB ${(csv.baseline.cpuMs / 1000).toFixed(1)} s`,
      );
    if (http)
      console.log(
        `HTTP CPU time: ${(http.sluice.cpuMs / 1000).toFixed(1)} s (${Math.round(http.records / (http.sluice.cpuMs / 1000)).toLocaleString()} records per CPU second)`,
      );
    saveResult('ingest', { csv, http, csvRatio: ratio, httpRecordsPerSecond: rate });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'child')
  await child(process.argv[3] as string, process.argv[4] as string, process.argv[5] as string);
else await main();
