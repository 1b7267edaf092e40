import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serve } from '@hono/node-server';
import { publishTaskKind } from '../../src/bus/index.js';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import { createLogger } from '../../src/observe/index.js';
import { openRuntime, type Runtime } from '../../src/runtime/index.js';
import type { TaskContext, TaskProgress } from '../../src/runtime/tasks.js';
import { tempDir } from '../helpers/cli.js';
import { businessType, call, openTestBus, orderEvent, type TestBus, TOKENS } from './bus-helpers.js';

describe('publish task kind', () => {
  const tmp = tempDir();
  let t: TestBus;
  let runtime: Runtime;
  let server: ReturnType<typeof serve>;
  let base = '';
  const progress: TaskProgress[] = [];

  before(async () => {
    t = await openTestBus();
    server = await new Promise((resolve) => {
      const s = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    assert.equal(
      (await call(t, 'POST', '/event-types', { token: TOKENS.admin, body: businessType('task.orders') }))
        .status,
      201,
    );
    const dir = join(tmp.dir, 'proj');
    await scaffoldProject(dir, { name: 'proj' });
    runtime = await openRuntime(await loadProject(dir), createLogger({ level: 'silent', stderr: false }));
    await writeFile(
      join(dir, 'orders.ndjson'),
      [1, 2, 3].map((i) => JSON.stringify(orderEvent(`f${i}`))).join('\n'),
    );
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await runtime.close();
    await t.close();
    tmp.remove();
  });

  const ctx = (): TaskContext => ({
    runtime,
    log: runtime.log,
    pipeline: 'p',
    taskId: 'publish_orders',
    runId: 'r1',
    attempt: 1,
    dataIntervalStart: new Date(),
    dataIntervalEnd: new Date(),
    params: {},
    signal: AbortSignal.timeout(10_000),
    progress: (p) => progress.push(p),
  });
  const run = (spec: Record<string, unknown>) =>
    publishTaskKind.run(ctx(), publishTaskKind.schema.parse({ server: base, token: TOKENS.writer, ...spec }));
  const stored = async () => {
    const parts = (await (
      await call(t, 'GET', '/event-types/task.orders/partitions', { token: TOKENS.admin })
    ).json()) as {
      newest_available_offset: string;
    }[];
    return parts.reduce(
      (n, p) => n + (p.newest_available_offset === 'BEGIN' ? 0 : Number(p.newest_available_offset) + 1),
      0,
    );
  };

  test('publishes a project file and inline events in batches', async () => {
    const r = await run({ event_type: 'task.orders', file: 'orders.ndjson', batch_size: 2 });
    assert.deepEqual(r.summary, { eventType: 'task.orders', published: 3 });
    assert.deepEqual(
      progress.map((p) => p.rows),
      [2, 3],
    );
    await run({ event_type: 'task.orders', events: [orderEvent('inline')] });
    assert.equal(await stored(), 4);
  });

  test('refuses bad specs, invalid events and missing rights, naming the failure', async () => {
    assert.throws(
      () => publishTaskKind.schema.parse({ event_type: 'x', events: [], file: 'a' }),
      /exactly one/,
    );
    await assert.rejects(
      run({ event_type: 'task.orders', events: [orderEvent('ok'), { order_number: 1 }] }),
      /422 after 0 event\(s\): event 1 failed at validating/,
    );
    await assert.rejects(
      run({ event_type: 'task.orders', events: [orderEvent('x')], token: TOKENS.reader }),
      /403/,
    );
    await assert.rejects(run({ event_type: 'task.orders', file: 'missing.ndjson' }), /ENOENT/);
    assert.equal(await stored(), 4);
  });
});
