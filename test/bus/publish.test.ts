import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve } from '@hono/node-server';
import {
  assertProblem,
  assertSpec,
  businessType,
  call,
  customersType,
  openTestBus,
  orderEvent,
  readBatches,
  type TestBus,
  TOKENS,
} from './bus-helpers.js';
import { MemoryEventLog } from './memory-log.js';

const admin = TOKENS.admin;

describe('publishing', () => {
  let t: TestBus;
  before(async () => {
    t = await openTestBus({ bus: { maxBatchBytes: 64 * 1024, maxEventBytes: 2048 } });
    const stat = { messages_per_minute: 1, message_size: 1, read_parallelism: 4, write_parallelism: 1 };
    const authz = {
      admins: [{ data_type: 'service', value: 'admin-app' }],
      readers: [
        { data_type: 'service', value: 'consumer' },
        { data_type: 'service', value: 'producer' },
      ],
      writers: [{ data_type: 'service', value: 'producer' }],
    };
    for (const body of [
      businessType('orders', { default_statistic: stat, authorization: authz }),
      customersType('customers', { default_statistic: stat, compatibility_mode: 'compatible' }),
      {
        name: 'picked',
        owning_application: 'wh',
        category: 'business',
        enrichment_strategies: ['metadata_enrichment'],
        partition_strategy: 'user_defined',
        default_statistic: stat,
        schema: { type: 'json_schema', schema: '{}' },
      },
      {
        name: 'free',
        owning_application: 'x',
        category: 'undefined',
        schema: { type: 'json_schema', schema: '{"properties": {"n": {"type": "integer"}}}' },
      },
    ]) {
      const res = await call(t, 'POST', '/event-types', { token: admin, body });
      assert.equal(res.status, 201, await res.text());
    }
  });
  after(() => t.close());

  /** Every stored event of an event type (low-level stream from BEGIN, stopped at the end). */
  async function stored(name: string): Promise<Record<string, unknown>[]> {
    const parts = (await (
      await call(t, 'GET', `/event-types/${name}/partitions`, { token: admin })
    ).json()) as { partition: string }[];
    const cursors = JSON.stringify(parts.map((p) => ({ partition: p.partition, offset: 'BEGIN' })));
    const res = await call(
      t,
      'GET',
      `/event-types/${name}/events?batch_flush_timeout=1&stream_timeout=1&batch_limit=100`,
      {
        token: admin,
        headers: { 'x-nakadi-cursors': cursors },
      },
    );
    assert.equal(res.status, 200);
    return (await readBatches(res)).flatMap((b) => b.events ?? []);
  }

  test('a valid batch is 200 and stored enriched, with hash partitioning', async () => {
    const batch = [orderEvent('A-1'), orderEvent('A-2'), orderEvent('A-1', { amount: 3 })];
    const res = await call(t, 'POST', '/event-types/orders/events', {
      token: TOKENS.writer,
      body: batch,
      headers: { 'x-flow-id': 'flow-42' },
    });
    assert.equal(res.status, 200, await res.clone().text());
    const events = await stored('orders');
    assert.equal(events.length, 3);
    for (const e of events) {
      const meta = e.metadata as Record<string, string>;
      assert.equal(meta.event_type, 'orders');
      assert.equal(meta.flow_id, 'flow-42');
      assert.equal(meta.version, '1.0.0');
      assert.equal(meta.published_by, 'producer');
      assert.ok(!Number.isNaN(Date.parse(meta.received_at as string)));
      assertSpec('BusinessEvent', e);
    }
    const partitionsOf = (n: string) =>
      new Set(
        events
          .filter((e) => e.order_number === n)
          .map((e) => (e.metadata as { partition: string }).partition),
      );
    assert.equal(partitionsOf('A-1').size, 1, 'same key, same partition');
  });

  test('one invalid event rejects the whole batch with 422 and stores nothing', async () => {
    const before = (await stored('orders')).length;
    const batch = [
      orderEvent('B-1'),
      { order_number: 5, metadata: { eid: 'not-a-uuid', occurred_at: 'yesterday' } },
      orderEvent('B-3'),
    ];
    const res = await call(t, 'POST', '/event-types/orders/events', { token: TOKENS.writer, body: batch });
    assert.equal(res.status, 422);
    const items = (await res.json()) as { publishing_status: string; step: string; detail?: string }[];
    assertSpec('BatchItemResponse', items, true);
    assert.deepEqual(
      items.map((i) => i.publishing_status),
      ['aborted', 'failed', 'aborted'],
    );
    assert.equal(items[1]?.step, 'validating');
    assert.match(items[1]?.detail ?? '', /#\//);
    assert.equal((await stored('orders')).length, before);

    const noMeta = await call(t, 'POST', '/event-types/orders/events', {
      token: TOKENS.writer,
      body: [{ order_number: 'x' }],
    });
    assert.match(((await noMeta.json()) as { detail: string }[])[0]?.detail ?? '', /metadata/);
    const wrongType = await call(t, 'POST', '/event-types/orders/events', {
      token: TOKENS.writer,
      body: [
        orderEvent('C', {
          metadata: {
            eid: '11111111-1111-4111-8111-111111111111',
            occurred_at: new Date().toISOString(),
            event_type: 'other',
          },
        }),
      ],
    });
    assert.equal(wrongType.status, 422);
  });

  test('data change events need data_op and data_type; compatible mode rejects undeclared fields', async () => {
    const meta = () => ({ eid: crypto.randomUUID(), occurred_at: new Date().toISOString() });
    const ok = await call(t, 'POST', '/event-types/customers/events', {
      token: admin,
      body: [{ metadata: meta(), data_op: 'C', data_type: 'customer', data: { id: 'c1', name: 'Ada' } }],
    });
    assert.equal(ok.status, 200, await ok.clone().text());
    const [event] = await stored('customers');
    assertSpec('DataChangeEvent', event);
    for (const bad of [
      { metadata: meta(), data_type: 'customer', data: { id: 'c2' } },
      { metadata: meta(), data_op: 'X', data_type: 'customer', data: { id: 'c2' } },
      { metadata: meta(), data_op: 'U', data_type: 'customer', data: { id: 'c2', extra: 1 } },
    ]) {
      const res = await call(t, 'POST', '/event-types/customers/events', { token: admin, body: [bad] });
      assert.equal(res.status, 422, JSON.stringify(bad));
    }
  });

  test('user_defined partitioning takes metadata.partition and rejects unknown partitions', async () => {
    const meta = (partition?: string) => ({
      eid: crypto.randomUUID(),
      occurred_at: new Date().toISOString(),
      partition,
    });
    assert.equal(
      (await call(t, 'POST', '/event-types/picked/events', { token: admin, body: [{ metadata: meta('2') }] }))
        .status,
      200,
    );
    const [event] = await stored('picked');
    assert.equal((event as { metadata: { partition: string } }).metadata.partition, '2');
    for (const p of [undefined, '9', 'x']) {
      const res = await call(t, 'POST', '/event-types/picked/events', {
        token: admin,
        body: [{ metadata: meta(p) }],
      });
      assert.equal(res.status, 422);
      assert.equal(((await res.json()) as { step: string }[])[0]?.step, 'partitioning');
    }
  });

  test('undefined events are stored as sent, still validated against their schema', async () => {
    assert.equal(
      (await call(t, 'POST', '/event-types/free/events', { token: admin, body: [{ n: 1, anything: 'x' }] }))
        .status,
      200,
    );
    assert.deepEqual(await stored('free'), [{ n: 1, anything: 'x' }]);
    assert.equal(
      (await call(t, 'POST', '/event-types/free/events', { token: admin, body: [{ n: 'one' }] })).status,
      422,
    );
  });

  test('a failing partition gives 207 with submitted and failed items', async () => {
    // The in-memory log can fail one partition's appends on demand; the embedded one cannot.
    const log = new MemoryEventLog();
    const t207 = await openTestBus({ eventLog: log });
    const stat = { messages_per_minute: 1, message_size: 1, read_parallelism: 4, write_parallelism: 1 };
    assert.equal(
      (
        await call(t207, 'POST', '/event-types', {
          token: admin,
          body: businessType('orders', { default_statistic: stat }),
        })
      ).status,
      201,
    );
    const events = Array.from({ length: 12 }, (_, i) => orderEvent(`P-${i}`));
    for (let p = 0; p < 4; p++) log.failing.add(`orders/${p}`);
    log.failing.delete('orders/0');
    try {
      const res = await call(t207, 'POST', '/event-types/orders/events', {
        token: TOKENS.writer,
        body: events,
      });
      assert.equal(res.status, 207);
      const items = (await res.json()) as { publishing_status: string; step: string; eid: string }[];
      assertSpec('BatchItemResponse', items, true);
      assert.ok(items.some((i) => i.publishing_status === 'submitted'));
      assert.ok(items.some((i) => i.publishing_status === 'failed' && i.step === 'publishing'));
      assert.equal(items[0]?.eid, (events[0] as { metadata: { eid: string } }).metadata.eid);
    } finally {
      await t207.close();
    }
  });

  test('security and hostile input: 401, 403, 413, 400 as Problem JSON, nothing stored', async () => {
    const before = (await stored('orders')).length;
    const body = [orderEvent('S-1')];
    await assertProblem(await call(t, 'POST', '/event-types/orders/events', { body }), 401);
    await assertProblem(
      await call(t, 'POST', '/event-types/orders/events', { token: 'unknown-token-0000000', body }),
      401,
      /invalid token/,
    );
    await assertProblem(
      await call(t, 'POST', '/event-types/orders/events', { token: TOKENS.reader, body }),
      403,
      /nakadi.event_stream.write/,
    );
    await assertProblem(
      await call(t, 'POST', '/event-types/orders/events', { token: TOKENS.stranger, body }),
      403,
      /WRITE EventType:orders/,
    );
    await assertProblem(
      await call(t, 'GET', '/event-types/orders/events', { token: TOKENS.stranger }),
      403,
      /READ EventType:orders/,
    );
    await assertProblem(
      await call(t, 'PUT', '/event-types/orders', { token: TOKENS.stranger, body: businessType('orders') }),
      403,
      /ADMIN/,
    );
    await assertProblem(
      await call(t, 'POST', '/event-types', { token: TOKENS.writer, body: businessType('x') }),
      403,
      /event_type.write/,
    );
    const huge = Array.from({ length: 400 }, () => orderEvent('H', { pad: 'x'.repeat(200) }));
    await assertProblem(
      await call(t, 'POST', '/event-types/orders/events', { token: TOKENS.writer, body: huge }),
      413,
      /maxBatchBytes/,
    );
    const fat = await call(t, 'POST', '/event-types/orders/events', {
      token: TOKENS.writer,
      body: [orderEvent('F', { pad: 'x'.repeat(3000) })],
    });
    assert.equal(fat.status, 422);
    assert.match(((await fat.json()) as { detail: string }[])[0]?.detail ?? '', /over the limit/);
    const headers = { 'content-type': 'application/json' };
    await assertProblem(
      await call(t, 'POST', '/event-types/orders/events', { token: TOKENS.writer, raw: '[{"a":', headers }),
      400,
      /malformed JSON/,
    );
    await assertProblem(
      await call(t, 'POST', '/event-types/orders/events', { token: TOKENS.writer, raw: '{"a":1}', headers }),
      400,
      /array/,
    );
    await assertProblem(
      await call(t, 'POST', '/event-types/nope/events', { token: TOKENS.writer, body }),
      404,
    );
    await assertProblem(
      await call(t, 'GET', '/event-types/orders/unknown-thing', { token: TOKENS.writer }),
      404,
    );
    assert.equal((await stored('orders')).length, before);
  });

  test('over HTTP the batch limit holds for bodies with and without Content-Length', async () => {
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const srv = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(srv));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/event-types/orders/events`;
    const headers = { authorization: `Bearer ${TOKENS.writer}`, 'content-type': 'application/json' };
    /** POST `text`, chunked (no Content-Length) when `chunked`. */
    const post = (text: string, chunked: boolean) => {
      const bytes = new TextEncoder().encode(text);
      const body = chunked
        ? new ReadableStream<Uint8Array>({
            start(controller) {
              for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192));
              controller.close();
            },
          })
        : text;
      return fetch(url, { method: 'POST', headers, body, duplex: 'half' } as RequestInit);
    };
    try {
      const before = (await stored('orders')).length;
      const huge = JSON.stringify(
        Array.from({ length: 400 }, () => orderEvent('H', { pad: 'x'.repeat(200) })),
      );
      for (const chunked of [false, true]) {
        await assertProblem(await post(huge, chunked), 413, /maxBatchBytes/);
        // The connection and the server stay usable: a batch in the limit is accepted.
        const ok = await post(`\uFEFF${JSON.stringify([orderEvent(`C-${chunked}`)])}`, chunked);
        assert.equal(ok.status, 200, await ok.text());
      }
      const after = await stored('orders');
      assert.equal(after.length, before + 2);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('publishing reads the event type from memory until it changes, here or in another process', async () => {
    // Two buses on one SQLite metastore file stand for two server processes.
    const dir = await mkdtemp(join(tmpdir(), 'sluice-bus-cache-'));
    const metaUrl = `sqlite://${join(dir, 'meta.db')}`;
    const a = await openTestBus({ metaUrl });
    const b = await openTestBus({ metaUrl });
    try {
      const stat = { messages_per_minute: 1, message_size: 1, read_parallelism: 1, write_parallelism: 1 };
      const acl = (writer: string) => ({
        admins: [{ data_type: 'service', value: 'admin-app' }],
        readers: [{ data_type: 'service', value: 'producer' }],
        writers: [{ data_type: 'service', value: writer }],
      });
      const type = (writer: string) =>
        businessType('cached', { default_statistic: stat, authorization: acl(writer) });
      const created = await call(a, 'POST', '/event-types', { token: admin, body: type('producer') });
      assert.equal(created.status, 201, await created.text());
      await b.eventLog.createTopic('cached', {
        partitions: 1,
        retentionMs: 86_400_000,
        cleanupPolicy: 'delete',
      });
      const publish = (t: TestBus) =>
        call(t, 'POST', '/event-types/cached/events', { token: TOKENS.writer, body: [orderEvent('K-1')] });
      for (const t of [a, b]) assert.equal((await publish(t)).status, 200, 'both have read the event type');
      const updated = await call(a, 'PUT', '/event-types/cached', { token: admin, body: type('admin-app') });
      assert.equal(updated.status, 200, await updated.text());
      await assertProblem(await publish(a), 403, /WRITE EventType:cached/);
      // The other process hears of the change through the metastore's notifications.
      let status = 200;
      for (let i = 0; i < 150 && status === 200; i++) {
        const res = await publish(b);
        status = res.status;
        await res.arrayBuffer();
        if (status === 200) await sleep(20);
      }
      assert.equal(status, 403, 'the change reached the other process');
      const removed = await call(a, 'DELETE', '/event-types/cached', { token: admin });
      assert.equal(removed.status, 200, await removed.text());
      await assertProblem(await publish(a), 404);
    } finally {
      await a.close();
      await b.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
