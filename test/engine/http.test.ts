import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Engine, openEngine } from '../../src/engine/index.js';
import { createMetrics } from '../../src/observe/index.js';
import { createApp, type RunningServer, startServer } from '../../src/serve/index.js';
import { type TestProject, testProject } from './helpers.js';

const SLOW = 'SELECT sum(a.range * b.range) AS s FROM range(300000) a, range(300000) b';

describe('POST /api/v1/sql', () => {
  let p: TestProject;
  let engine: Engine;
  let app: ReturnType<typeof createApp>;
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    app.request('/api/v1/sql', {
      method: 'POST',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...headers },
    });

  before(async () => {
    p = await testProject();
    engine = await openEngine(p.runtime);
    app = createApp({ runtime: p.runtime, metrics: createMetrics(), startedAt: new Date(), engine });
    const res = await post({
      sql: 'CREATE TABLE web.hits AS SELECT range AS id, range % 3 AS k FROM range(100)',
    });
    assert.equal(res.status, 200, await res.clone().text());
  });
  after(async () => {
    await engine?.close();
    await p?.remove();
  });

  test('answers JSON with columns, rows and a row limit', async () => {
    const res = await post({ sql: 'SELECT k, count(*) AS n FROM web.hits GROUP BY k ORDER BY k', limit: 2 });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(body.columns, [
      { name: 'k', type: 'BIGINT' },
      { name: 'n', type: 'BIGINT' },
    ]);
    assert.deepEqual(body.rows, [
      [0, 34],
      [1, 33],
    ]);
    assert.equal(body.truncated, true);
    assert.equal(body.statementType, 'SELECT');
  });

  test('streams NDJSON: a header, one line per row, a closing line', async () => {
    const res = await post(
      { sql: 'SELECT id FROM web.hits ORDER BY id' },
      { accept: 'application/x-ndjson' },
    );
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/x-ndjson/);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(lines[0], { columns: [{ name: 'id', type: 'BIGINT' }], statementType: 'SELECT' });
    assert.equal(lines.length, 102);
    assert.deepEqual(lines[100], [99]);
    assert.equal(lines[101].done, true);
    assert.equal(lines[101].rowCount, 100);
  });

  test('errors carry SQLSTATE and the line and column of the problem', async () => {
    const res = await post({ sql: 'SELECT id,\n  nope FROM web.hits' });
    assert.equal(res.status, 400);
    const { error } = (await res.json()) as { error: Record<string, unknown> };
    assert.equal(error.sqlState, '42703');
    assert.deepEqual(error.position, { offset: 13, line: 2, column: 3 });
    const syntax = await post({ sql: 'SELECT FROM WHERE' });
    assert.equal(((await syntax.json()) as { error: { sqlState: string } }).error.sqlState, '42601');
  });

  test('read-only requests cannot write (403, SQLSTATE 42501)', async () => {
    const res = await post({ sql: 'DELETE FROM web.hits', readOnly: true });
    assert.equal(res.status, 403);
    const { error } = (await res.json()) as { error: Record<string, unknown> };
    assert.equal(error.code, 'forbidden');
    assert.equal(error.sqlState, '42501');
  });

  test('bad requests get clear 400s', async () => {
    for (const body of ['not json', { query: 'SELECT 1' }, { sql: '' }, { sql: 'SELECT 1', limit: -1 }]) {
      const res = await post(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const { error } = (await res.json()) as { error: { message: string } };
      assert.ok(error.message.length > 0);
    }
  });

  test('a statement timeout answers 408 with SQLSTATE 57014', async () => {
    const res = await post({ sql: SLOW, timeoutMs: 100 });
    assert.equal(res.status, 408);
    assert.equal(((await res.json()) as { error: { sqlState: string } }).error.sqlState, '57014');
  });

  test('the OpenAPI document describes the platform API and is structurally valid', async () => {
    const res = await app.request('/api/v1/openapi.json');
    assert.equal(res.status, 200);
    const doc = (await res.json()) as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, Record<string, { responses?: Record<string, unknown>; operationId?: string }>>;
      components: { schemas: Record<string, unknown> };
    };
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.info.title && doc.info.version);
    for (const path of ['/api/v1/health', '/api/v1/info', '/api/v1/sql', '/api/v1/openapi.json'])
      assert.ok(doc.paths[path], path);
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      assert.match(path, /^\//);
      for (const [method, op] of Object.entries(item)) {
        assert.ok(['get', 'post', 'put', 'patch', 'delete', 'head'].includes(method), method);
        assert.ok(op.responses && Object.keys(op.responses).length > 0, `${method} ${path} has responses`);
        assert.ok(op.operationId && !ids.has(op.operationId), `${method} ${path} has a unique operationId`);
        ids.add(op.operationId);
      }
    }
    // Every reference points at a defined schema.
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    assert.ok(refs.length > 0);
    for (const ref of refs) {
      const name = /#\/components\/schemas\/([^"]+)/.exec(ref)?.[1];
      assert.ok(name && doc.components.schemas[name], ref);
    }
  });
});

describe('SQL over a real HTTP server', () => {
  let p: TestProject;
  let engine: Engine;
  let server: RunningServer;

  before(async () => {
    p = await testProject();
    engine = await openEngine(p.runtime, { maxConcurrentQueries: 1, queueSize: 0 });
    server = await startServer(p.runtime, { host: '127.0.0.1', httpPort: 0, engine });
  });
  after(async () => {
    await server?.close();
    await engine?.close();
    await p?.remove();
  });

  const run = (sql: string, signal?: AbortSignal) =>
    fetch(`${server.url}/api/v1/sql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ sql }),
      signal,
    });

  test('a client that disconnects cancels its statement and frees its slot', async () => {
    let ac = new AbortController();
    let slowAnswer = '';
    const startSlow = () => {
      slowAnswer = '';
      ac = new AbortController();
      return run(SLOW, ac.signal)
        .then(async (r) => {
          slowAnswer = `${r.status} ${await r.text()}`;
        })
        .catch(() => undefined);
    };
    let slow = startSlow();
    // The only slot is taken: another statement is refused at once. (A probe may win the slot
    // before the slow statement does; then the slow one is refused and started again.)
    let busy: Response | undefined;
    for (let i = 0; i < 1000 && busy?.status !== 429; i++) {
      if (slowAnswer.startsWith('429')) slow = startSlow();
      busy = await run('SELECT 1');
      await busy.text();
      if (busy.status !== 429) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(busy?.status, 429, `the slow statement answered: ${slowAnswer}`);
    ac.abort();
    await slow;
    // The cancelled statement gives its slot back, long before the query could have finished.
    let ok: Response | undefined;
    for (let i = 0; i < 500 && ok?.status !== 200; i++) {
      ok = await run('SELECT 42 AS x');
      if (ok.status !== 200) {
        await ok.text();
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    assert.equal(ok?.status, 200);
    assert.match(await (ok as Response).text(), /\[42\]/);
  });
});
