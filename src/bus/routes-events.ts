/** /event-types/{name}/events: publishing (POST) and the low-level stream (GET). */
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { announceTrigger } from '../metastore/index.js';
import { SCOPES } from './auth.js';
import type { EventBus } from './bus.js';
import { allow, BadRequestError, type BusEnv, bodyText, jsonBody, subjectOf } from './http.js';
import { lolaSlots, runLolaStream } from './lola.js';
import { type PublishResult, publishBatch } from './publish.js';
import { streamParams } from './stream-params.js';

/** Routes of publishing and low-level consuming. */
export function eventRoutes(bus: EventBus): Hono<BusEnv> {
  const app = new Hono<BusEnv>();
  const limit = bus.config.maxBatchBytes;

  app.post('/event-types/:name/events', async (c) => {
    let text: string | undefined = await bodyText(
      c,
      limit,
      `request body over the limit of ${limit} bytes (bus.maxBatchBytes)`,
    );
    const name = c.req.param('name');
    const et = await bus.registry.cached(name);
    allow(c, SCOPES.streamWrite, et.authorization?.writers, 'write', `EventType:${name}`, name);
    let body: unknown = await jsonBody(c, text);
    if (!Array.isArray(body)) throw new BadRequestError('expected a JSON array of events');
    const subject = subjectOf(c);
    const publishing = publishBatch(
      {
        registry: bus.registry,
        eventLog: bus.eventLog,
        maxEventBytes: bus.config.maxEventBytes,
        log: bus.log,
      },
      et,
      body,
      {
        flowId: c.req.header('x-flow-id') ?? randomUUID(),
        publishedBy: subject.anonymous ? undefined : subject.attribute?.value,
      },
    );
    // The batch is prepared: its text and parsed events can be collected while it is made durable.
    text = undefined;
    body = undefined;
    const result = await publishing;
    await announceBatch(bus, name, result);
    if (result.status === 200) return c.body(null, 200);
    return c.json(result.items, result.status);
  });

  app.get('/event-types/:name/events', async (c) => {
    const name = c.req.param('name');
    const et = await bus.registry.cached(name);
    allow(c, SCOPES.streamRead, et.authorization?.readers, 'read', `EventType:${name}`, name);
    const params = streamParams((k) => c.req.query(k));
    const slots = await lolaSlots(bus.eventLog, name, c.req.header('x-nakadi-cursors'));
    c.header('content-type', 'application/x-json-stream');
    return stream(c, async (s) => {
      const done = new AbortController();
      s.onAbort(() => done.abort());
      const signal = AbortSignal.any([done.signal, bus.closing]);
      const write = async (line: string) => {
        await s.write(line);
      };
      try {
        const reason = await runLolaStream(bus.eventLog, slots, params, write, signal);
        bus.log.debug({ eventType: name, reason }, 'low-level stream ended');
      } catch (err) {
        if (!signal.aborted) bus.log.warn({ err, eventType: name }, 'low-level stream failed');
      }
    });
  });
  return app;
}

/**
 * One trigger event per accepted batch (not per event) for pipelines with `on: { events }`;
 * a failed notification is logged, the events stay published.
 */
async function announceBatch(bus: EventBus, eventType: string, result: PublishResult): Promise<void> {
  if (result.status === 422) return;
  if (result.status === 207 && !result.items.some((i) => i.publishing_status === 'submitted')) return;
  await announceTrigger(bus.meta, { kind: 'events', name: eventType, id: randomUUID() }).catch((err) =>
    bus.log.warn({ err, eventType }, 'could not announce the batch to pipelines'),
  );
}
