/** /event-types: the schema registry, partitions and cursor arithmetic. */
import { Hono } from 'hono';
import { SCOPES } from './auth.js';
import type { EventBus } from './bus.js';
import { boundsOf, formatOffset, parseCursorOffset, partitionInfo, startOfCursor } from './cursors.js';
import { allow, type BusEnv, jsonBody, queryInt } from './http.js';
import { UnprocessableError } from './problem.js';
import type { Cursor } from './types.js';

/** Routes of event types and their partitions. */
export function eventTypeRoutes(bus: EventBus): Hono<BusEnv> {
  const app = new Hono<BusEnv>();
  const { registry } = bus;

  app.get('/event-types', async (c) => {
    const list = await registry.list({
      owningApplication: c.req.query('owning_application'),
      writer: c.req.query('writer'),
    });
    return c.json(list);
  });

  app.post('/event-types', async (c) => {
    const body = await jsonBody(c);
    const name = (body as { name?: unknown } | null)?.name;
    allow(c, SCOPES.eventTypeWrite, undefined, 'admin', 'event types', typeof name === 'string' ? name : '*');
    const et = await registry.create(body);
    return c.json(et, 201);
  });

  app.get('/event-types/:name', async (c) => c.json(await registry.get(c.req.param('name'))));

  app.put('/event-types/:name', async (c) => {
    const name = c.req.param('name');
    const before = await registry.get(name);
    allow(c, SCOPES.eventTypeWrite, before.authorization?.admins, 'admin', `EventType:${name}`, name);
    return c.json(await registry.update(name, await jsonBody(c)));
  });

  app.delete('/event-types/:name', async (c) => {
    const name = c.req.param('name');
    const before = await registry.get(name);
    allow(c, undefined, before.authorization?.admins, 'admin', `EventType:${name}`, name);
    await registry.delete(name);
    return c.body(null, 200);
  });

  app.post('/event-types/:name/schemas', async (c) => {
    const name = c.req.param('name');
    const before = await registry.get(name);
    const body = await jsonBody(c);
    if (c.req.query('fetch') === 'true') return c.json(await registry.findSchema(name, body));
    allow(c, SCOPES.eventTypeWrite, before.authorization?.admins, 'admin', `EventType:${name}`, name);
    await registry.addSchema(name, body);
    return c.body(null, 201);
  });

  app.get('/event-types/:name/schemas', async (c) => {
    const name = c.req.param('name');
    await registry.get(name);
    const limit = queryInt(c, 'limit', 20, 1, 1000);
    const offset = queryInt(c, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const items = await registry.schemas(name, limit + 1, offset);
    const links: Record<string, { href: string }> = {};
    const base = `/event-types/${encodeURIComponent(name)}/schemas`;
    if (offset > 0) links.prev = { href: `${base}?offset=${Math.max(0, offset - limit)}&limit=${limit}` };
    if (items.length > limit) links.next = { href: `${base}?offset=${offset + limit}&limit=${limit}` };
    return c.json({ _links: links, items: items.slice(0, limit) });
  });

  app.get('/event-types/:name/schemas/:version', async (c) =>
    c.json(await registry.schema(c.req.param('name'), c.req.param('version'))),
  );

  /** Event type + read check, then its partition bounds. */
  const readable = async (c: Parameters<typeof allow>[0], name: string) => {
    const et = await registry.get(name);
    allow(c, SCOPES.streamRead, et.authorization?.readers, 'read', `EventType:${name}`, name);
    return bus.eventLog.bounds(name);
  };

  app.get('/event-types/:name/partitions', async (c) => {
    const bounds = await readable(c, c.req.param('name'));
    const raw = c.req.query('cursors');
    let cursors: Cursor[] = [];
    if (raw) {
      try {
        cursors = JSON.parse(raw) as Cursor[];
      } catch {
        throw new UnprocessableError('cursors must be a URL-encoded JSON array of cursors');
      }
      if (!Array.isArray(cursors)) throw new UnprocessableError('cursors must be a JSON array');
      for (const cursor of cursors) boundsOf(cursor, bounds);
    }
    return c.json(
      bounds.map((b) => partitionInfo(b, cursors.find((x) => x.partition === String(b.partition))?.offset)),
    );
  });

  app.get('/event-types/:name/partitions/:partition', async (c) => {
    const bounds = await readable(c, c.req.param('name'));
    const b = bounds.find((x) => String(x.partition) === c.req.param('partition'));
    if (!b) throw new UnprocessableError(`partition "${c.req.param('partition')}" does not exist`);
    return c.json(partitionInfo(b, c.req.query('consumed_offset')));
  });

  app.put('/event-types/:name/partition-count', async (c) => {
    const name = c.req.param('name');
    const et = await registry.get(name);
    allow(c, SCOPES.eventTypeWrite, et.authorization?.admins, 'admin', `EventType:${name}`, name);
    const body = (await jsonBody(c)) as { partition_count?: unknown } | null;
    await registry.setPartitionCount(name, body?.partition_count);
    return c.body(null, 204);
  });

  app.post('/event-types/:name/cursors-lag', async (c) => {
    const bounds = await readable(c, c.req.param('name'));
    const cursors = arrayBody(await jsonBody(c), 'cursors');
    return c.json(
      cursors.map((cursor) => partitionInfo(boundsOf(cursor as Cursor, bounds), (cursor as Cursor).offset)),
    );
  });

  app.post('/event-types/:name/cursor-distances', async (c) => {
    const bounds = await readable(c, c.req.param('name'));
    const queries = arrayBody(await jsonBody(c), 'cursor distance queries') as {
      initial_cursor?: Cursor;
      final_cursor?: Cursor;
    }[];
    return c.json(
      queries.map((q) => {
        const bi = boundsOf(q?.initial_cursor, bounds);
        const bf = boundsOf(q?.final_cursor, bounds);
        if (bi.partition !== bf.partition)
          throw new UnprocessableError('cursors of a distance query must name the same partition');
        const from = startOfCursor((q.initial_cursor as Cursor).offset, bi) - 1n;
        const to = startOfCursor((q.final_cursor as Cursor).offset, bf) - 1n;
        return {
          initial_cursor: q.initial_cursor,
          final_cursor: q.final_cursor,
          distance: Number(to - from),
        };
      }),
    );
  });

  app.post('/event-types/:name/shifted-cursors', async (c) => {
    const bounds = await readable(c, c.req.param('name'));
    const shifts = arrayBody(await jsonBody(c), 'shifted cursors') as (Cursor & { shift?: unknown })[];
    return c.json(
      shifts.map((s) => {
        const b = boundsOf(s, bounds);
        if (typeof s.shift !== 'number' || !Number.isInteger(s.shift))
          throw new UnprocessableError('shift must be an integer');
        const at = parseCursorOffset(s.offset, b) + BigInt(s.shift);
        if (at < b.begin - 1n || at >= b.end) {
          throw new UnprocessableError(
            `shifting ${s.offset} by ${s.shift} leaves the available offsets of partition ${s.partition}`,
          );
        }
        return { partition: s.partition, offset: at < b.begin ? 'BEGIN' : formatOffset(at) };
      }),
    );
  });

  app.get('/registry/enrichment-strategies', (c) => c.json(['metadata_enrichment']));
  app.get('/registry/partition-strategies', (c) => c.json(['random', 'user_defined', 'hash']));
  return app;
}

function arrayBody(body: unknown, what: string): unknown[] {
  if (!Array.isArray(body)) throw new UnprocessableError(`expected a JSON array of ${what}`);
  return body;
}
