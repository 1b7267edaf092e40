/** /subscriptions: the high-level API with managed cursors and rebalancing. */
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { SCOPES } from './auth.js';
import type { EventBus } from './bus.js';
import { parseCursorOffset } from './cursors.js';
import { runSubscriptionStream, subscriptionSlots } from './hila.js';
import { allow, type BusEnv, jsonBody, queryInt } from './http.js';
import { UnprocessableError } from './problem.js';
import { slotKey } from './sessions.js';
import { intParam, streamParams } from './stream-params.js';
import type { Subscription, SubscriptionCursor } from './types.js';

/** Routes of subscriptions. */
export function subscriptionRoutes(bus: EventBus): Hono<BusEnv> {
  const app = new Hono<BusEnv>();
  const { subscriptions, sessions, registry } = bus;

  /** The subscription, after checking the caller may read it and each of its event types. */
  const readable = async (c: Parameters<typeof allow>[0], id: string): Promise<Subscription> => {
    const sub = await subscriptions.get(id);
    allow(c, SCOPES.streamRead, sub.authorization?.readers, 'read', `Subscription:${id}`);
    for (const name of sub.event_types) {
      const et = await registry.find(name);
      allow(c, undefined, et?.authorization?.readers, 'read', `EventType:${name}`, name);
    }
    return sub;
  };

  app.post('/subscriptions', async (c) => {
    allow(c, SCOPES.streamRead, undefined, 'read', 'subscriptions');
    const body = await jsonBody(c);
    const names = (body as { event_types?: unknown } | null)?.event_types;
    if (Array.isArray(names)) {
      for (const name of names) {
        const et = typeof name === 'string' ? await registry.find(name) : undefined;
        allow(c, undefined, et?.authorization?.readers, 'read', `EventType:${String(name)}`, String(name));
      }
    }
    const { subscription, created } = await subscriptions.create(body);
    const location = `/subscriptions/${subscription.id}`;
    c.header('Location', location);
    if (created) c.header('Content-Location', location);
    return c.json(subscription, created ? 201 : 200);
  });

  app.get('/subscriptions', async (c) => {
    allow(c, SCOPES.streamRead, undefined, 'read', 'subscriptions');
    const limit = queryInt(c, 'limit', 20, 1, 1000);
    const offset = queryInt(c, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const owningApplication = c.req.query('owning_application');
    const eventTypes = c.req.queries('event_type') ?? [];
    const page = await subscriptions.list({ owningApplication, eventTypes, limit: limit + 1, offset });
    const query = (o: number) => {
      const q = new URLSearchParams({ offset: String(o), limit: String(limit) });
      if (owningApplication) q.set('owning_application', owningApplication);
      for (const et of eventTypes) q.append('event_type', et);
      return `/subscriptions?${q}`;
    };
    const links: Record<string, { href: string }> = {};
    if (offset > 0) links.prev = { href: query(Math.max(0, offset - limit)) };
    if (page.length > limit) links.next = { href: query(offset + limit) };
    return c.json({ _links: links, items: page.slice(0, limit) });
  });

  app.get('/subscriptions/:id', async (c) => c.json(await readable(c, c.req.param('id'))));

  app.put('/subscriptions/:id', async (c) => {
    const sub = await subscriptions.get(c.req.param('id'));
    allow(c, SCOPES.streamRead, sub.authorization?.admins, 'admin', `Subscription:${sub.id}`);
    for (const name of sub.event_types) allow(c, undefined, undefined, 'read', `EventType:${name}`, name);
    const body = (await jsonBody(c)) as { authorization?: unknown } | null;
    await subscriptions.updateAuthorization(sub.id, body?.authorization);
    return c.body(null, 204);
  });

  app.delete('/subscriptions/:id', async (c) => {
    const sub = await subscriptions.get(c.req.param('id'));
    allow(c, SCOPES.streamRead, sub.authorization?.admins, 'admin', `Subscription:${sub.id}`);
    for (const name of sub.event_types) allow(c, undefined, undefined, 'read', `EventType:${name}`, name);
    sessions.stopAll(sub.id, 'subscription deleted');
    await subscriptions.delete(sub.id);
    return c.body(null, 204);
  });

  app.get('/subscriptions/:id/cursors', async (c) => {
    const sub = await readable(c, c.req.param('id'));
    const committed = await subscriptions.cursors(sub);
    const items: SubscriptionCursor[] = [...committed].map(([key, offset]) => {
      const [event_type = '', partition = ''] = key.split('\u0000');
      return { event_type, partition, offset, cursor_token: crypto.randomUUID() };
    });
    return c.json({ items });
  });

  app.post('/subscriptions/:id/cursors', async (c) => {
    const sub = await readable(c, c.req.param('id'));
    const streamId = c.req.header('x-nakadi-streamid');
    if (!streamId) throw new UnprocessableError('the X-Nakadi-StreamId header is required to commit');
    const session = sessions.find(sub.id, streamId);
    if (!session) throw new UnprocessableError(`Session with stream id ${streamId} not found`);
    const items = itemsOf(await jsonBody(c));
    for (const item of items) {
      const key = slotKey(String(item?.event_type), Number(item?.partition));
      const sent = session.sent.get(key);
      const bounds = { partition: Number(item?.partition), begin: 0n, end: 0n };
      if (sent === undefined || parseCursorOffset(String(item?.offset), bounds) > sent) {
        throw new UnprocessableError(
          `cursor ${item?.event_type}:${item?.partition}:${item?.offset} was not sent to stream ${streamId}`,
        );
      }
    }
    const results = await subscriptions.commit(sub, items);
    for (const item of items) {
      const key = slotKey(item.event_type, Number(item.partition));
      const at = BigInt(parseCursorOffset(item.offset, { partition: 0, begin: 0n, end: 0n }));
      if (at > (session.committed.get(key) ?? -1n)) session.committed.set(key, at);
    }
    session.lastCommitAt = Date.now();
    for (const s of sessions.streams(sub.id)) s.wake();
    if (results.every((r) => r === 'committed')) return c.body(null, 204);
    return c.json({ items: items.map((cursor, i) => ({ cursor, result: results[i] })) }, 200);
  });

  app.patch('/subscriptions/:id/cursors', async (c) => {
    const sub = await readable(c, c.req.param('id'));
    const items = itemsOf(await jsonBody(c));
    await subscriptions.reset(sub, items);
    sessions.stopAll(sub.id, 'cursors were reset');
    return c.body(null, 204);
  });

  app.get('/subscriptions/:id/stats', async (c) => {
    const sub = await readable(c, c.req.param('id'));
    const committed = await subscriptions.cursors(sub);
    const items = [];
    for (const name of sub.event_types) {
      const partitions = (await bus.eventLog.bounds(name)).map((b) => {
        const key = slotKey(name, b.partition);
        const holder = sessions.holder(sub.id, key);
        const last = parseCursorOffset(committed.get(key) ?? 'BEGIN', b);
        const reading = holder && sessions.mayRead(holder, key);
        return {
          partition: String(b.partition),
          state: holder ? (reading ? 'assigned' : 'reassigning') : 'unassigned',
          unconsumed_events: Number(b.end - 1n - (last < b.begin - 1n ? b.begin - 1n : last)),
          ...(holder
            ? { stream_id: holder.id, assignment_type: holder.direct.has(key) ? 'direct' : 'auto' }
            : {}),
        };
      });
      items.push({ event_type: name, partitions });
    }
    return c.json({ items });
  });

  const openStream = async (c: Parameters<typeof allow>[0], body: Record<string, unknown>) => {
    const sub = await readable(c, c.req.param('id') as string);
    const get = (k: string) => body[k] ?? c.req.query(k);
    const params = streamParams(get);
    const maxUncommitted = intParam(get('max_uncommitted_events'), 'max_uncommitted_events', 10, 1);
    const commitTimeout = intParam(get('commit_timeout'), 'commit_timeout', 60);
    if (commitTimeout > 60) throw new UnprocessableError('commit_timeout must be at most 60 seconds');
    const direct = Array.isArray(body.partitions)
      ? (body.partitions as { event_type?: unknown; partition?: unknown }[]).map((p) =>
          slotKey(String(p?.event_type), Number(p?.partition)),
        )
      : [];
    const slots = await subscriptionSlots(bus, sub);
    await subscriptions.cursors(sub);
    const session = sessions.open(sub.id, slots, direct, (commitTimeout === 0 ? 60 : commitTimeout) * 1000);
    c.header('content-type', 'application/x-json-stream');
    c.header('X-Nakadi-StreamId', session.id);
    return stream(c, async (s) => {
      const done = new AbortController();
      s.onAbort(() => done.abort());
      const signal = AbortSignal.any([done.signal, bus.closing]);
      try {
        const reason = await runSubscriptionStream(
          bus,
          sub,
          session,
          params,
          maxUncommitted,
          (l) => s.write(l).then(() => undefined),
          signal,
        );
        bus.log.debug({ subscription: sub.id, stream: session.id, reason }, 'subscription stream ended');
      } catch (err) {
        if (!signal.aborted) bus.log.warn({ err, subscription: sub.id }, 'subscription stream failed');
      } finally {
        sessions.close(session, await subscriptionSlots(bus, sub).catch(() => slots));
      }
    });
  };

  app.get('/subscriptions/:id/events', (c) => openStream(c, {}));
  app.post('/subscriptions/:id/events', async (c) => {
    const text = await c.req.text();
    let body: Record<string, unknown> = {};
    if (text.trim()) {
      const parsed = await jsonBody(c, text);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new UnprocessableError('expected a JSON object of stream parameters');
      body = parsed as Record<string, unknown>;
    }
    return openStream(c, body);
  });
  return app;
}

function itemsOf(body: unknown): SubscriptionCursor[] {
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) throw new UnprocessableError('expected { "items": [cursors] }');
  for (const i of items) {
    if (
      !i ||
      typeof i !== 'object' ||
      typeof i.event_type !== 'string' ||
      typeof i.partition !== 'string' ||
      typeof i.offset !== 'string'
    ) {
      throw new UnprocessableError('each cursor needs string "event_type", "partition" and "offset"');
    }
  }
  return items as SubscriptionCursor[];
}
