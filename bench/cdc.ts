// CDC from PostgreSQL into an upserted lake table: sustained changes/s applied and end-to-end
// lag (source commit → lake commit, per batch, measured from the batch's first transaction)
// at a fixed rate and at the maximum rate the generator reaches. The baseline is the source
// itself: the rate at which PostgreSQL commits the same changes.
// BENCH_CDC_ROWS (default 100,000) rows in the table, BENCH_CDC_SECONDS (default 20) per phase,
// BENCH_CDC_RATE (default 5,000) changes/s of the fixed-rate phase.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadProject, scaffoldProject } from '../src/config/index.js';
import { type AppliedBatch, runCdc } from '../src/ingest/cdc/index.js';
import { createLogger } from '../src/observe/index.js';
import { openRuntime, type Runtime } from '../src/runtime/index.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { printTable, saveResult } from './util.js';

const rows = Number(process.env.BENCH_CDC_ROWS ?? 100_000);
const seconds = Number(process.env.BENCH_CDC_SECONDS ?? 20);
const fixedRate = Number(process.env.BENCH_CDC_RATE ?? 5_000);
const TX_CHANGES = 500;

interface Phase {
  name: string;
  generated: number;
  sourcePerS: number;
  appliedPerS: number;
  lagP50Ms: number;
  lagP95Ms: number;
  batches: number;
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * p))] ?? 0;
}

/** Update TX_CHANGES rows per transaction, at `rate` changes/s (Infinity: as fast as PostgreSQL takes them). */
async function generate(
  url: string,
  rate: number,
  ms: number,
): Promise<{ changes: number; elapsedMs: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const start = Date.now();
  let changes = 0;
  let at = 0;
  try {
    while (Date.now() - start < ms) {
      const from = at % rows;
      at += TX_CHANGES;
      await c.query(
        'UPDATE bench_orders SET qty = qty + 1, amount = amount + 0.01, updated_at = now() WHERE id > $1 AND id <= $2',
        [from, from + TX_CHANGES],
      );
      changes += TX_CHANGES;
      const due = start + (changes / rate) * 1000;
      if (Number.isFinite(rate) && due > Date.now())
        await new Promise((r) => setTimeout(r, due - Date.now()));
    }
  } finally {
    await c.end();
  }
  return { changes, elapsedMs: Date.now() - start };
}

async function phase(
  runtime: Runtime,
  url: string,
  name: string,
  rate: number,
  spec: Parameters<typeof runCdc>[1],
) {
  const batches: AppliedBatch[] = [];
  const ac = new AbortController();
  const running = runCdc(runtime, spec, { signal: ac.signal, onBatch: (b) => batches.push(b) }).catch(
    (err) => {
      if (!ac.signal.aborted) throw err;
    },
  );
  await new Promise((r) => setTimeout(r, 2000));
  const started = Date.now();
  const gen = await generate(url, rate, seconds * 1000);
  // Wait until every generated change is applied.
  const deadline = Date.now() + 120_000;
  const applied = () => batches.filter((b) => b.committedAtMs >= started).reduce((n, b) => n + b.changes, 0);
  while (applied() < gen.changes && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const mine = batches.filter((b) => b.committedAtMs >= started);
  const lastAt = Math.max(...mine.map((b) => b.committedAtMs));
  ac.abort();
  await running;
  const lags = mine.map((b) => b.committedAtMs - b.firstCommitMs);
  return {
    name,
    generated: gen.changes,
    sourcePerS: Math.round(gen.changes / (gen.elapsedMs / 1000)),
    appliedPerS: Math.round(applied() / ((lastAt - started) / 1000)),
    lagP50Ms: percentile(lags, 0.5),
    lagP95Ms: percentile(lags, 0.95),
    batches: mine.length,
  } satisfies Phase;
}

async function main() {
  const server = await startPostgres();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-cdc-'));
  const root = join(dir, 'proj');
  await scaffoldProject(root, { name: 'bench' });
  // BENCH_CDC_LOG=debug prints each batch commit (table, keys, changes, ms) on stderr.
  const level = process.env.BENCH_CDC_LOG === 'debug' ? 'debug' : 'silent';
  const runtime = await openRuntime(
    await loadProject(root),
    createLogger({ level, stderr: level === 'debug' }),
  );
  try {
    const c = new pg.Client({ connectionString: server.url });
    await c.connect();
    await c.query(`CREATE TABLE bench_orders (id bigint PRIMARY KEY, qty int, amount numeric(12,2), status text,
      updated_at timestamptz); INSERT INTO bench_orders SELECT g, 0, g % 1000, 'new', now() FROM generate_series(1, ${rows}) g`);
    await c.end();
    const spec = {
      name: 'bench',
      source: {
        postgres_cdc: {
          url: server.url,
          tables: ['bench_orders'],
          namespace: 'bench',
          keys: {},
          batch: { interval: 1000, max_changes: 100_000 },
          snapshot: { chunk_rows: 100_000, parallel: 1 },
          change_stream: false,
          heartbeat: 5000,
          lag_alert_bytes: 1024 ** 3,
        },
      },
    };
    const t0 = Date.now();
    const snap = await runCdc(runtime, spec, { signal: AbortSignal.timeout(300_000), untilCaughtUp: true });
    const snapshotMs = Date.now() - t0;
    const results: Phase[] = [];
    results.push(await phase(runtime, server.url, `fixed ${fixedRate}/s`, fixedRate, spec));
    results.push(await phase(runtime, server.url, 'max rate', Number.POSITIVE_INFINITY, spec));
    console.log(`initial snapshot: ${snap.snapshotRows} rows in ${snapshotMs} ms`);
    printTable(
      ['phase', 'changes', 'source commits/s', 'applied/s', 'ratio', 'lag p50 ms', 'lag p95 ms', 'batches'],
      results.map((r) => [
        r.name,
        r.generated,
        r.sourcePerS,
        r.appliedPerS,
        `${(r.appliedPerS / r.sourcePerS).toFixed(2)}×`,
        r.lagP50Ms,
        r.lagP95Ms,
        r.batches,
      ]),
    );
    console.log(`saved ${saveResult('cdc', { rows, seconds, snapshotMs, phases: results })}`);
  } finally {
    await runtime.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
