import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Hono } from 'hono';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import { createLogger, createMetrics } from '../../src/observe/index.js';
import { openRuntime, type Runtime } from '../../src/runtime/index.js';
import { createApp, DEFAULT_UI_ROOT, serveUi } from '../../src/serve/index.js';
import { packageVersion } from '../../src/util/index.js';
import { tempDir } from '../helpers/cli.js';

describe('web UI serving', () => {
  const tmp = tempDir();
  let runtime: Runtime;
  let app: Hono;
  const startedAt = new Date(Date.now() - 5000);
  before(async () => {
    const dir = join(tmp.dir, 'proj');
    await scaffoldProject(dir, { name: 'ui-proj' });
    runtime = await openRuntime(await loadProject(dir), createLogger({ level: 'silent', stderr: false }));
    app = createApp({ runtime, metrics: createMetrics(), startedAt });
  });
  after(async () => {
    await runtime?.close();
    tmp.remove();
  });

  const builtAsset = (ext: string) => {
    const name = readdirSync(join(DEFAULT_UI_ROOT, 'assets')).find((f) => f.endsWith(ext));
    assert.ok(name, `no built ${ext} asset in ${DEFAULT_UI_ROOT}assets: run the UI build`);
    return `/assets/${name}`;
  };

  test('index.html is served at / and at client routes, never cached', async () => {
    for (const path of ['/', '/tables/shop.orders', '/pipelines/x/runs/42']) {
      const res = await app.request(path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      assert.match(await res.text(), /<div id="root"><\/div>/);
    }
  });

  test('hashed assets get their content type and a long immutable cache', async () => {
    for (const [ext, type] of [
      ['.js', 'text/javascript; charset=utf-8'],
      ['.css', 'text/css; charset=utf-8'],
    ]) {
      const res = await app.request(builtAsset(ext ?? ''));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), type);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.ok((await res.arrayBuffer()).byteLength > 0);
    }
    const icon = await app.request('/favicon.svg');
    assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
    assert.equal(icon.headers.get('cache-control'), 'no-cache');
    const head = await app.request(builtAsset('.js'), { method: 'HEAD' });
    assert.equal(head.status, 200);
  });

  test('a missing asset is a 404, not the app shell', async () => {
    for (const path of ['/assets/index-missing.js', '/logo.png']) {
      const res = await app.request(path);
      assert.equal(res.status, 404, path);
    }
  });

  test('paths cannot leave the UI directory', async () => {
    for (const path of [
      '/..%2f..%2f..%2f..%2fetc%2fpasswd',
      '/assets/..%2f..%2f..%2fpackage.json',
      '/%2e%2e%2f%2e%2e%2fsrc%2fserve%2fui.ts',
    ]) {
      const res = await app.request(path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(await res.text(), /root:|"name": "sluice"|serveUi/);
    }
    // Dot segments are resolved by URL parsing before routing: the result is a client route.
    const dotted = await app.request('/../../etc/passwd');
    assert.equal(dotted.status, 200);
    assert.match(await dotted.text(), /<div id="root">/);
    assert.equal((await app.request('/%E0%A4%A')).status, 400);
    assert.equal((await app.request('/.vite/manifest.json')).status, 404);
  });

  test('API paths keep their JSON 404 and other surfaces are untouched', async () => {
    for (const path of ['/api/v1/nope', '/api', '/event-types/x', '/subscriptions']) {
      const res = await app.request(path);
      assert.equal(res.status, 404, path);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'not_found');
    }
    const metrics = await app.request('/metrics');
    assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
    const post = await app.request('/tables/x', { method: 'POST' });
    assert.equal(post.status, 404);
  });

  test('GET /api/v1/info describes the server without probing backends', async () => {
    const res = await app.request('/api/v1/info');
    assert.equal(res.status, 200);
    const info = (await res.json()) as Record<string, unknown> & {
      backends: { name: string; url: string }[];
    };
    assert.equal(info.project, 'ui-proj');
    assert.equal(info.version, packageVersion());
    assert.equal(info.node, process.version);
    assert.equal(info.startedAt, startedAt.toISOString());
    assert.ok(typeof info.uptimeSeconds === 'number' && info.uptimeSeconds >= 5);
    assert.ok(Date.parse(String(info.now)) >= startedAt.getTime());
    assert.deepEqual(
      info.backends.map((b) => b.name),
      ['metastore', 'storage'],
    );
    assert.match(info.backends[0]?.url ?? '', /^sqlite:/);
  });

  test('without a build, pages say how to build and the API still answers', async () => {
    const bare = new Hono();
    bare.get('/api/ok', (c) => c.json({ ok: true }));
    bare.get('*', serveUi({ root: join(tmp.dir, 'no-such-build') }));
    const res = await bare.request('/');
    assert.equal(res.status, 500);
    assert.match(await res.text(), /npm run build/);
    assert.equal((await bare.request('/api/ok')).status, 200);
  });
});
