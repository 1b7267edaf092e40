import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import { createLogger, createMetrics } from '../../src/observe/index.js';
import { openRuntime, type Runtime } from '../../src/runtime/index.js';
import { createApp, DEFAULT_BODY_LIMIT_BYTES, startServer } from '../../src/serve/index.js';
import { runCli, tempDir } from '../helpers/cli.js';

describe('HTTP server', () => {
  const tmp = tempDir();
  let runtime: Runtime;
  before(async () => {
    const dir = join(tmp.dir, 'proj');
    await scaffoldProject(dir, { name: 'proj' });
    const project = await loadProject(dir);
    runtime = await openRuntime(project, createLogger({ level: 'silent', stderr: false }));
  });
  after(async () => {
    await runtime?.close();
    tmp.remove();
  });

  const app = () => createApp({ runtime, metrics: createMetrics(), startedAt: new Date() });

  test('health reports each backend and readiness', async () => {
    const res = await app().request('/api/v1/health');
    assert.equal(res.status, 200);
    const body = (await res.json()) as { ready: boolean; backends: { name: string; ok: boolean }[] };
    assert.equal(body.ready, true);
    assert.deepEqual(body.backends.map((b) => [b.name, b.ok]).sort(), [
      ['metastore', true],
      ['storage', true],
    ]);
  });

  test('metrics are Prometheus text with request latency by route', async () => {
    const a = app();
    await a.request('/api/v1/health');
    const res = await a.request('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    assert.match(text, /^# TYPE sluice_http_request_duration_seconds histogram$/m);
    assert.match(
      text,
      /sluice_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/health",status="200"\} 1/,
    );
    assert.match(text, /^process_resident_memory_bytes \d+/m);
  });

  test('unknown routes and oversized bodies get JSON errors, not crashes', async () => {
    const a = app();
    const missing = await a.request('/api/v1/nope');
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'not_found');
    const big = await a.request('/api/v1/health', {
      method: 'POST',
      body: 'x'.repeat(DEFAULT_BODY_LIMIT_BYTES + 1),
      headers: { 'content-length': String(DEFAULT_BODY_LIMIT_BYTES + 1) },
    });
    assert.equal(big.status, 413);
  });

  test('a real listener answers and refuses non-loopback binds without auth', async () => {
    const server = await startServer(runtime, { host: '127.0.0.1', httpPort: 0 });
    try {
      const res = await fetch(`${server.url}/api/v1/health`);
      assert.equal(res.status, 200);
    } finally {
      await server.close();
    }
    await assert.rejects(
      startServer(runtime, { host: '0.0.0.0', httpPort: 0 }),
      /refusing to listen on 0\.0\.0\.0/,
    );
  });

  test('sluice serve starts, answers, and stops on SIGTERM', async () => {
    const dir = join(tmp.dir, 'proj');
    const { spawn } = await import('node:child_process');
    const { sluiceBin } = await import('../helpers/cli.js');
    const child = spawn(
      process.execPath,
      [sluiceBin, 'serve', '--json', '--http-port', '0', '--project', dir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${stdout}`)), 20_000);
      child.stdout.on('data', () => {
        const m = /"url": "([^"]+)"/.exec(stdout);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    const res = await fetch(`${url}/api/v1/health`);
    assert.equal(res.status, 200);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const bad = await runCli(['serve', '--http-port', 'abc', '--project', dir]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--http-port must be a port number/);
  });
});
