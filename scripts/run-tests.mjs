#!/usr/bin/env node
// Runs the whole test suite with node's test runner. One PostgreSQL server and one
// S3-compatible server are started for the run and shared by all test files (each file
// uses its own database / key prefix); they are torn down at the end, whatever happens.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const testRoot = join(root, 'dist', 'test');

function findTests(dir) {
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

if (!existsSync(testRoot)) {
  console.error('dist/test is missing: run `npm run build` first (npm test does it).');
  process.exit(1);
}
const filter = process.argv.slice(2);
const files = findTests(testRoot).filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)));
if (files.length === 0) {
  console.error(`no test files matched ${filter.join(' ')}`);
  process.exit(1);
}

const services = [];
async function startServices() {
  const { startPostgres } = await import(join(testRoot, 'helpers', 'postgres.js'));
  const { startS3 } = await import(join(testRoot, 'helpers', 's3.js'));
  const started = Date.now();
  const [pg, s3] = await Promise.all([startPostgres(), startS3()]);
  services.push(pg, s3);
  process.env.SLUICE_TEST_PG_URL = pg.url;
  process.env.SLUICE_TEST_S3_ENDPOINT = s3.endpoint;
  process.env.SLUICE_TEST_S3_BUCKET = s3.bucket;
  process.env.SLUICE_TEST_S3_ACCESS_KEY_ID = s3.accessKeyId;
  process.env.SLUICE_TEST_S3_SECRET_ACCESS_KEY = s3.secretAccessKey;
  console.log(`test services: PostgreSQL and S3 started in ${Date.now() - started} ms`);
}

async function stopServices() {
  await Promise.allSettled(services.map((s) => s.stop()));
}

let code = 1;
try {
  await startServices();
  console.log(`running ${files.length} test files`);
  code = await new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--test',
        '--test-reporter=spec',
        `--test-concurrency=${process.env.SLUICE_TEST_CONCURRENCY ?? 2}`,
        '--test-timeout=300000',
        ...files.map((f) => relative(root, f)),
      ],
      { cwd: root, stdio: 'inherit', env: process.env },
    );
    for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
    child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0)));
  });
} catch (err) {
  console.error('test run failed to start:', err);
} finally {
  await stopServices();
}
process.exit(code);
