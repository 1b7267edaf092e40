import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { serve } from '@hono/node-server';
import {
  assertProblem,
  assertSpec,
  businessType,
  call,
  openTestBus,
  orderEvent,
  type StreamBatch,
  type TestBus,
  TOKENS,
} from './bus-helpers.js';

const token = TOKENS.admin;
const auth = { authorization: `Bearer ${token}` };

/** A subscription consumer over real HTTP: reads batches, optionally commits each. */
class Consumer {
  readonly batches: StreamBatch[] = [];
  streamId = '';
  status = 0;
  ended: Promise<void> = Promise.resolve();
  readonly #abort = new AbortController();
  #wake?: () => void;

  constructor(
    readonly base: string,
    readonly subscription: string,
    readonly autoCommit: boolean,
  ) {}

  async open(query: string): Promise<void> {
    const res = await fetch(`${this.base}/subscriptions/${this.subscription}/events?${query}`, {
      headers: auth,
      signal: this.#abort.signal,
    });
    this.status = res.status;
    this.streamId = res.headers.get('x-nakadi-streamid') ?? '';
    if (res.status !== 200) return;
    this.ended = this.#read(res).catch(() => undefined);
  }

  async #read(res: Response): Promise<void> {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const batch = JSON.parse(buf.slice(0, i)) as StreamBatch;
        buf = buf.slice(i + 1);
        this.batches.push(batch);
        if (this.autoCommit && batch.events?.length)
          assert.ok([200, 204].includes(await this.commit([batch.cursor])));
        this.#wake?.();
      }
    }
  }

  events(): Record<string, unknown>[] {
    return this.batches.flatMap((b) => b.events ?? []);
  }

  commit(cursors: unknown[]): Promise<number> {
    return fetch(`${this.base}/subscriptions/${this.subscription}/cursors`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'x-nakadi-streamid': this.streamId },
      body: JSON.stringify({ items: cursors }),
    }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });
  }

  /** Resolve once `check` holds (re-checked after every batch). */
  async until(check: () => boolean): Promise<void> {
    while (!check()) await new Promise<void>((resolve) => (this.#wake = resolve));
  }

  disconnect(): void {
    this.#abort.abort();
  }
}

describe('subscriptions', () => {
  let t: TestBus;
  let base = '';
  let close: () => Promise<void>;
  before(async () => {
    t = await openTestBus();
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () =>
      new Promise((resolve) => {
        t.bus.shutdown();
        server.close(() => resolve());
      });
    const stat = { messages_per_minute: 1, message_size: 1, read_parallelism: 6, write_parallelism: 1 };
    for (const name of ['sub.orders', 'sub.small']) {
      const body = businessType(name, { default_statistic: name === 'sub.small' ? undefined : stat });
      assert.equal((await call(t, 'POST', '/event-types', { token, body })).status, 201);
    }
  });
  after(async () => {
    await close();
    await t.close();
  });

  const publish = async (name: string, n: number, prefix: string) => {
    const events = Array.from({ length: n }, (_, i) => orderEvent(`${prefix}-${i}`));
    assert.equal((await call(t, 'POST', `/event-types/${name}/events`, { token, body: events })).status, 200);
    return events.map((e) => (e.metadata as { eid: string }).eid);
  };
  const create = async (body: Record<string, unknown>) => {
    const res = await call(t, 'POST', '/subscriptions', { token, body });
    assert.ok([200, 201].includes(res.status), await res.clone().text());
    return (await res.json()) as { id: string };
  };
  const stats = async (id: string) =>
    (
      (await (await call(t, 'GET', `/subscriptions/${id}/stats`, { token })).json()) as {
        items: {
          partitions: { partition: string; state: string; stream_id?: string; unconsumed_events: number }[];
        }[];
      }
    ).items.flatMap((i) => i.partitions);
  const eidsOf = (events: Record<string, unknown>[]) =>
    events.map((e) => (e.metadata as { eid: string }).eid);

  test('create is idempotent per key; list, get and delete follow the spec', async () => {
    const body = {
      owning_application: 'app-a',
      event_types: ['sub.small', 'sub.orders'],
      consumer_group: 'g1',
    };
    const first = await call(t, 'POST', '/subscriptions', { token, body });
    assert.equal(first.status, 201);
    const sub = (await first.json()) as { id: string; event_types: string[]; read_from: string };
    assertSpec('Subscription', sub);
    assert.equal(first.headers.get('location'), `/subscriptions/${sub.id}`);
    assert.deepEqual(sub.event_types, ['sub.orders', 'sub.small']);
    assert.equal(sub.read_from, 'end');
    const again = await call(t, 'POST', '/subscriptions', {
      token,
      body: { ...body, event_types: ['sub.orders', 'sub.small'], read_from: 'begin' },
    });
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { id: string }).id, sub.id);
    await create({ owning_application: 'app-b', event_types: ['sub.small'] });

    const list = (await (
      await call(t, 'GET', '/subscriptions?owning_application=app-a', { token })
    ).json()) as { items: { id: string }[]; _links: object };
    assertSpec('Subscription', list.items, true);
    assert.deepEqual(
      list.items.map((s) => s.id),
      [sub.id],
    );
    const byType = (await (
      await call(t, 'GET', '/subscriptions?event_type=sub.small&event_type=sub.orders', { token })
    ).json()) as { items: unknown[] };
    assert.equal(byType.items.length, 1);
    const paged = (await (await call(t, 'GET', '/subscriptions?limit=1', { token })).json()) as {
      items: unknown[];
      _links: { next?: unknown };
    };
    assert.equal(paged.items.length, 1);
    assert.ok(paged._links.next);
    assertSpec('Subscription', await (await call(t, 'GET', `/subscriptions/${sub.id}`, { token })).json());

    await assertProblem(
      await call(t, 'POST', '/subscriptions', {
        token,
        body: { owning_application: 'x', event_types: ['nope'] },
      }),
      422,
      /not found/,
    );
    await assertProblem(
      await call(t, 'POST', '/subscriptions', { token, body: { owning_application: 'x' } }),
      422,
      /event_types/,
    );
    await assertProblem(
      await call(t, 'POST', '/subscriptions', {
        token,
        body: {
          owning_application: 'x',
          event_types: ['sub.small'],
          read_from: 'cursors',
          initial_cursors: [],
        },
      }),
      422,
      /initial_cursors/,
    );
    await assertProblem(
      await call(t, 'DELETE', '/event-types/sub.small', { token }),
      422,
      /has subscriptions/,
    );
    assert.equal((await call(t, 'DELETE', `/subscriptions/${sub.id}`, { token })).status, 204);
    await assertProblem(await call(t, 'GET', `/subscriptions/${sub.id}`, { token }), 404);
  });

  test('three consumers share six partitions, commit, and together see every event', async () => {
    const sub = await create({
      owning_application: 'app-c',
      event_types: ['sub.orders'],
      read_from: 'begin',
    });
    const published = await publish('sub.orders', 60, 'r');
    const query = 'batch_limit=5&batch_flush_timeout=1&max_uncommitted_events=20';
    const consumers = [
      new Consumer(base, sub.id, true),
      new Consumer(base, sub.id, true),
      new Consumer(base, sub.id, true),
    ];
    for (const c of consumers) {
      await c.open(query);
      assert.equal(c.status, 200);
      assert.ok(c.streamId);
    }
    const seen = () => new Set(consumers.flatMap((c) => eidsOf(c.events())));
    await Promise.race(consumers.map((c) => c.until(() => seen().size === published.length)));
    assert.deepEqual([...seen()].sort(), [...published].sort());
    // Rebalanced: two partitions per stream once every commit is in.
    const owners = new Map<string, number>();
    for (const p of await stats(sub.id))
      if (p.stream_id) owners.set(p.stream_id, (owners.get(p.stream_id) ?? 0) + 1);
    assert.deepEqual([...owners.values()].sort(), [2, 2, 2]);
    assert.deepEqual(new Set(owners.keys()), new Set(consumers.map((c) => c.streamId)));
    for (const c of consumers) assertSpec('SubscriptionEventStreamBatch', c.batches, true);

    const more = [4, 5, 6].map(() => new Consumer(base, sub.id, false));
    for (const c of more) {
      await c.open(query);
      assert.equal(c.status, 200);
    }
    const seventh = new Consumer(base, sub.id, false);
    await seventh.open(query);
    assert.equal(seventh.status, 409, 'no more streams than partitions');
    for (const c of [...more, ...consumers]) c.disconnect();
    await Promise.all(consumers.map((c) => c.ended));
    const committed = (await (
      await call(t, 'GET', `/subscriptions/${sub.id}/cursors`, { token })
    ).json()) as { items: unknown[] };
    assertSpec('SubscriptionCursor', committed.items, true);
    assert.ok((await stats(sub.id)).every((p) => p.unconsumed_events === 0));
  });

  test('a subscription stream is woken by the append, not by batch_flush_timeout', async () => {
    const type = businessType('sub.woken');
    assert.equal((await call(t, 'POST', '/event-types', { token, body: type })).status, 201);
    const sub = await create({ owning_application: 'app-w', event_types: ['sub.woken'], read_from: 'end' });
    const consumer = new Consumer(base, sub.id, true);
    const started = Date.now();
    // With a 30 s flush timeout, a stream that waited for it would take 30 s to deliver.
    await consumer.open('batch_limit=1&batch_flush_timeout=30&stream_limit=1');
    assert.equal(consumer.status, 200);
    const [eid] = await publish('sub.woken', 1, 'w');
    await consumer.ended;
    assert.deepEqual(eidsOf(consumer.events()), [eid]);
    assert.ok(Date.now() - started < 10_000, `delivered after ${Date.now() - started} ms`);
  });

  test('a consumer that disconnects before committing gets its events again on the next stream', async () => {
    const sub = await create({ owning_application: 'app-d', event_types: ['sub.small'], read_from: 'begin' });
    const published = await publish('sub.small', 4, 'd');
    const first = new Consumer(base, sub.id, false);
    await first.open('batch_limit=2&batch_flush_timeout=1');
    await first.until(() => first.events().length >= 2);
    assert.equal(await first.commit([first.batches.find((b) => b.events)?.cursor]), 204);
    const third = published[2];
    first.disconnect();
    await first.ended;

    // Like Nakadi clients, retry on 409 until the server has noticed the disconnect.
    let second = new Consumer(base, sub.id, true);
    for (let attempt = 0; attempt < 100; attempt++) {
      second = new Consumer(base, sub.id, true);
      await second.open('batch_limit=2&batch_flush_timeout=1');
      if (second.status !== 409) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(second.status, 200);
    await second.until(() => second.events().length >= 2);
    assert.deepEqual(eidsOf(second.events()), published.slice(2), 'restarts after the committed cursor');
    assert.equal(eidsOf(second.events())[0], third);
    second.disconnect();
  });

  test('commits: 204, 200 with outdated, 422 for unknown streams and unsent cursors; max_uncommitted pauses', async () => {
    const sub = await create({ owning_application: 'app-e', event_types: ['sub.small'], read_from: 'begin' });
    const c = new Consumer(base, sub.id, false);
    await c.open('batch_limit=1&batch_flush_timeout=1&max_uncommitted_events=2');
    await c.until(() => c.events().length === 2 && c.batches.some((b, i) => i > 1 && !b.events));
    assert.equal(c.events().length, 2, 'paused at max_uncommitted_events: only keep-alives');
    const [a, b] = c.batches.filter((x) => x.events).map((x) => x.cursor);
    assert.equal(await c.commit([b]), 204);
    const res = await fetch(`${base}/subscriptions/${sub.id}/cursors`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'x-nakadi-streamid': c.streamId },
      body: JSON.stringify({ items: [a] }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { items: { result: string }[] };
    assertSpec('CursorCommitResult', body.items, true);
    assert.equal(body.items[0]?.result, 'outdated');
    await c.until(() => c.events().length >= 4);
    const unsent = { ...b, offset: '000000000000000099' };
    await assertProblem(
      await call(t, 'POST', `/subscriptions/${sub.id}/cursors`, {
        token,
        body: { items: [b] },
        headers: { 'x-nakadi-streamid': 'nope' },
      }),
      422,
      /not found/,
    );
    await assertProblem(
      await call(t, 'POST', `/subscriptions/${sub.id}/cursors`, { token, body: { items: [b] } }),
      422,
      /X-Nakadi-StreamId/,
    );
    await assertProblem(
      await call(t, 'POST', `/subscriptions/${sub.id}/cursors`, {
        token,
        body: { items: [unsent] },
        headers: { 'x-nakadi-streamid': c.streamId },
      }),
      422,
      /was not sent/,
    );
    await assertProblem(
      await call(t, 'POST', `/subscriptions/${sub.id}/cursors`, {
        token,
        body: { items: 'x' },
        headers: { 'x-nakadi-streamid': c.streamId },
      }),
      422,
    );

    const reset = await call(t, 'PATCH', `/subscriptions/${sub.id}/cursors`, {
      token,
      body: { items: [{ event_type: 'sub.small', partition: '0', offset: 'BEGIN' }] },
    });
    assert.equal(reset.status, 204);
    await c.ended;
    const cursors = (await (await call(t, 'GET', `/subscriptions/${sub.id}/cursors`, { token })).json()) as {
      items: { offset: string }[];
    };
    assert.equal(cursors.items[0]?.offset, 'BEGIN');
  });

  test('streams can request partitions directly; authorization is updatable and enforced', async () => {
    const sub = await create({
      owning_application: 'app-g',
      event_types: ['sub.orders'],
      read_from: 'begin',
    });
    const open = (body: unknown) =>
      fetch(`${base}/subscriptions/${sub.id}/events`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const direct = new AbortController();
    const res = await fetch(`${base}/subscriptions/${sub.id}/events`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        partitions: [{ event_type: 'sub.orders', partition: '3' }],
        batch_flush_timeout: 1,
      }),
      signal: direct.signal,
    });
    assert.equal(res.status, 200);
    const streamId = res.headers.get('x-nakadi-streamid');
    const p3 = (await stats(sub.id)).find((p) => p.partition === '3');
    assert.equal(p3?.stream_id, streamId);
    assert.equal((p3 as { assignment_type?: string }).assignment_type, 'direct');
    const taken = await open({ partitions: [{ event_type: 'sub.orders', partition: '3' }] });
    assert.equal(taken.status, 409);
    await taken.arrayBuffer();
    const unknown = await open({ partitions: [{ event_type: 'sub.orders', partition: '42' }] });
    assert.equal(unknown.status, 422);
    await unknown.arrayBuffer();
    // Fractions are rejected (Nakadi's parameters are int32), in the body and in the query.
    await assertProblem(await open({ batch_limit: 1.5 }), 400, /batch_limit must be an integer, found 1\.5/);
    await assertProblem(await open({ stream_limit: 0.5 }), 400, /stream_limit must be an integer/);
    await assertProblem(await open({ max_uncommitted_events: 2.5 }), 400, /max_uncommitted_events/);
    await assertProblem(
      await fetch(`${base}/subscriptions/${sub.id}/events?stream_limit=0.5`, { headers: auth }),
      400,
      /stream_limit must be an integer, found "0\.5"/,
    );
    direct.abort();

    const acl = {
      admins: [{ data_type: 'service', value: 'admin-app' }],
      readers: [{ data_type: 'service', value: 'producer' }],
    };
    assert.equal(
      (await call(t, 'PUT', `/subscriptions/${sub.id}`, { token, body: { ...sub, authorization: acl } }))
        .status,
      204,
    );
    await assertProblem(
      await call(t, 'GET', `/subscriptions/${sub.id}/stats`, { token: TOKENS.reader }),
      403,
      /Subscription/,
    );
    assert.equal(
      (await call(t, 'GET', `/subscriptions/${sub.id}/stats`, { token: TOKENS.writer })).status,
      200,
    );
    await assertProblem(
      await call(t, 'DELETE', `/subscriptions/${sub.id}`, { token: TOKENS.writer }),
      403,
      /ADMIN/,
    );
    await assertProblem(
      await call(t, 'PUT', `/subscriptions/${sub.id}`, { token, body: { authorization: { admins: [] } } }),
      422,
    );
  });

  test('a stream without commits ends at its commit timeout', async () => {
    const sub = await create({ owning_application: 'app-f', event_types: ['sub.small'], read_from: 'begin' });
    const c = new Consumer(base, sub.id, false);
    await c.open('batch_limit=1&batch_flush_timeout=1&commit_timeout=1');
    await c.ended;
    assert.ok(c.events().length >= 1);
    const after = (await stats(sub.id)).every((p) => p.state === 'unassigned');
    assert.ok(after);
  });
});
