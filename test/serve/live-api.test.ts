import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AuthStore } from '../../src/auth/index.js';
import { openCatalog } from '../../src/catalog/index.js';
import { openDuck } from '../../src/duck/index.js';
import { createMetrics } from '../../src/observe/index.js';
import { sharedOrchestrator } from '../../src/orchestrator/index.js';
import { EventStreamHub } from '../../src/serve/event-stream.js';
import { type RunningServer, startServer } from '../../src/serve/index.js';
import { openTable } from '../../src/table/index.js';
import { callAs } from '../helpers/http.js';
import { openTestProject, type TestProject } from '../orchestrator/helpers.js';

const FILES = {
  'pipelines/hourly.yaml': `name: hourly
schedule: "0 * * * *"
tasks:
  - { id: a, noop: {} }
  - { id: b, depends_on: [a], noop: {} }
`,
};

interface SseEvent {
  event: string;
  data: unknown;
}

/** Read SSE frames from a streaming response until `done` says stop (or the time runs out). */
async function readEvents(
  res: Response,
  done: (events: SseEvent[]) => boolean,
  timeoutMs: number,
): Promise<{ events: SseEvent[]; comments: number }> {
  const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  const events: SseEvent[] = [];
  let comments = 0;
  let buffer = '';
  const timer = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    while (!done(events)) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        if (frame.startsWith(':')) comments += 1;
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event) events.push({ event, data: data ? JSON.parse(data) : undefined });
      }
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => undefined);
  }
  return { events, comments };
}

/**
 * Create `shop.<name>` (the namespace exists) with one long column `n`, then append the rows
 * of each query in turn. Answers the table's snapshot id after each append.
 */
async function createNumbersTable(p: TestProject, name: string, appends: string[]): Promise<string[]> {
  const catalog = openCatalog({ meta: p.runtime.meta, store: p.runtime.store });
  const id = { namespace: ['shop'], name };
  await catalog.createTable(id, {
    schema: {
      type: 'struct',
      'schema-id': 0,
      fields: [{ id: 1, name: 'n', required: false, type: 'long' }],
    },
  });
  const duck = await openDuck();
  const snapshots: string[] = [];
  try {
    const table = await openTable(catalog, p.runtime.store, duck, id);
    for (const sql of appends) {
      await table.append({ sql });
      snapshots.push(String((await catalog.loadTable(id)).metadata['current-snapshot-id']));
    }
  } finally {
    await duck.close();
  }
  return snapshots;
}

describe('live event stream, backfill and rollback over HTTP', () => {
  let p: TestProject;
  let server: RunningServer;
  const tokens: Record<string, string> = {};
  const call = callAs(() => server.url, tokens);

  before(async () => {
    p = await openTestProject(FILES, {
      sluiceYaml: 'orchestrator: { pollMs: 50 }\nauth: { required: true }\n',
    });
    const store = new AuthStore(p.runtime.meta);
    await store.createRole('readers');
    await store.createUser('admin1', { password: 'admin-password', roles: ['admin'] });
    await store.createUser('reader', { password: 'reader-password', roles: ['readers'] });
    await store.grant({ role: 'readers', kind: 'namespace', name: 'shop', privilege: 'read' });
    await store.grant({ role: 'readers', kind: 'pipeline', name: '*', privilege: 'view' });
    tokens.admin = (await store.createToken('admin1')).token;
    tokens.reader = (await store.createToken('reader')).token;
    server = await startServer(p.runtime, { host: '127.0.0.1', httpPort: 0 });
    await (await sharedOrchestrator(p.runtime)).startWorker();
  });
  after(async () => {
    await (await sharedOrchestrator(p.runtime)).close({ abort: true });
    await server?.close();
    await p?.close();
  });

  const streamClients = async () => {
    const text = await (await call('GET', '/metrics', 'admin')).text();
    return Number(/^sluice_http_stream_clients (\d+)/m.exec(text)?.[1]);
  };

  test('a run sends run events up to its final state; a commit sends a table event', async () => {
    assert.equal((await call('GET', '/api/v1/stream')).status, 401, 'the stream needs a caller');
    const bad = await call('GET', '/api/v1/stream?topics=runs,nope', 'admin');
    assert.equal(bad.status, 400);
    assert.match(
      ((await bad.json()) as { error: { message: string } }).error.message,
      /unknown stream topic "nope"/,
    );

    const res = await call('GET', '/api/v1/stream', 'admin');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(await streamClients(), 1);
    const { runId } = await p.orch.trigger('hourly');
    // A commit while the stream is open.
    const catalog = openCatalog({ meta: p.runtime.meta, store: p.runtime.store });
    await catalog.createNamespace(['shop']);
    const id = { namespace: ['shop'], name: 'live' };
    await createNumbersTable(p, 'live', ['SELECT 1 AS n']);
    const { events } = await readEvents(
      res,
      (es) =>
        es.some((e) => e.event === 'run' && (e.data as { state: string }).state === 'success') &&
        es.some((e) => e.event === 'table'),
      10_000,
    );
    assert.equal(events[0]?.event, 'ready');
    const runs = events
      .filter((e) => e.event === 'run')
      .map((e) => e.data as { runId: string; state: string });
    assert.ok(runs.every((r) => r.runId === runId));
    assert.equal(runs.at(-1)?.state, 'success');
    const table = events.find((e) => e.event === 'table')?.data as { table: string; snapshotId: string };
    assert.equal(table.table, 'shop.live');
    assert.equal(table.snapshotId, String((await catalog.loadTable(id)).metadata['current-snapshot-id']));
    // The client went away: the gauge follows.
    const deadline = Date.now() + 5000;
    while ((await streamClients()) !== 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(await streamClients(), 0);
  });

  test('a topic filter leaves other events out; idle streams get keep-alive comments', async () => {
    const registry = createMetrics().registry;
    const hub = new EventStreamHub(p.runtime, registry, { keepAliveMs: 50 });
    try {
      const res = await hub.open(new Set(['tables']));
      hub.publish('runs', 'run', { runId: 'x' });
      hub.publish('tables', 'table', { table: 'a.b' });
      const { events, comments } = await readEvents(res, (es) => es.length >= 2, 5000);
      assert.deepEqual(
        events.map((e) => e.event),
        ['ready', 'table'],
      );
      const more = await readEvents(await hub.open(new Set(['runs'])), () => false, 300);
      assert.ok(more.comments >= 2, `keep-alive comments: ${more.comments} (and ${comments} before)`);
    } finally {
      await hub.close();
    }
  });

  test('a client that does not read is dropped once its queue is full; close ends every stream', async () => {
    const registry = createMetrics().registry;
    const hub = new EventStreamHub(p.runtime, registry, { maxQueuedFrames: 20 });
    try {
      const slow = await hub.open(new Set(['runs']));
      const fast = await hub.open(new Set(['runs']));
      const reading = readEvents(fast, () => false, 60_000);
      const padding = 'x'.repeat(4096);
      for (let i = 0; i < 200; i++) {
        hub.publish('runs', 'run', { i, padding });
        await new Promise((r) => setImmediate(r));
      }
      assert.equal(hub.clients, 1, 'the slow client is gone, the reading one stays');
      assert.match(await registry.metrics(), /sluice_http_stream_dropped_total 1/);
      await hub.close();
      const { events } = await reading;
      assert.equal(events.filter((e) => e.event === 'run').length, 200);
      assert.equal(hub.clients, 0);
      await slow.body?.cancel();
    } finally {
      await hub.close();
    }
  });

  test('backfill creates one run per interval, at most `parallel` at first, and checks its input', async () => {
    const from = new Date(Date.UTC(2026, 0, 1, 0));
    const to = new Date(Date.UTC(2026, 0, 1, 2));
    const bad = await call('POST', '/api/v1/pipelines/hourly/backfill', 'admin', {
      from: to.toISOString(),
      to: from.toISOString(),
    });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /from ≤ to/);
    const badField = await call('POST', '/api/v1/pipelines/hourly/backfill', 'admin', {
      from: 'soon',
      to: 'x',
    });
    assert.equal(badField.status, 400);
    assert.match(await badField.text(), /from/);
    assert.equal(
      (
        await call('POST', '/api/v1/pipelines/hourly/backfill', 'reader', {
          from: from.toISOString(),
          to: to.toISOString(),
        })
      ).status,
      403,
    );

    const res = await call('POST', '/api/v1/pipelines/hourly/backfill', 'admin', {
      from: from.toISOString(),
      to: to.toISOString(),
      parallel: 2,
      params: { region: 'eu' },
    });
    assert.equal(res.status, 202);
    const body = (await res.json()) as { created: string[]; intervals: { start: string; runId?: string }[] };
    assert.equal(body.intervals.length, 3, 'hours 0, 1 and 2');
    assert.equal(body.created.length, 2, 'the answer comes with the first two runs');
    assert.deepEqual(
      body.intervals.slice(0, 2).map((i) => i.runId),
      body.created,
    );
    // The third is created in the background once a slot frees up.
    let runs = await p.orch.listRuns({ pipeline: 'hourly', limit: 50 });
    const deadline = Date.now() + 10_000;
    while (runs.filter((r) => r.trigger === 'backfill').length < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      runs = await p.orch.listRuns({ pipeline: 'hourly', limit: 50 });
    }
    const backfilled = runs.filter((r) => r.trigger === 'backfill');
    assert.equal(backfilled.length, 3);
    for (const run of backfilled) {
      assert.equal((await p.orch.waitForRun(run.runId)).state, 'success');
      assert.deepEqual(run.params, { region: 'eu' });
    }
    // Again: every interval has its run, nothing new.
    const again = (await (
      await call('POST', '/api/v1/pipelines/hourly/backfill', 'admin', {
        from: from.toISOString(),
        to: to.toISOString(),
      })
    ).json()) as { created: string[]; intervals: { existing: boolean }[] };
    assert.deepEqual(again.created, []);
    assert.ok(again.intervals.every((i) => i.existing));
  });

  test('rollback makes an earlier snapshot current, checks policy, ids and ancestry', async () => {
    const catalog = openCatalog({ meta: p.runtime.meta, store: p.runtime.store });
    const id = { namespace: ['shop'], name: 'orders' };
    const snapshots = await createNumbersTable(p, 'orders', ['SELECT 1 AS n', 'SELECT 2 AS n']);
    const url = '/api/v1/tables/shop/orders/rollback';
    const reader = await call('POST', url, 'reader', { snapshotId: snapshots[0] });
    assert.equal(reader.status, 403);
    const unknown = await call('POST', url, 'admin', { snapshotId: '42' });
    assert.equal(unknown.status, 404);
    assert.match(await unknown.text(), /no snapshot 42/);
    assert.equal((await call('POST', url, 'admin', { snapshotId: 'first' })).status, 400);
    assert.equal(
      (await call('POST', '/api/v1/tables/shop/nope/rollback', 'admin', { snapshotId: '1' })).status,
      404,
    );

    const res = await call('POST', url, 'admin', { snapshotId: snapshots[0] });
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await res.json(), {
      table: 'shop.orders',
      from: snapshots[1],
      to: snapshots[0],
      changed: true,
    });
    assert.equal(String((await catalog.loadTable(id)).metadata['current-snapshot-id']), snapshots[0]);
    // The later snapshot is not an ancestor of the current one any more: only with force.
    const forward = await call('POST', url, 'admin', { snapshotId: snapshots[1] });
    assert.equal(forward.status, 409);
    assert.match(await forward.text(), /not an ancestor/);
    assert.equal((await call('POST', url, 'admin', { snapshotId: snapshots[1], force: true })).status, 200);
    assert.equal(String((await catalog.loadTable(id)).metadata['current-snapshot-id']), snapshots[1]);
  });
});
