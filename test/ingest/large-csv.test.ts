import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openDuck } from '../../src/duck/index.js';
import { type IngestEnv, openIngestEnv, tableSnapshots } from './helpers.js';

const WORKER = fileURLToPath(new URL('./crash-worker.js', import.meta.url));
const ROWS = 2_500_000;

let env: IngestEnv;
before(async () => {
  env = await openIngestEnv();
});
after(async () => {
  await env.close();
});

test('a CSV far larger than the memory limit loads in bounded memory (multi-GB runs are in bench/ingest.ts)', async () => {
  const dir = join(env.dir, 'big');
  await mkdir(dir);
  const file = join(dir, 'big.csv');
  const duck = await openDuck({ threads: 1 });
  try {
    await duck.run(
      `COPY (SELECT i AS id, 'customer-' || (i % 5000) AS customer, (i % 997) * 1.25 AS amount, md5(i::VARCHAR) AS note FROM range(${ROWS}) t(i)) TO '${file}' (FORMAT csv, HEADER)`,
    );
  } finally {
    await duck.close();
  }
  const bytes = (await stat(file)).size;
  assert.ok(bytes > 128 * 1024 ** 2, 'the file is larger than the memory limit');
  const spec = { source: { files: { path: 'big' } }, sink: { table: 'big.csv' }, memory_limit: '128MB' };
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, env.dir, JSON.stringify(spec), 'big'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(text) : reject(new Error(`worker exited with ${code}`)),
    );
  });
  const summary = JSON.parse(out.trim());
  assert.equal(summary.written, ROWS, out);
  const snap = (await tableSnapshots(env.runtime, 'big.csv')).at(-1);
  assert.equal(snap?.summary['total-records'], String(ROWS));
  // Node, DuckDB and their libraries take ~250 MiB before any data; the file is never held whole.
  assert.ok(
    summary.maxRssMiB < 256 + bytes / 1024 ** 2,
    `peak RSS ${Math.round(summary.maxRssMiB)} MiB for a ${Math.round(bytes / 1024 ** 2)} MiB file`,
  );
});
