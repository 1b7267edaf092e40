import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  assertProblem,
  assertSpec,
  businessType,
  call,
  openTestBus,
  orderEvent,
  readBatches,
  type TestBus,
  TOKENS,
} from './bus-helpers.js';

const token = TOKENS.admin;

describe('low-level streaming and cursor arithmetic', () => {
  let t: TestBus;
  before(async () => {
    t = await openTestBus();
    await createTwoPartitionType('clicks');
    const events = Array.from({ length: 5 }, (_, i) =>
      orderEvent(`o${i}`, {
        metadata: { eid: crypto.randomUUID(), occurred_at: new Date().toISOString(), partition: '0' },
      }),
    );
    assert.equal((await call(t, 'POST', '/event-types/clicks/events', { token, body: events })).status, 200);
  });
  after(() => t.close());

  /** An event type with two partitions chosen by the producer (metadata.partition). */
  async function createTwoPartitionType(name: string): Promise<void> {
    const body = businessType(name, {
      partition_strategy: 'user_defined',
      partition_key_fields: undefined,
      default_statistic: {
        messages_per_minute: 1,
        message_size: 1,
        read_parallelism: 2,
        write_parallelism: 2,
      },
    });
    assert.equal((await call(t, 'POST', '/event-types', { token, body })).status, 201);
  }

  const stream = (query: string, cursors?: unknown) =>
    call(t, 'GET', `/event-types/clicks/events?${query}`, {
      token,
      headers: cursors ? { 'x-nakadi-cursors': JSON.stringify(cursors) } : {},
    });

  test('batch_limit cuts batches; the cursor is the last event; stream_limit ends the stream', async () => {
    const res = await stream('batch_limit=2&stream_limit=5&batch_flush_timeout=5', [
      { partition: '0', offset: 'BEGIN' },
    ]);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/x-json-stream/);
    const batches = await readBatches(res);
    for (const b of batches) assertSpec('EventStreamBatch', b);
    assert.deepEqual(
      batches.map((b) => b.events?.length),
      [2, 2, 1],
    );
    assert.deepEqual(
      batches.map((b) => b.cursor.offset),
      ['000000000000000001', '000000000000000003', '000000000000000004'],
    );
  });

  test('a cursor resumes after its offset', async () => {
    const res = await stream('batch_limit=2&stream_limit=2&batch_flush_timeout=1', [
      { partition: '0', offset: '000000000000000002' },
    ]);
    assert.equal(res.status, 200);
    const events = (await readBatches(res)).flatMap((b) => b.events ?? []);
    assert.deepEqual(
      events.map((e) => e.order_number),
      ['o3', 'o4'],
    );
  });

  test('flush timeout sends partial batches and keep-alives until stream_keep_alive_limit', async () => {
    const res = await stream('batch_limit=100&batch_flush_timeout=1&stream_keep_alive_limit=2', [
      { partition: '0', offset: '000000000000000003' },
      { partition: '1', offset: 'BEGIN' },
    ]);
    const batches = await readBatches(res);
    const p0 = batches.filter((b) => b.cursor.partition === '0');
    const p1 = batches.filter((b) => b.cursor.partition === '1');
    assert.equal(p0[0]?.events?.length, 1, 'the partial batch is flushed at the timeout');
    assert.ok(p0.slice(1).every((b) => b.events === undefined && b.cursor.offset === '000000000000000004'));
    assert.ok(p1.every((b) => b.events === undefined && b.cursor.offset === 'BEGIN'));
    assert.ok(p1.length >= 2, 'keep-alives until the limit');
  });

  /** Publish one event to partition 1 of `eventType` while `res` streams; the order numbers streamed. */
  async function publishWhileStreaming(res: Response, eventType: string, orderNumber: string) {
    const event = orderEvent(orderNumber, {
      metadata: { eid: crypto.randomUUID(), occurred_at: new Date().toISOString(), partition: '1' },
    });
    const publish = call(t, 'POST', `/event-types/${eventType}/events`, { token, body: [event] });
    const [batches, published] = await Promise.all([readBatches(res), publish]);
    assert.equal(published.status, 200);
    return batches.flatMap((b) => b.events ?? []).map((e) => e.order_number);
  }

  test('new events reach an open stream; stream_timeout ends it', async () => {
    const res = await stream('batch_limit=1&batch_flush_timeout=1&stream_timeout=2', [
      { partition: '1', offset: 'BEGIN' },
    ]);
    assert.deepEqual(await publishWhileStreaming(res, 'clicks', 'late'), ['late']);
  });

  test('an open stream is woken by the append, not by batch_flush_timeout', async () => {
    await createTwoPartitionType('woken');
    // A full batch (batch_limit 1) goes out as soon as the event is durable; with a 30 s flush
    // timeout a stream that polled or waited for the timeout would take 30 s here.
    const started = Date.now();
    const query = 'batch_limit=1&batch_flush_timeout=30&stream_limit=1';
    const res = await call(t, 'GET', `/event-types/woken/events?${query}`, { token });
    assert.deepEqual(await publishWhileStreaming(res, 'woken', 'woken'), ['woken']);
    assert.ok(Date.now() - started < 10_000, `delivered after ${Date.now() - started} ms`);
  });

  test('a stream limit larger than one partition still drains every partition', async () => {
    const res = await stream('batch_limit=6&stream_limit=6&batch_flush_timeout=1', [
      { partition: '0', offset: 'BEGIN' },
      { partition: '1', offset: 'BEGIN' },
    ]);
    const events = (await readBatches(res)).flatMap((b) => b.events ?? []);
    assert.deepEqual(events.map((e) => e.order_number).sort(), ['late', 'o0', 'o1', 'o2', 'o3', 'o4']);
  });

  test('a backlog larger than a batch goes out as full batches, in order, cut exactly at stream_limit', async () => {
    await createTwoPartitionType('bulk');
    for (let b = 0; b < 6; b++) {
      const events = Array.from({ length: 500 }, (_, i) =>
        orderEvent(`b${b * 500 + i}`, {
          metadata: {
            eid: crypto.randomUUID(),
            occurred_at: new Date().toISOString(),
            partition: String(i % 2),
          },
        }),
      );
      assert.equal((await call(t, 'POST', '/event-types/bulk/events', { token, body: events })).status, 200);
    }
    const res = await call(t, 'GET', '/event-types/bulk/events?batch_limit=7&stream_limit=2500', {
      token,
      headers: {
        'x-nakadi-cursors': JSON.stringify([
          { partition: '0', offset: 'BEGIN' },
          { partition: '1', offset: 'BEGIN' },
        ]),
      },
    });
    const started = Date.now();
    const batches = await readBatches(res);
    // The stream ends at its limit, not when the partial batches it holds reach the 30 s flush timeout.
    assert.ok(Date.now() - started < 20_000, 'the stream ended at stream_limit');
    const sizes = batches.map((b) => b.events?.length ?? 0);
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      2500,
    );
    // Every batch but the last one of each partition is full (the stream ends at its limit).
    assert.equal(sizes.filter((n) => n !== 7).length <= 2, true, `batch sizes ${sizes.join(',')}`);
    const next = new Map<string, number>([
      ['0', 0],
      ['1', 0],
    ]);
    for (const b of batches) {
      const p = b.cursor.partition;
      for (const e of b.events ?? []) {
        const n = Number((e.order_number as string).slice(1));
        assert.equal(n % 2, Number(p), `event ${n} is in partition ${p}`);
        assert.equal(Math.floor(n / 2), next.get(p), `partition ${p} delivers in order without gaps`);
        next.set(p, (next.get(p) ?? 0) + 1);
      }
      assert.equal(Number(b.cursor.offset), (next.get(p) ?? 0) - 1, 'the cursor names the last event');
    }
  });

  test('invalid stream parameters and cursors are 422', async () => {
    await assertProblem(await stream('batch_limit=0'), 422, /batch_limit/);
    await assertProblem(await stream('batch_limit=5&stream_limit=2'), 422, /stream_limit/);
    await assertProblem(await stream('batch_flush_timeout=10&stream_timeout=5'), 422, /stream_timeout/);
    await assertProblem(await stream('', [{ partition: '7', offset: 'BEGIN' }]), 422, /partition "7"/);
    await assertProblem(
      await stream('', [{ partition: '0', offset: '000000000000000099' }]),
      422,
      /unavailable/,
    );
    await assertProblem(await stream('', [{ partition: '0', offset: 'abc' }]), 422, /invalid offset/);
    const bad = await call(t, 'GET', '/event-types/clicks/events', {
      token,
      headers: { 'x-nakadi-cursors': '[{' },
    });
    await assertProblem(bad, 422, /X-Nakadi-Cursors/);
  });

  test('stream parameters that are not integers are 400, not rounded', async () => {
    for (const query of [
      'stream_limit=0.5',
      'batch_limit=1.5',
      'batch_flush_timeout=0.5',
      'stream_timeout=2.5',
      'stream_keep_alive_limit=1.5',
      'batch_limit=1e2',
      'batch_limit=abc',
      'stream_limit=3000000000',
    ]) {
      const name = query.split('=')[0] as string;
      const problem = await assertProblem(await stream(query), 400, new RegExp(`${name} must be an integer`));
      assert.match(String(problem.detail), new RegExp(query.split('=')[1]!.replace('.', '\\.')));
    }
    await assertProblem(await stream('stream_limit=-1'), 422, /stream_limit/);
  });

  test('partitions, cursors-lag, cursor-distances and shifted-cursors', async () => {
    const parts = (await (
      await call(
        t,
        'GET',
        '/event-types/clicks/partitions?cursors=' +
          encodeURIComponent('[{"partition":"0","offset":"000000000000000001"}]'),
        { token },
      )
    ).json()) as Record<string, unknown>[];
    assertSpec('Partition', parts, true);
    assert.deepEqual(parts[0], {
      partition: '0',
      oldest_available_offset: '000000000000000000',
      newest_available_offset: '000000000000000004',
      unconsumed_events: 3,
    });
    const one = await call(t, 'GET', '/event-types/clicks/partitions/0?consumed_offset=BEGIN', { token });
    assert.equal(((await one.json()) as { unconsumed_events: number }).unconsumed_events, 5);

    const lag = await call(t, 'POST', '/event-types/clicks/cursors-lag', {
      token,
      body: [{ partition: '0', offset: '000000000000000004' }],
    });
    assert.equal(((await lag.json()) as { unconsumed_events: number }[])[0]?.unconsumed_events, 0);

    const dist = await call(t, 'POST', '/event-types/clicks/cursor-distances', {
      token,
      body: [
        {
          initial_cursor: { partition: '0', offset: 'BEGIN' },
          final_cursor: { partition: '0', offset: '000000000000000003' },
        },
      ],
    });
    const distances = (await dist.json()) as { distance: number }[];
    assertSpec('CursorDistanceResult', distances, true);
    assert.equal(distances[0]?.distance, 4);

    const shifted = await call(t, 'POST', '/event-types/clicks/shifted-cursors', {
      token,
      body: [
        { partition: '0', offset: '000000000000000004', shift: -2 },
        { partition: '0', offset: '000000000000000000', shift: -1 },
      ],
    });
    const cursors = (await shifted.json()) as unknown[];
    assertSpec('Cursor', cursors, true);
    assert.deepEqual(cursors, [
      { partition: '0', offset: '000000000000000002' },
      { partition: '0', offset: 'BEGIN' },
    ]);
    await assertProblem(
      await call(t, 'POST', '/event-types/clicks/shifted-cursors', {
        token,
        body: [{ partition: '0', offset: '000000000000000004', shift: 1 }],
      }),
      422,
      /leaves/,
    );
    await assertProblem(
      await call(t, 'POST', '/event-types/clicks/cursors-lag', { token, body: { partition: '0' } }),
      422,
      /array/,
    );
  });
});
