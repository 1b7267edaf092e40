/**
 * The `publish` task kind: a pipeline task that publishes events (inline, or from a JSON /
 * NDJSON file of the project) to an event type through the server's Nakadi API, in batches.
 * Going through the API keeps validation, enrichment, authorization and the single owner of
 * the embedded log in the server process.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { TaskContext, TaskKind, TaskResult } from '../runtime/tasks.js';
import { BackendError, InvalidInputError } from '../util/index.js';
import { parseEventsText } from './events-text.js';

/** The spec of a `publish` task. */
export const publishTaskSchema = z
  .strictObject({
    event_type: z.string().min(1).describe('Event type to publish to.'),
    events: z.array(z.record(z.string(), z.unknown())).optional().describe('Events to publish.'),
    file: z
      .string()
      .min(1)
      .optional()
      .describe('A JSON array or NDJSON file of events (relative to the project).'),
    batch_size: z.number().int().min(1).max(10_000).default(500).describe('Events per request.'),
    server: z.url().optional().describe('Server URL (default: server.host/server.http of sluice.yaml).'),
    token: z.string().min(1).optional().describe('Bearer token with nakadi.event_stream.write.'),
  })
  .refine((s) => (s.events === undefined) !== (s.file === undefined), {
    error: 'give exactly one of "events" and "file"',
  });

export type PublishTaskSpec = z.infer<typeof publishTaskSchema>;

async function eventsOf(ctx: TaskContext, spec: PublishTaskSpec): Promise<unknown[]> {
  if (spec.events) return spec.events;
  const path = resolve(ctx.runtime.project.dir, spec.file as string);
  return parseEventsText(await readFile(path, 'utf8'), spec.file as string);
}

/** Publish the task's events; fails on the first batch the server does not accept entirely. */
export async function runPublishTask(ctx: TaskContext, spec: PublishTaskSpec): Promise<TaskResult> {
  const { server: cfg } = ctx.runtime.project.config;
  const base = (
    spec.server ?? `http://${cfg.host === '0.0.0.0' ? '127.0.0.1' : cfg.host}:${cfg.http}`
  ).replace(/\/+$/, '');
  const events = await eventsOf(ctx, spec);
  const url = `${base}/event-types/${encodeURIComponent(spec.event_type)}/events`;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-flow-id': `${ctx.runId}:${ctx.taskId}`,
  };
  if (spec.token) headers.authorization = `Bearer ${spec.token}`;
  let published = 0;
  for (let i = 0; i < events.length; i += spec.batch_size) {
    ctx.signal.throwIfAborted();
    const batch = events.slice(i, i + spec.batch_size);
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(batch), signal: ctx.signal });
    } catch (err) {
      throw new BackendError(
        `cannot reach the event bus at ${base}: ${(err as Error).message}`,
        'is "sluice serve" running?',
        { cause: err },
      );
    }
    const body = await res.text();
    if (res.status !== 200) {
      const detail = res.status === 207 || res.status === 422 ? firstFailure(body) : body.slice(0, 300);
      throw new InvalidInputError(
        `publishing to ${spec.event_type} failed with ${res.status} after ${published} event(s): ${detail}`,
      );
    }
    published += batch.length;
    ctx.progress({ phase: 'publishing', rows: published });
  }
  ctx.log.info({ eventType: spec.event_type, published }, 'events published');
  return { summary: { eventType: spec.event_type, published } };
}

function firstFailure(body: string): string {
  try {
    const items = JSON.parse(body) as { publishing_status: string; step?: string; detail?: string }[];
    const i = items.findIndex((x) => x.publishing_status === 'failed');
    const item = items[i];
    return item ? `event ${i} failed at ${item.step}: ${item.detail ?? ''}` : body.slice(0, 300);
  } catch {
    return body.slice(0, 300);
  }
}

/** The `publish` task kind. */
export const publishTaskKind: TaskKind<PublishTaskSpec> = {
  name: 'publish',
  schema: publishTaskSchema as unknown as z.ZodType<PublishTaskSpec>,
  run: runPublishTask,
};
