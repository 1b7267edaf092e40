// `sluice sql "select 1"` cold start (embedded: config, metastore, DuckDB, one statement),
// against bare `node -e 0` and a bare DuckDB `select 1` script in the same run. Also
// reports the CPU time of the process, which machine load does not inflate.
// Target: `sluice sql "select 1"` ≤ 500 ms.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, printTable, saveResult } from './util.js';

const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;
const duckApi = new URL('../../node_modules/@duckdb/node-api/lib/index.js', import.meta.url).href;
const runs = Number(process.env.BENCH_RUNS ?? 15);
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-sql-'));

function time(args: string[], cwd: string): { wallMs: number; cpuMs: number } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, ...args], {
      cwd,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    wall.push(performance.now() - t0);
    const [u = '0', s = '0'] = (r.stderr.trim().split('\n').pop() ?? '').split(' ');
    cpu.push((Number(u) + Number(s)) * 1000);
  }
  return { wallMs: median(wall), cpuMs: median(cpu) };
}

try {
  const init = spawnSync(process.execPath, [bin, 'init', dir], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(init.stderr);
  spawnSync(process.execPath, [bin, 'sql', 'CREATE TABLE b.t AS SELECT range AS id FROM range(1000)'], {
    cwd: dir,
  });
  const node = time(['-e', '0'], dir);
  const duck = time(
    [
      '--input-type=module',
      '-e',
      `const {DuckDBInstance}=await import('${duckApi}');const i=await DuckDBInstance.create(':memory:');const c=await i.connect();await c.run('select 1');`,
    ],
    dir,
  );
  const sql = time([bin, 'sql', 'select 1'], dir);
  const table = time([bin, 'sql', 'select count(*) from b.t'], dir);
  const verdict = sql.wallMs <= 500 ? '≤ 500 ms: met' : '≤ 500 ms: MISSED';
  printTable(
    ['command', 'median wall ms', 'median CPU ms', 'target'],
    [
      ['node -e 0', node.wallMs.toFixed(0), node.cpuMs.toFixed(0), ''],
      ['bare DuckDB select 1', duck.wallMs.toFixed(0), duck.cpuMs.toFixed(0), ''],
      ['sluice sql "select 1"', sql.wallMs.toFixed(0), sql.cpuMs.toFixed(0), verdict],
      ['sluice sql "select count(*) from b.t"', table.wallMs.toFixed(0), table.cpuMs.toFixed(0), ''],
    ],
  );
  console.log(`saved ${saveResult('sql-cli', { runs, node, duck, sql, table })}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
