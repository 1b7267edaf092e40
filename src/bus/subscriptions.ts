/**
 * Subscriptions and their committed cursors in the metastore. A subscription is unique per
 * (owning_application, sorted event_types, consumer_group): creating it again returns it.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { MetaStore } from '../metastore/index.js';
import { NotFoundError } from '../util/index.js';
import { boundsOf, cursorOffset, parseCursorOffset, startOfCursor } from './cursors.js';
import type { EventLog, PartitionBounds } from './log/types.js';
import { UnprocessableError } from './problem.js';
import type { EventTypeRegistry } from './registry.js';
import type { Subscription, SubscriptionCursor } from './types.js';

const attribute = z.strictObject({ data_type: z.string().min(1), value: z.string().min(1) });
const cursor = z.looseObject({ event_type: z.string(), partition: z.string(), offset: z.string() });
const subscriptionBody = z.looseObject({
  owning_application: z.string().min(1),
  event_types: z.array(z.string().min(1)).min(1),
  consumer_group: z.string().min(1).default('default'),
  read_from: z.enum(['begin', 'end', 'cursors', 'BEGIN', 'END']).default('end'),
  initial_cursors: z.array(cursor).optional(),
  authorization: z
    .strictObject({ admins: z.array(attribute).min(1), readers: z.array(attribute).min(1) })
    .optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

/** Subscriptions: create (idempotent), list, get, delete; committed cursors. */
export class SubscriptionStore {
  readonly #meta: MetaStore;
  readonly #registry: EventTypeRegistry;
  readonly #log: EventLog;

  constructor(meta: MetaStore, registry: EventTypeRegistry, eventLog: EventLog) {
    this.#meta = meta;
    this.#registry = registry;
    this.#log = eventLog;
  }

  /**
   * Create a subscription, or return the existing one with the same key.
   * @throws UnprocessableError for an invalid body or unknown event types.
   */
  async create(body: unknown): Promise<{ subscription: Subscription; created: boolean }> {
    const parsed = subscriptionBody.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UnprocessableError(`${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
    }
    const b = parsed.data;
    const eventTypes = [...new Set(b.event_types)].sort();
    const key = JSON.stringify([b.owning_application, eventTypes, b.consumer_group]);
    const existing = await this.#meta.query<{ definition: string }>(
      'SELECT definition FROM bus_subscriptions WHERE key_text = ?',
      [key],
    );
    if (existing[0])
      return { subscription: JSON.parse(existing[0].definition) as Subscription, created: false };
    const missing: string[] = [];
    for (const name of eventTypes) if (!(await this.#registry.find(name))) missing.push(name);
    if (missing.length)
      throw new UnprocessableError(
        `Failed to create subscription, event type(s) not found: '${missing.join("', '")}'`,
      );
    const readFrom = b.read_from.toLowerCase() as Subscription['read_from'];
    if (readFrom === 'cursors') await this.#checkInitialCursors(eventTypes, b.initial_cursors ?? []);
    const now = new Date().toISOString();
    const subscription: Subscription = {
      ...(b as object),
      id: randomUUID(),
      owning_application: b.owning_application,
      event_types: eventTypes,
      consumer_group: b.consumer_group,
      read_from: readFrom,
      created_at: now,
      updated_at: now,
    } as Subscription;
    if (readFrom !== 'cursors') delete subscription.initial_cursors;
    const r = await this.#meta.execute(
      `INSERT INTO bus_subscriptions (id, key_text, owning_application, consumer_group, definition, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key_text) DO NOTHING`,
      [
        subscription.id,
        key,
        b.owning_application,
        b.consumer_group,
        JSON.stringify(subscription),
        Date.now(),
        Date.now(),
      ],
    );
    if (r.rowCount === 0) return this.create(body);
    return { subscription, created: true };
  }

  async #checkInitialCursors(eventTypes: string[], cursors: z.infer<typeof cursor>[]): Promise<void> {
    for (const name of eventTypes) {
      const bounds = await this.#log.bounds(name);
      for (const b of bounds) {
        const c = cursors.find((x) => x.event_type === name && x.partition === String(b.partition));
        if (!c)
          throw new UnprocessableError(`initial_cursors: no cursor for partition ${b.partition} of ${name}`);
        startOfCursor(c.offset, b);
      }
    }
    for (const c of cursors) {
      if (!eventTypes.includes(c.event_type))
        throw new UnprocessableError(`initial_cursors: ${c.event_type} is not in event_types`);
    }
  }

  /** Subscriptions, newest first, filtered by owning application and event types (all must match). */
  async list(o: {
    owningApplication?: string;
    eventTypes?: string[];
    limit: number;
    offset: number;
  }): Promise<Subscription[]> {
    const rows = await this.#meta.query<{ definition: string }>(
      o.owningApplication
        ? 'SELECT definition FROM bus_subscriptions WHERE owning_application = ? ORDER BY created_at DESC, id'
        : 'SELECT definition FROM bus_subscriptions ORDER BY created_at DESC, id',
      o.owningApplication ? [o.owningApplication] : [],
    );
    let all = rows.map((r) => JSON.parse(r.definition) as Subscription);
    if (o.eventTypes?.length)
      all = all.filter((s) => o.eventTypes?.every((et) => s.event_types.includes(et)));
    return all.slice(o.offset, o.offset + o.limit);
  }

  /** @throws NotFoundError */
  async get(id: string): Promise<Subscription> {
    const rows = await this.#meta.query<{ definition: string }>(
      'SELECT definition FROM bus_subscriptions WHERE id = ?',
      [id],
    );
    if (!rows[0]) throw new NotFoundError(`Subscription with id "${id}" does not exist`);
    return JSON.parse(rows[0].definition) as Subscription;
  }

  /** Replace the authorization section (the only mutable part). */
  async updateAuthorization(id: string, authorization: unknown): Promise<void> {
    const sub = await this.get(id);
    const parsed = subscriptionBody.shape.authorization.safeParse(authorization);
    if (!parsed.success)
      throw new UnprocessableError('authorization: expected { admins: [...], readers: [...] }');
    const updated = { ...sub, authorization: parsed.data, updated_at: new Date().toISOString() };
    if (!parsed.data) delete updated.authorization;
    await this.#meta.execute('UPDATE bus_subscriptions SET definition = ?, updated_at = ? WHERE id = ?', [
      JSON.stringify(updated),
      Date.now(),
      id,
    ]);
  }

  /** @throws NotFoundError */
  async delete(id: string): Promise<void> {
    await this.get(id);
    await this.#meta.transaction(async (tx) => {
      await tx.execute('DELETE FROM bus_subscription_cursors WHERE subscription_id = ?', [id]);
      await tx.execute('DELETE FROM bus_subscriptions WHERE id = ?', [id]);
    });
  }

  /** Committed cursors; partitions without one are initialised from `read_from` first. */
  async cursors(sub: Subscription): Promise<Map<string, string>> {
    const read = async () => {
      const rows = await this.#meta.query<{
        event_type: string;
        partition_id: string;
        committed_offset: string;
      }>(
        'SELECT event_type, partition_id, committed_offset FROM bus_subscription_cursors WHERE subscription_id = ?',
        [sub.id],
      );
      return new Map(rows.map((r) => [slotKey(r.event_type, Number(r.partition_id)), r.committed_offset]));
    };
    const found = await read();
    const missing: { eventType: string; bounds: PartitionBounds }[] = [];
    for (const name of sub.event_types) {
      for (const b of await this.#log.bounds(name)) {
        if (!found.has(slotKey(name, b.partition))) missing.push({ eventType: name, bounds: b });
      }
    }
    if (!missing.length) return found;
    for (const m of missing) {
      const initial = sub.initial_cursors?.find(
        (c) => c.event_type === m.eventType && c.partition === String(m.bounds.partition),
      );
      const offset =
        sub.read_from === 'end'
          ? cursorOffset(m.bounds.end - 1n, m.bounds)
          : sub.read_from === 'cursors' && initial
            ? initial.offset
            : 'BEGIN';
      await this.#meta.execute(
        `INSERT INTO bus_subscription_cursors (subscription_id, event_type, partition_id, committed_offset, updated_at)
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (subscription_id, event_type, partition_id) DO NOTHING`,
        [sub.id, m.eventType, String(m.bounds.partition), offset, Date.now()],
      );
    }
    return read();
  }

  /**
   * Commit cursors that move forward; returns per cursor whether it was committed or outdated.
   * @throws UnprocessableError for cursors of other event types or partitions, or bad offsets.
   */
  async commit(sub: Subscription, items: SubscriptionCursor[]): Promise<('committed' | 'outdated')[]> {
    const current = await this.cursors(sub);
    const results: ('committed' | 'outdated')[] = [];
    for (const c of items) {
      const bounds = await this.#boundsOf(sub, c);
      const key = slotKey(c.event_type, bounds.partition);
      const next = parseCursorOffset(c.offset, bounds);
      if (next >= bounds.end)
        throw new UnprocessableError(`offset ${c.offset} of partition ${c.partition} was never sent`);
      const before = parseCursorOffset(current.get(key) ?? 'BEGIN', bounds);
      if (next <= before) {
        results.push('outdated');
        continue;
      }
      const offset = cursorOffset(next, bounds);
      const r = await this.#meta.execute(
        'UPDATE bus_subscription_cursors SET committed_offset = ?, updated_at = ? WHERE subscription_id = ? AND event_type = ? AND partition_id = ? AND committed_offset = ?',
        [offset, Date.now(), sub.id, c.event_type, String(bounds.partition), current.get(key) ?? 'BEGIN'],
      );
      current.set(key, offset);
      results.push(r.rowCount ? 'committed' : 'outdated');
    }
    return results;
  }

  /** Set cursors to given positions (PATCH), forward or backward. */
  async reset(sub: Subscription, items: SubscriptionCursor[]): Promise<void> {
    await this.cursors(sub);
    const checked: { c: SubscriptionCursor; partition: number; offset: string }[] = [];
    for (const c of items) {
      const bounds = await this.#boundsOf(sub, c);
      startOfCursor(c.offset, bounds);
      checked.push({
        c,
        partition: bounds.partition,
        offset: cursorOffset(parseCursorOffset(c.offset, bounds), bounds),
      });
    }
    await this.#meta.transaction(async (tx) => {
      for (const { c, partition, offset } of checked) {
        await tx.execute(
          'UPDATE bus_subscription_cursors SET committed_offset = ?, updated_at = ? WHERE subscription_id = ? AND event_type = ? AND partition_id = ?',
          [offset, Date.now(), sub.id, c.event_type, String(partition)],
        );
      }
    });
  }

  async #boundsOf(sub: Subscription, c: SubscriptionCursor): Promise<PartitionBounds> {
    if (!c || typeof c !== 'object' || typeof c.event_type !== 'string') {
      throw new UnprocessableError('a cursor needs "event_type", "partition" and "offset" strings');
    }
    if (!sub.event_types.includes(c.event_type)) {
      throw new UnprocessableError(`event type ${c.event_type} is not part of subscription ${sub.id}`);
    }
    return boundsOf(c, await this.#log.bounds(c.event_type));
  }
}

/** The key of one (event type, partition) of a subscription. */
export function slotKey(eventType: string, partition: number): string {
  return `${eventType}\u0000${partition}`;
}
