import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createEventBus, type EventBus, type EventLog } from '../../src/bus/index.js';
import { sinkEventsToTable } from '../../src/bus/lake-sink.js';
import { openEventLog } from '../../src/bus/log/index.js';
import { openCatalog } from '../../src/catalog/index.js';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import { openDuck } from '../../src/duck/index.js';
import { createLogger } from '../../src/observe/index.js';
import { openRuntime, type Runtime } from '../../src/runtime/index.js';
import { openTable } from '../../src/table/index.js';
import { tempDir } from '../helpers/cli.js';
import { businessType, customersType } from './bus-helpers.js';

const worker = new URL('./sink-worker.js', import.meta.url).pathname;
const DAY = 86_400_000;

describe('lake sink', () => {
  const tmp = tempDir();
  const dir = join(tmp.dir, 'proj');
  let runtime: Runtime;
  let eventLog: EventLog | undefined;
  let bus: EventBus;

  before(async () => {
    await scaffoldProject(dir, { name: 'proj' });
    runtime = await openRuntime(await loadProject(dir), createLogger({ level: 'silent', stderr: false }));
  });
  after(async () => {
    await eventLog?.close();
    await runtime?.close();
    tmp.remove();
  });

  async function openLog(): Promise<void> {
    await closeLog();
    eventLog = await openEventLog(runtime.project.config.bus, {
      dataDir: runtime.project.dataDir,
      log: runtime.log,
    });
    bus = createEventBus({
      meta: runtime.meta,
      eventLog,
      config: runtime.project.config.bus,
      log: runtime.log,
    });
  }
  async function closeLog(): Promise<void> {
    await eventLog?.close();
    eventLog = undefined;
  }

  const stat = { messages_per_minute: 1, message_size: 1, read_parallelism: 3, write_parallelism: 1 };
  const event = (eid: number, occurredMs: number, extra: object = {}) => ({
    order_number: `o-${eid}`,
    metadata: {
      eid: `00000000-0000-4000-8000-${String(eid).padStart(12, '0')}`,
      occurred_at: new Date(occurredMs).toISOString(),
    },
    ...extra,
  });
  async function publish(name: string, events: unknown[]): Promise<void> {
    const et = await bus.registry.get(name);
    const { publishBatch } = await import('../../src/bus/publish.js');
    const r = await publishBatch(
      { registry: bus.registry, eventLog: bus.eventLog, maxEventBytes: 1 << 20, log: runtime.log },
      et,
      events,
      { flowId: 'test' },
    );
    assert.equal(r.status, 200, JSON.stringify(r.items.find((i) => i.publishing_status === 'failed')));
  }
  async function rows(
    table: { namespace: string[]; name: string },
    sql: string,
  ): Promise<Record<string, unknown>[]> {
    const duck = await openDuck();
    try {
      const t = await openTable(
        openCatalog({ meta: runtime.meta, store: runtime.store }),
        runtime.store,
        duck,
        table,
      );
      const scan = t.scanSql(await t.planScan());
      return await duck.all(sql.replace('$T', `(${scan})`));
    } finally {
      await duck.close();
    }
  }

  test('duplicates and out-of-order events become a clean table, partitioned by day', async () => {
    await openLog();
    await bus.registry.create(businessType('shop.orders', { default_statistic: stat }));
    const t0 = Date.parse('2026-03-01T12:00:00Z');
    const first = [
      event(1, t0 + 2 * DAY),
      event(2, t0),
      event(3, t0 + DAY),
      event(1, t0 + 2 * DAY),
      event(4, t0 - DAY),
    ];
    await publish('shop.orders', first);
    const r1 = await sinkEventsToTable(runtime, bus.eventLog, {
      eventType: 'shop.orders',
      latenessMs: 0,
      untilCaughtUp: true,
      signal: AbortSignal.timeout(20_000),
    });
    assert.equal(r1.events, 4);
    await publish('shop.orders', [event(2, t0), event(5, t0 + DAY + 1000), event(3, t0 + DAY)]);
    const r2 = await sinkEventsToTable(runtime, bus.eventLog, {
      eventType: 'shop.orders',
      latenessMs: 0,
      untilCaughtUp: true,
      signal: AbortSignal.timeout(20_000),
    });
    assert.equal(r2.events, 1, 'only the new eid is written');
    const table = { namespace: ['events'], name: 'shop_orders' };
    const all = await rows(
      table,
      'SELECT eid, occurred_at::VARCHAR AS ts, event FROM $T ORDER BY occurred_at',
    );
    assert.deepEqual(
      all.map((r) => (r.eid as string).slice(-1)),
      ['4', '2', '3', '5', '1'],
    );
    const parsed = JSON.parse(all[0]?.event as string) as {
      order_number: string;
      metadata: { event_type: string };
    };
    assert.equal(parsed.order_number, 'o-4');
    assert.equal(parsed.metadata.event_type, 'shop.orders');
    const days = await rows(table, "SELECT count(DISTINCT date_trunc('day', occurred_at)) AS n FROM $T");
    assert.equal(Number(days[0]?.n), 4);
    await closeLog();
  });

  test('data change events are applied as upserts and deletes', async () => {
    await openLog();
    await bus.registry.create(customersType('crm.customers', { default_statistic: stat }));
    const t0 = Date.parse('2026-03-01T12:00:00Z');
    const change = (n: number, op: string, id: string, name: string) => ({
      metadata: { eid: crypto.randomUUID(), occurred_at: new Date(t0 + n * 1000).toISOString() },
      data_op: op,
      data_type: 'customer',
      data: { id, name },
    });
    await publish('crm.customers', [
      change(1, 'C', 'a', 'Ada'),
      change(2, 'C', 'b', 'Bob'),
      change(3, 'S', 'c', 'Cy'),
    ]);
    const sink = { eventType: 'crm.customers', latenessMs: 0, mode: 'upsert' as const, untilCaughtUp: true };
    await sinkEventsToTable(runtime, bus.eventLog, { ...sink, signal: AbortSignal.timeout(20_000) });
    await publish('crm.customers', [
      change(4, 'U', 'a', 'Ada L.'),
      change(5, 'D', 'b', 'Bob'),
      change(6, 'U', 'c', 'Cyd'),
    ]);
    await sinkEventsToTable(runtime, bus.eventLog, { ...sink, signal: AbortSignal.timeout(20_000) });
    const table = { namespace: ['events'], name: 'crm_customers' };
    const state = await rows(table, "SELECT key, data->>'$.name' AS name, data_op FROM $T ORDER BY key");
    assert.deepEqual(
      state.map((r) => [r.key, r.name, r.data_op]),
      [
        ['["a"]', 'Ada L.', 'U'],
        ['["c"]', 'Cyd', 'U'],
      ],
    );
    await closeLog();
  });

  test('a sink killed with SIGKILL resumes with no duplicate and no loss', async () => {
    await openLog();
    await bus.registry.create(businessType('shop.clicks', { default_statistic: stat }));
    const t0 = Date.parse('2026-03-05T00:00:00Z');
    const events = Array.from({ length: 300 }, (_, i) => event(1000 + i, t0 + (i % 50) * 3_600_000));
    for (let i = 0; i < events.length; i += 100) await publish('shop.clicks', events.slice(i, i + 100));
    await closeLog();

    const run = (killAfterCommits?: number) =>
      new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [worker, dir, 'shop.clicks', '20'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => {
          out += d;
          if (killAfterCommits && (out.match(/^commit/gm) ?? []).length >= killAfterCommits)
            child.kill('SIGKILL');
        });
        child.stderr.on('data', (d) => (err += d));
        child.on('error', reject);
        child.on('close', (code, signal) =>
          code && code !== 0 ? reject(new Error(err)) : resolve({ code, signal, out }),
        );
      });
    const killed = await run(3);
    assert.equal(killed.signal, 'SIGKILL');
    const resumed = await run();
    assert.match(resumed.out, /^done \d+$/m);
    const table = { namespace: ['events'], name: 'shop_clicks' };
    const [stats] = await rows(table, 'SELECT count(*) AS n, count(DISTINCT eid) AS d FROM $T');
    assert.equal(Number(stats?.n), 300, 'no duplicate');
    assert.equal(Number(stats?.d), 300, 'no loss');
  });
});
