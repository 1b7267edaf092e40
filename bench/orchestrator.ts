// Orchestrator: (1) 1,000 no-op tasks in a wide+deep DAG on the embedded backend, trigger to
// run end (target ≤ 5 s); (2) trigger → first task start latency p50/p99 over single-task
// runs; (3) PostgreSQL with 4 worker processes: tasks/s and double executions (target 0).
// BENCH_PG_URL=postgres://... runs part 3 against that server; otherwise one is started.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from '../src/config/index.js';
import { silentLogger } from '../src/observe/index.js';
import { openOrchestrator } from '../src/orchestrator/index.js';
import { openRuntime } from '../src/runtime/index.js';
import { benchOutDir, printTable, saveResult } from './util.js';

const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;

/** `layers` × `width` no-op tasks; each depends on two tasks of the layer before. */
function dag(name: string, layers: number, width: number): string {
  const lines = [`name: ${name}`, 'tasks:'];
  for (let l = 0; l < layers; l++) {
    for (let w = 0; w < width; w++) {
      const deps = l === 0 ? '' : `, depends_on: [t${l - 1}_${w}, t${l - 1}_${(w * 7 + 3) % width}]`;
      lines.push(`  - { id: t${l}_${w}${deps}, noop: {} }`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function project(metastore: string | undefined, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-orch-'));
  const meta = metastore ? `metastore: { url: "${metastore}", poolMax: 24 }\n` : '';
  writeFileSync(
    join(dir, 'sluice.yaml'),
    `name: bench\n${meta}orchestrator: { pollMs: 200, concurrency: 16 }\n`,
  );
  mkdirSync(join(dir, 'pipelines'));
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, 'pipelines', f), text);
  return dir;
}

async function open(dir: string) {
  const runtime = await openRuntime(await loadProject(dir, { env: {} }), silentLogger);
  const orch = await openOrchestrator(runtime);
  return {
    runtime,
    orch,
    close: async () => {
      await orch.close();
      await runtime.close();
    },
  };
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? 0;

async function embedded(): Promise<Record<string, number>> {
  const dir = project(undefined, {
    'wide.yaml': dag('wide', 10, 100),
    'one.yaml': 'name: one\ntasks: [{ id: a, noop: {} }]\n',
  });
  const o = await open(dir);
  try {
    await o.orch.startWorker({ concurrency: 16 });
    const t0 = performance.now();
    const run = await o.orch.trigger('wide');
    const done = await o.orch.waitForRun(run.runId, { pollMs: 50 });
    const dagMs = performance.now() - t0;
    if (done.state !== 'success') throw new Error(`the DAG run ended ${done.state}`);
    const latencies: number[] = [];
    for (let i = 0; i < 100; i++) {
      const r = await o.orch.trigger('one');
      await o.orch.waitForRun(r.runId, { pollMs: 5 });
      const [task] = await o.orch.taskRuns(r.runId);
      latencies.push(task!.startedAt!.getTime() - r.createdAt.getTime());
    }
    return {
      dagMs,
      tasksPerSecond: 1000 / (dagMs / 1000),
      latencyP50Ms: pct(latencies, 0.5),
      latencyP99Ms: pct(latencies, 0.99),
    };
  } finally {
    await o.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgres(): Promise<Record<string, number>> {
  let url = process.env.BENCH_PG_URL;
  let stop: (() => Promise<void>) | undefined;
  if (!url) {
    const { startPostgres } = await import('../test/helpers/postgres.js');
    const server = await startPostgres();
    url = server.url;
    stop = server.stop;
  }
  const dir = project(url, { 'wide.yaml': dag('wide', 20, 100) });
  const o = await open(dir);
  // The workers' log lines go to a file, so they do not interleave with the results table.
  mkdirSync(benchOutDir, { recursive: true });
  const logFile = join(benchOutDir, 'orchestrator-workers.log');
  const log = createWriteStream(logFile);
  console.log(`worker logs: ${logFile}`);
  const workers = Array.from({ length: 4 }, () => {
    const w = spawn(process.execPath, [bin, '--project', dir, 'serve', '--role', 'worker'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    w.stdout.pipe(log, { end: false });
    w.stderr.pipe(log, { end: false });
    return w;
  });
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) =>
            w.stdout.on('data', (d) => String(d).includes('Ctrl-C') && resolve()),
          ),
      ),
    );
    const t0 = performance.now();
    const run = await o.orch.trigger('wide');
    const done = await o.orch.waitForRun(run.runId, { pollMs: 100 });
    const ms = performance.now() - t0;
    // A double execution is a task whose body ran to success twice; attempts lost before the
    // body ran (a worker losing its lease) are retries, counted apart.
    const [row] = await o.runtime.meta.query<{ attempts: number; tasks: number; successes: number }>(
      `SELECT COUNT(*) AS attempts, COUNT(DISTINCT task_id) AS tasks,
              SUM(CASE WHEN state = 'success' THEN 1 ELSE 0 END) AS successes
       FROM sluice_task_attempts WHERE run_id = ?`,
      [run.runId],
    );
    if (done.state !== 'success') throw new Error(`the PostgreSQL run ended ${done.state}`);
    return {
      tasks: Number(row?.tasks),
      ms,
      tasksPerSecond: Number(row?.tasks) / (ms / 1000),
      doubleExecutions: Number(row?.successes) - Number(row?.tasks),
      extraAttempts: Number(row?.attempts) - Number(row?.tasks),
    };
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(
      workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once('exit', r)))),
    );
    await new Promise((r) => log.end(r));
    await o.close();
    await stop?.();
    rmSync(dir, { recursive: true, force: true });
  }
}

const e = await embedded();
printTable(
  ['embedded (SQLite, 1 process, 16 slots)', 'value', 'target'],
  [
    [
      '1,000-task DAG, trigger → run end',
      `${(e.dagMs! / 1000).toFixed(2)} s`,
      e.dagMs! <= 5000 ? '≤ 5 s: met' : '≤ 5 s: MISSED',
    ],
    ['tasks/s', e.tasksPerSecond!.toFixed(0), ''],
    ['trigger → task start p50', `${e.latencyP50Ms} ms`, ''],
    ['trigger → task start p99', `${e.latencyP99Ms} ms`, ''],
  ],
);
const pg = process.env.BENCH_SKIP_PG ? undefined : await postgres();
if (pg) {
  printTable(
    ['PostgreSQL, 4 worker processes', 'value', 'target'],
    [
      ['tasks', pg.tasks!, ''],
      ['wall time', `${(pg.ms! / 1000).toFixed(2)} s`, ''],
      ['tasks/s', pg.tasksPerSecond!.toFixed(0), ''],
      ['double executions', pg.doubleExecutions!, pg.doubleExecutions === 0 ? '0: met' : '0: MISSED'],
      ['attempts retried after a lost lease', pg.extraAttempts!, ''],
    ],
  );
}
console.log(`saved ${saveResult('orchestrator', { embedded: e, postgres: pg })}`);
