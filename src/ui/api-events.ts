/** The event bus through its Nakadi API at the server root. */

export interface EventType {
  name: string;
  owning_application: string;
  category: string;
  partition_strategy?: string;
  schema: { type: string; schema: string; version?: string; created_at?: string };
  updated_at?: string;
}

export interface PartitionInfo {
  partition: string;
  oldest_available_offset: string;
  newest_available_offset: string;
}

export interface Subscription {
  id: string;
  owning_application: string;
  consumer_group?: string;
  event_types: string[];
}

export interface SubscriptionStats {
  items: {
    event_type: string;
    partitions: { partition: string; state: string; unconsumed_events?: number; stream_id?: string }[];
  }[];
}

async function getJson<T>(path: string, signal: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { signal, headers: { accept: 'application/json' } });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new Error('cannot reach the server', { cause: err });
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { detail?: string; title?: string };
    throw new Error(`${path}: ${body.detail ?? body.title ?? `${res.status} ${res.statusText}`}`);
  }
  return (await res.json()) as T;
}

const q = encodeURIComponent;

export const fetchEventTypes = (signal: AbortSignal) => getJson<EventType[]>('/event-types', signal);
export const fetchPartitions = (name: string, signal: AbortSignal) =>
  getJson<PartitionInfo[]>(`/event-types/${q(name)}/partitions`, signal);
export const fetchSubscriptions = async (signal: AbortSignal) =>
  (await getJson<{ items: Subscription[] }>('/subscriptions?limit=1000', signal)).items;
export const fetchSubscriptionStats = (id: string, signal: AbortSignal) =>
  getJson<SubscriptionStats>(`/subscriptions/${q(id)}/stats`, signal);

/**
 * Events stored in a partition: offsets are zero-padded numbers naming the last event, and
 * `BEGIN` (or an oldest offset past the newest) means none.
 */
export function storedEvents(p: PartitionInfo): number {
  const newest = Number(p.newest_available_offset);
  if (!Number.isFinite(newest) || p.newest_available_offset === 'BEGIN') return 0;
  const oldest = Number(p.oldest_available_offset);
  return Number.isFinite(oldest) ? Math.max(0, newest - oldest + 1) : newest + 1;
}

/** The newest offset as a number, for counting what was published between two readings. */
export function newestOffset(p: PartitionInfo): number {
  const n = Number(p.newest_available_offset);
  return Number.isFinite(n) ? n : -1;
}

/** One reading of the bus: per event type, the sum of newest offsets and the lag per subscription. */
export interface BusReading {
  atMs: number;
  types: EventType[];
  offsets: Record<string, number>;
  stored: Record<string, number>;
  /** Unconsumed events per event type over every subscription that reads it. */
  lag: Record<string, number>;
  subscriptions: (Subscription & { lag: number; partitions: number })[];
}

/** Read the event types, their partitions and every subscription's stats. */
export async function readBus(signal: AbortSignal): Promise<BusReading> {
  const [types, subs] = await Promise.all([fetchEventTypes(signal), fetchSubscriptions(signal)]);
  const offsets: Record<string, number> = {};
  const stored: Record<string, number> = {};
  const lag: Record<string, number> = {};
  await Promise.all(
    types.map(async (t) => {
      const parts = await fetchPartitions(t.name, signal);
      offsets[t.name] = parts.reduce((n, p) => n + newestOffset(p) + 1, 0);
      stored[t.name] = parts.reduce((n, p) => n + storedEvents(p), 0);
    }),
  );
  const subscriptions = await Promise.all(
    subs.map(async (s) => {
      const stats = await fetchSubscriptionStats(s.id, signal);
      let total = 0;
      let partitions = 0;
      for (const item of stats.items) {
        const n = item.partitions.reduce((sum, p) => sum + (p.unconsumed_events ?? 0), 0);
        lag[item.event_type] = (lag[item.event_type] ?? 0) + n;
        total += n;
        partitions += item.partitions.length;
      }
      return { ...s, lag: total, partitions };
    }),
  );
  return { atMs: performance.now(), types, offsets, stored, lag, subscriptions };
}
