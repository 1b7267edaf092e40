// CLI cold start: `sluice --help` and `sluice version` against bare `node -e 0` on the same
// machine in the same run. Target: `sluice --help` ≤ 300 ms.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { median, printTable, saveResult } from './util.js';

const bin = new URL('../../bin/sluice.js', import.meta.url).pathname;
const runs = Number(process.env.BENCH_RUNS ?? 20);

function time(args: string[]): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

const node = time(['-e', '0']);
const help = time([bin, '--help']);
const version = time([bin, 'version']);
printTable(
  ['command', 'median ms', 'vs bare node', 'target'],
  [
    ['node -e 0', node.toFixed(1), '1.00×', ''],
    [
      'sluice --help',
      help.toFixed(1),
      `${(help / node).toFixed(2)}×`,
      help <= 300 ? '≤ 300 ms: met' : '≤ 300 ms: MISSED',
    ],
    ['sluice version', version.toFixed(1), `${(version / node).toFixed(2)}×`, ''],
  ],
);
console.log(`saved ${saveResult('cli', { runs, nodeMs: node, helpMs: help, versionMs: version })}`);
