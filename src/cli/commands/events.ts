import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseEventsText } from '../../bus/index.js';
import { InvalidInputError } from '../../util/index.js';
import type { GlobalOptions } from '../main.js';
import { createOutput, formatTable, type Output } from '../output.js';
import { type BusClient, openBusClient, problemError } from './events-client.js';

type Json = Record<string, unknown>;

/** `sluice events <sub>`: dispatched on the subcommand's name. */
export default async function events(args: unknown[], globals: GlobalOptions, cmd: Command): Promise<number> {
  const parent = cmd.parent?.opts<{ server?: string; token?: string }>() ?? {};
  const client = await openBusClient(globals, parent);
  const out = createOutput(globals.json ?? false);
  const opts = cmd.opts();
  const name = args[0] as string | undefined;
  switch (cmd.name()) {
    case 'types':
      return types(client, out, name);
    case 'publish':
      return publish(client, out, name as string, opts);
    case 'tail':
      return tail(client, name as string, opts);
    case 'subscriptions':
      return subscriptions(client, out, opts);
    case 'lag':
      return lag(client, out, name as string);
    default:
      throw new InvalidInputError(`unknown events command ${cmd.name()}`);
  }
}

async function types(client: BusClient, out: Output, name?: string): Promise<number> {
  if (name) {
    const et = await client.json<Json>('GET', `/event-types/${encodeURIComponent(name)}`);
    const schemas = await client.json<{ items: Json[] }>(
      'GET',
      `/event-types/${encodeURIComponent(name)}/schemas`,
    );
    out.result({ ...et, schemas: schemas.items });
    out.line(JSON.stringify(et, null, 2));
    out.line(`schema versions: ${schemas.items.map((s) => s.version).join(', ')}`);
    return 0;
  }
  const list = await client.json<Json[]>('GET', '/event-types');
  out.result(list);
  const rows = list.map((et) => [
    String(et.name),
    String(et.category),
    String(et.owning_application),
    String((et.schema as Json).version),
    String(et.compatibility_mode),
  ]);
  out.line(
    rows.length
      ? formatTable(rows, { header: ['NAME', 'CATEGORY', 'OWNER', 'VERSION', 'COMPATIBILITY'] })
      : 'no event types',
  );
  return 0;
}

async function publish(
  client: BusClient,
  out: Output,
  name: string,
  o: { data?: string; file?: string; flowId?: string },
): Promise<number> {
  const text = o.data ?? (o.file ? await readFile(o.file, 'utf8') : await readStdin());
  if (!text.trim())
    throw new InvalidInputError('no events given', 'pass --data, --file or pipe JSON on stdin');
  const body = parseEventsText(text, o.file ?? (o.data !== undefined ? '--data' : 'stdin'));
  const headers: Record<string, string> = o.flowId ? { 'x-flow-id': o.flowId } : {};
  const res = await client.request('POST', `/event-types/${encodeURIComponent(name)}/events`, {
    body: JSON.stringify(body),
    headers,
  });
  if (res.status === 200) {
    out.result({ published: body.length });
    out.line(`published ${body.length} event(s) to ${name}`);
    return 0;
  }
  if (res.status !== 207 && res.status !== 422) throw await problemError(res);
  const items = (await res.json()) as {
    publishing_status: string;
    step: string;
    detail?: string;
    eid?: string;
  }[];
  out.result({ status: res.status, items });
  for (const [i, item] of items.entries()) {
    if (item.publishing_status !== 'submitted')
      out.line(
        `event ${i}${item.eid ? ` (${item.eid})` : ''}: ${item.publishing_status} at ${item.step}${item.detail ? `: ${item.detail}` : ''}`,
      );
  }
  return 1;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

async function tail(
  client: BusClient,
  name: string,
  o: { from?: string; limit?: string; timeout?: string },
): Promise<number> {
  const path = `/event-types/${encodeURIComponent(name)}`;
  const headers: Record<string, string> = {};
  if (o.from === 'begin') {
    const parts = await client.json<{ partition: string }[]>('GET', `${path}/partitions`);
    headers['x-nakadi-cursors'] = JSON.stringify(
      parts.map((p) => ({ partition: p.partition, offset: 'BEGIN' })),
    );
  } else if (o.from !== 'end') throw new InvalidInputError(`--from must be begin or end, got "${o.from}"`);
  const limit = o.limit === undefined ? 0 : Number(o.limit);
  if (!Number.isInteger(limit) || limit < 0)
    throw new InvalidInputError(`--limit must be a whole number, got "${o.limit}"`);
  const q = new URLSearchParams({
    batch_limit: String(limit ? Math.min(limit, 100) : 100),
    batch_flush_timeout: '1',
  });
  if (limit) q.set('stream_limit', String(limit));
  if (o.timeout) q.set('stream_timeout', o.timeout);
  const res = await client.request('GET', `${path}/events?${q}`, { headers });
  if (!res.ok || !res.body) throw await problemError(res);
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body) {
    buf += decoder.decode(chunk, { stream: true });
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const batch = JSON.parse(buf.slice(0, i)) as { events?: unknown[] };
      buf = buf.slice(i + 1);
      for (const e of batch.events ?? []) process.stdout.write(`${JSON.stringify(e)}\n`);
    }
  }
  return 0;
}

async function subscriptions(
  client: BusClient,
  out: Output,
  o: { owningApplication?: string; eventType?: string },
): Promise<number> {
  const q = new URLSearchParams({ limit: '1000' });
  if (o.owningApplication) q.set('owning_application', o.owningApplication);
  if (o.eventType) q.set('event_type', o.eventType);
  const { items } = await client.json<{ items: Json[] }>('GET', `/subscriptions?${q}`);
  out.result(items);
  const rows = items.map((s) => [
    String(s.id),
    String(s.owning_application),
    String(s.consumer_group),
    (s.event_types as string[]).join(','),
    String(s.read_from),
  ]);
  out.line(
    rows.length
      ? formatTable(rows, { header: ['ID', 'OWNER', 'GROUP', 'EVENT TYPES', 'READ FROM'] })
      : 'no subscriptions',
  );
  return 0;
}

async function lag(client: BusClient, out: Output, id: string): Promise<number> {
  const { items } = await client.json<{ items: { event_type: string; partitions: Json[] }[] }>(
    'GET',
    `/subscriptions/${encodeURIComponent(id)}/stats`,
  );
  out.result(items);
  const rows = items.flatMap((et) =>
    et.partitions.map((p) => [
      et.event_type,
      String(p.partition),
      String(p.unconsumed_events ?? '?'),
      String(p.state),
      String(p.stream_id ?? ''),
    ]),
  );
  out.line(formatTable(rows, { header: ['EVENT TYPE', 'PARTITION', 'UNCONSUMED', 'STATE', 'STREAM'] }));
  const total = items
    .flatMap((et) => et.partitions)
    .reduce((n, p) => n + Number(p.unconsumed_events ?? 0), 0);
  out.line(`total unconsumed: ${total}`);
  return 0;
}
