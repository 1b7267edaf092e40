#!/usr/bin/env node
// Runs the benchmarks (compiled to dist/bench) one after another: `npm run bench [-- name...]`.
// Results print as tables with ratios and are saved under bench/out/ (record them in bench/RESULTS.md).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = new URL('../dist/bench/', import.meta.url).pathname;
if (!existsSync(dir)) {
  console.error('dist/bench is missing: run `npm run build` first.');
  process.exit(1);
}
const wanted = process.argv.slice(2);
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.js') && f !== 'util.js')
  .map((f) => f.slice(0, -3))
  .sort();
const names = wanted.length ? wanted : all;
let failed = 0;
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`unknown benchmark "${name}"; available: ${all.join(', ')}`);
    process.exit(2);
  }
  console.log(`\n== ${name} ==`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(dir, `${name}.js`)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
