// Web UI benchmarks, in headless Chromium (Debian `chromium`, driven by playwright-core):
// 1. first load of the Runs page with 1,000 runs in history (time from navigation until rows
//    show), beside the same browser loading the raw JSON of /api/v1/health (the floor of a
//    page load from this server). Target: ≤ 1 s.
// 2. `npm start` (`sluice demo`) on a fresh directory: time until the UI it prints answers,
//    including the first pipeline runs. Target: ≤ 60 s. Skipped with BENCH_UI_DEMO=0.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromium } from 'playwright-core';
import { loadProject } from '../src/config/index.js';
import { createLogger } from '../src/observe/index.js';
import { sharedOrchestrator } from '../src/orchestrator/index.js';
import { openRuntime } from '../src/runtime/index.js';
import { startServer } from '../src/serve/index.js';
import { median, printTable, saveResult } from './util.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const RUNS = Number(process.env.BENCH_UI_RUNS ?? 1000);
const SAMPLES = Number(process.env.BENCH_RUNS ?? 7);
const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;

if (!existsSync(CHROMIUM)) {
  console.error(`chromium not found at ${CHROMIUM} (set CHROMIUM)`);
  process.exit(1);
}

async function runsPageLoad(): Promise<{ page: number; floor: number; rows: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-ui-'));
  writeFileSync(join(dir, 'sluice.yaml'), 'name: bench-ui\n');
  const pipelines = join(dir, 'pipelines');
  await import('node:fs/promises').then((fs) => fs.mkdir(pipelines));
  writeFileSync(
    join(pipelines, 'nightly.yaml'),
    'name: nightly\nschedule: "0 2 * * *"\ntasks:\n  - { id: extract, noop: {} }\n  - { id: load, depends_on: [extract], noop: {} }\n',
  );
  const runtime = await openRuntime(await loadProject(dir), createLogger({ level: 'silent', stderr: false }));
  const server = await startServer(runtime, { host: '127.0.0.1', httpPort: 0 });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu'],
  });
  try {
    // One run made by the orchestrator, then a history of RUNS finished runs written in one
    // statement (the same rows; triggering and running them one by one would only make the
    // setup slow), spread over the last ten days.
    const orch = await sharedOrchestrator(runtime);
    const first = await orch.trigger('nightly');
    const day = 86_400_000;
    const start = Date.now() - 11 * day;
    const step = Math.floor((10 * day) / RUNS);
    await runtime.meta.execute(
      `INSERT INTO sluice_runs (run_id, pipeline, version_hash, trigger_kind, run_key, data_interval_start,
         data_interval_end, params, state, created_at, started_at, ended_at)
       WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
       SELECT 'bench-' || i, 'nightly', ?, 'schedule', 'bench-' || i, ? + i * ?, ? + i * ? + ?, '{}',
         CASE WHEN i % 7 = 0 THEN 'failed' ELSE 'success' END, ? + i * ? + ?, ? + i * ? + ?, ? + i * ? + ?
       FROM seq`,
      [
        RUNS - 1,
        first.versionHash,
        start,
        step,
        start,
        step,
        day,
        start,
        step,
        day,
        start,
        step,
        day,
        start,
        step,
        day + 4000,
      ],
    );
    const time = async (path: string, ready: string): Promise<number> => {
      const samples: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        const context = await browser.newContext(); // empty cache: a first load every time
        const page = await context.newPage();
        const t0 = performance.now();
        await page.goto(`${server.url}${path}`);
        await page.locator(ready).first().waitFor({ timeout: 30_000 });
        samples.push(performance.now() - t0);
        await context.close();
      }
      return median(samples);
    };
    const floor = await time('/api/v1/health', 'body');
    const page = await time('/runs', 'tr[data-run]');
    const context = await browser.newContext();
    const p = await context.newPage();
    await p.goto(`${server.url}/runs`);
    await p.locator('tr[data-run]').first().waitFor();
    const total = Number(((await p.locator('.toolbar .muted').textContent()) ?? '').match(/of (\d+)/)?.[1]);
    await context.close();
    return { page, floor, rows: total };
  } finally {
    await browser.close();
    await server.close();
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Spawn `sluice demo` in an empty directory; resolve with the ms until its printed UI URL answers. */
async function demoStart(): Promise<{ uiMs: number; exitCode: number | null }> {
  const cwd = mkdtempSync(join(tmpdir(), 'sluice-bench-demo-'));
  const t0 = performance.now();
  const child = spawn(process.execPath, [bin, 'demo'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /web UI\s+(http:\/\/\S+?)\/?\s/.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`sluice demo exited ${code}: ${err.slice(-2000)}`)));
      setTimeout(() => reject(new Error(`no UI URL within 300 s: ${err.slice(-2000)}`)), 300_000).unref();
    });
    for (;;) {
      const res = await fetch(`${url}/`).catch(() => undefined);
      if (res?.ok && (await res.text()).includes('<div id="root">')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const uiMs = performance.now() - t0;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    return { uiMs, exitCode: await exited };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(cwd, { recursive: true, force: true });
  }
}

const load = await runsPageLoad();
const demo = process.env.BENCH_UI_DEMO === '0' ? undefined : await demoStart();
printTable(
  ['measure', 'median ms', 'vs floor', 'target'],
  [
    ['raw JSON page (/api/v1/health), first load', load.floor.toFixed(0), '1.00×', ''],
    [
      `Runs page first load, ${load.rows} runs, until rows show`,
      load.page.toFixed(0),
      `${(load.page / load.floor).toFixed(2)}×`,
      load.page <= 1000 ? '≤ 1 s: met' : '≤ 1 s: MISSED',
    ],
    ...(demo
      ? [
          [
            '`npm start` on a fresh directory until the UI answers',
            demo.uiMs.toFixed(0),
            '',
            demo.uiMs <= 60_000 ? '≤ 60 s: met' : '≤ 60 s: MISSED',
          ],
        ]
      : []),
  ],
);
if (demo && demo.exitCode !== 0) console.log(`note: sluice demo exited ${demo.exitCode} after Ctrl-C`);
console.log(`saved ${saveResult('ui', { runs: RUNS, samples: SAMPLES, ...load, demo })}`);
