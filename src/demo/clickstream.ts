/**
 * The demo's clickstream: shoppers on the partners' domains viewing pages, adding to
 * carts and ordering, published to the event bus as Nakadi `business` events, the way a
 * tracking service would. A few events are sent twice and some arrive late, as they do
 * from real browsers, so the lake sink's cleansing has something to do.
 */
import { randomUUID } from 'node:crypto';
import { seededRandom } from './marketplace-data.js';

/** The demo's event types and what a shopper does, in funnel order. */
export const CLICK_EVENT_TYPES = [
  'marketplace.page_view',
  'marketplace.add_to_cart',
  'marketplace.order_created',
] as const;

export type ClickEventType = (typeof CLICK_EVENT_TYPES)[number];

export interface ClickEvent {
  metadata: { eid: string; occurred_at: string };
  partner_id: number;
  domain: string;
  session_id: string;
  path: string;
  sku?: string;
  amount?: number;
}

/** Options of the generator. */
export interface ClickstreamOptions {
  partners?: number;
  domainsPerPartner?: number;
  /** Shopping sessions to generate. */
  sessions?: number;
  seed?: number;
  /** Sessions are spread over the `spanMs` before `now`. */
  now?: Date;
  spanMs?: number;
}

/**
 * Events of `sessions` shopping sessions, grouped by event type. About 1 in 100 events is
 * duplicated (same eid) and the order within a type is shuffled slightly.
 */
export function generateClickstream(o: ClickstreamOptions = {}): Record<ClickEventType, ClickEvent[]> {
  const r = seededRandom(o.seed ?? 7);
  const partners = o.partners ?? 10;
  const domains = o.domainsPerPartner ?? 50;
  const now = (o.now ?? new Date()).getTime();
  const span = o.spanMs ?? 86_400_000;
  const out: Record<ClickEventType, ClickEvent[]> = {
    'marketplace.page_view': [],
    'marketplace.add_to_cart': [],
    'marketplace.order_created': [],
  };
  const sessions = o.sessions ?? 5000;
  for (let s = 0; s < sessions; s++) {
    const partner = 1 + Math.floor(r() * partners);
    const domain = `shop${1 + Math.floor(r() * domains)}.partner${partner}.example`;
    const session = randomUUID();
    let at = now - Math.floor(r() * span);
    const event = (type: ClickEventType, extra: Partial<ClickEvent>) => {
      at += 1000 + Math.floor(r() * 30_000);
      const e: ClickEvent = {
        metadata: { eid: randomUUID(), occurred_at: new Date(Math.min(at, now)).toISOString() },
        partner_id: partner,
        domain,
        session_id: session,
        path: '/',
        ...extra,
      };
      out[type].push(e);
      if (r() < 0.01) out[type].push(structuredClone(e));
    };
    const views = 1 + Math.floor(r() * 5);
    for (let v = 0; v < views; v++) event('marketplace.page_view', { path: `/p/${Math.floor(r() * 2000)}` });
    if (r() < 0.3) {
      const sku = `SKU-${String(1 + Math.floor(r() * 2000)).padStart(6, '0')}`;
      event('marketplace.add_to_cart', { path: '/cart', sku });
      if (r() < 0.4)
        event('marketplace.order_created', { path: '/checkout', sku, amount: Math.round(r() * 20000) / 100 });
    }
  }
  // Late arrivals: swap a few neighbours so events are not strictly in time order.
  for (const list of Object.values(out)) {
    for (let i = 1; i < list.length; i += 17)
      [list[i - 1], list[i]] = [list[i] as ClickEvent, list[i - 1] as ClickEvent];
  }
  return out;
}

/** JSON schema of the demo's click events (the `schema` of each event type). */
export function clickEventSchema(type: ClickEventType): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    partner_id: { type: 'integer' },
    domain: { type: 'string' },
    session_id: { type: 'string' },
    path: { type: 'string' },
  };
  if (type !== 'marketplace.page_view') properties.sku = { type: 'string' };
  if (type === 'marketplace.order_created') properties.amount = { type: 'number', minimum: 0 };
  return { type: 'object', properties, required: ['partner_id', 'domain', 'session_id'] };
}

/**
 * POST the events to a Nakadi-compatible bus in batches; resolves with how many were
 * submitted. @throws Error naming the status and body when the bus refuses a batch
 */
export async function publishEvents(
  baseUrl: string,
  eventType: string,
  events: readonly unknown[],
  o: { batchSize?: number; token?: string; signal?: AbortSignal } = {},
): Promise<number> {
  const batchSize = o.batchSize ?? 500;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  let submitted = 0;
  for (let i = 0; i < events.length; i += batchSize) {
    const batch = events.slice(i, i + batchSize);
    const res = await fetch(`${baseUrl}/event-types/${encodeURIComponent(eventType)}/events`, {
      method: 'POST',
      headers,
      body: JSON.stringify(batch),
      signal: o.signal,
    });
    if (res.status !== 200) {
      const text = await res.text();
      throw new Error(`publishing to ${eventType} failed: HTTP ${res.status} ${text.slice(0, 300)}`);
    }
    submitted += batch.length;
  }
  return submitted;
}
