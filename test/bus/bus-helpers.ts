/** A bus over a real metastore (SQLite or PostgreSQL) and the in-memory log, plus spec checks. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { createBusApp, createEventBus, type EventBus, type EventLog } from '../../src/bus/index.js';
import { openEventLog } from '../../src/bus/log/index.js';
import { busSchema } from '../../src/config/schema.js';
import { type MetaStore, openMetaStore } from '../../src/metastore/index.js';
import { silentLogger } from '../../src/observe/index.js';
import { tempDir } from '../helpers/cli.js';

export const SPEC_FILE = '/work/shared/specs/nakadi-event-bus-api.yaml';

/** Tokens the test bus knows. */
export const TOKENS = {
  admin: 'admin-token-0123456789',
  writer: 'writer-token-0123456789',
  reader: 'reader-token-0123456789',
  stranger: 'stranger-token-0123456789',
  noScopes: 'noscope-token-0123456789',
};

export interface TestBus {
  bus: EventBus;
  meta: MetaStore;
  eventLog: EventLog;
  app: ReturnType<typeof createBusApp>;
  close(): Promise<void>;
}

/**
 * Open a bus on the embedded event log in a temp dir (or `eventLog`, e.g. the in-memory one
 * that can fail appends on demand); `metaUrl` defaults to a fresh SQLite file.
 */
export async function openTestBus(
  o: { metaUrl?: string; bus?: Record<string, unknown>; eventLog?: EventLog } = {},
): Promise<TestBus> {
  const tmp = tempDir('sluice-bus-');
  const meta = await openMetaStore(o.metaUrl ?? `sqlite://${join(tmp.dir, 'meta.db')}`);
  const config = busSchema.parse({
    auth: {
      anonymous: 'never',
      admins: [{ data_type: 'service', value: 'admin-app' }],
      tokens: [
        {
          token: TOKENS.admin,
          subject: 'admin-app',
          scopes: [
            'nakadi.event_type.write',
            'nakadi.event_stream.write',
            'nakadi.event_stream.read',
            'nakadi.config.write',
          ],
        },
        {
          token: TOKENS.writer,
          subject: 'producer',
          scopes: ['nakadi.event_stream.write', 'nakadi.event_stream.read'],
        },
        { token: TOKENS.reader, subject: 'consumer', scopes: ['nakadi.event_stream.read'] },
        {
          token: TOKENS.stranger,
          subject: 'stranger',
          scopes: ['nakadi.event_stream.write', 'nakadi.event_stream.read', 'nakadi.event_type.write'],
        },
        { token: TOKENS.noScopes, subject: 'nobody', scopes: [] },
      ],
    },
    ...o.bus,
  });
  const eventLog = o.eventLog ?? (await openEventLog(config, { dataDir: tmp.dir, log: silentLogger }));
  const bus = createEventBus({ meta, eventLog, config, log: silentLogger });
  return {
    bus,
    meta,
    eventLog,
    app: createBusApp(bus),
    async close() {
      await eventLog.close();
      await meta.close();
      tmp.remove();
    },
  };
}

/** A request to the app with a token and a JSON body. */
export async function call(
  t: TestBus,
  method: string,
  path: string,
  o: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  let body: string | undefined = o.raw;
  if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers['content-type'] = 'application/json';
  }
  return t.app.request(path, { method, headers, body });
}

// The spec writes the date-time format of EventType.created_at/updated_at as a `pattern`; read it as the format it means.
const specText = readFileSync(SPEC_FILE, 'utf8').replaceAll(
  'pattern: RFC 3339 date-time',
  'format: date-time',
);
const spec = parse(specText) as { definitions: Record<string, unknown> };
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema({ $id: 'nakadi', definitions: spec.definitions });

/** Assert a value matches a definition of the spec (e.g. `EventType`), or an array of it. */
export function assertSpec(definition: string, value: unknown, array = false): void {
  const ref = { $ref: `nakadi#/definitions/${definition}` };
  const validate = ajv.compile(array ? { type: 'array', items: ref } : ref);
  if (!validate(value)) {
    throw new Error(
      `response does not match ${definition}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`,
    );
  }
}

/** Assert a response is a Problem JSON document with the status. */
export async function assertProblem(
  res: Response,
  status: number,
  detail?: RegExp,
): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  if (!/application\/problem\+json/.test(res.headers.get('content-type') ?? '')) {
    throw new Error(`expected application/problem+json, got ${res.headers.get('content-type')}: ${text}`);
  }
  const body = JSON.parse(text) as Record<string, unknown>;
  assertSpec('Problem', body);
  if (body.status !== status) throw new Error(`problem status ${String(body.status)} != ${status}`);
  if (detail && !detail.test(String(body.detail)))
    throw new Error(`problem detail ${String(body.detail)} does not match ${detail}`);
  return body;
}

/** A business event type body. */
export function businessType(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    owning_application: 'orders-app',
    category: 'business',
    enrichment_strategies: ['metadata_enrichment'],
    partition_strategy: 'hash',
    partition_key_fields: ['order_number'],
    schema: {
      type: 'json_schema',
      schema: JSON.stringify({
        properties: { order_number: { type: 'string' }, amount: { type: 'number' } },
        required: ['order_number'],
      }),
    },
    ...extra,
  };
}

/** A data change event type keyed by `data.id`. */
export function customersType(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    owning_application: 'crm',
    category: 'data',
    enrichment_strategies: ['metadata_enrichment'],
    partition_strategy: 'hash',
    partition_key_fields: ['id'],
    schema: {
      type: 'json_schema',
      schema: JSON.stringify({
        properties: { id: { type: 'string' }, name: { type: 'string' } },
        required: ['id'],
      }),
    },
    ...extra,
  };
}

let counter = 0;
/** A valid business event. */
export function orderEvent(
  orderNumber: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  counter++;
  const eid = `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`;
  return { order_number: orderNumber, metadata: { eid, occurred_at: new Date().toISOString() }, ...extra };
}

/** Read newline-separated batches from a streaming response until `until` says stop (then cancel). */
export async function readBatches(
  res: Response,
  until: (batches: StreamBatch[]) => boolean = () => false,
): Promise<StreamBatch[]> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const batches: StreamBatch[] = [];
  let buf = '';
  for (;;) {
    if (until(batches)) {
      await reader.cancel();
      return batches;
    }
    const { done, value } = await reader.read();
    if (done) return batches;
    buf += decoder.decode(value, { stream: true });
    let i = buf.indexOf('\n');
    while (i >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) batches.push(JSON.parse(line) as StreamBatch);
      i = buf.indexOf('\n');
    }
  }
}

export interface StreamBatch {
  cursor: { partition: string; offset: string; event_type?: string; cursor_token?: string };
  events?: Record<string, unknown>[];
  info?: unknown;
}
