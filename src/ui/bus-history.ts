import { useEffect, useRef, useState } from 'react';
import { type BusReading, readBus } from './api-events';
import { counterRate } from './prometheus';
import { usePoll } from './use-poll';

/** How often the bus pages read partitions and subscription stats. */
export const BUS_POLL_MS = 3000;
/** Samples kept: three minutes at the poll interval. */
export const BUS_POINTS = 60;

export interface BusHistory {
  latest?: BusReading;
  /** Events published per second, per event type, at the latest reading. */
  rates: Record<string, number>;
  /** Publish rate over all event types, oldest first. */
  totalRate: (number | undefined)[];
  /** Unconsumed events over all subscriptions, oldest first. */
  totalLag: (number | undefined)[];
  error?: Error;
}

/** Poll the bus and turn its offsets into publish rates and its cursors into consumer lag. */
export function useBusHistory(): BusHistory {
  const poll = usePoll(readBus, BUS_POLL_MS);
  const previous = useRef<BusReading>(undefined);
  const seenAt = useRef<number>(undefined);
  const [state, setState] = useState<Omit<BusHistory, 'error'>>({ rates: {}, totalRate: [], totalLag: [] });

  useEffect(() => {
    if (poll.updatedAt === undefined || seenAt.current === poll.updatedAt) return;
    seenAt.current = poll.updatedAt;
    const now = poll.error ? undefined : poll.data;
    const prev = previous.current;
    previous.current = now;
    const rates: Record<string, number> = {};
    if (now && prev) {
      for (const [name, offset] of Object.entries(now.offsets)) {
        const before = prev.offsets[name];
        const r = before === undefined ? undefined : counterRate(before, offset, now.atMs - prev.atMs);
        if (r !== undefined) rates[name] = r;
      }
    }
    const total = now && prev ? Object.values(rates).reduce((a, b) => a + b, 0) : undefined;
    const lag = now ? Object.values(now.lag).reduce((a, b) => a + b, 0) : undefined;
    setState((s) => ({
      latest: now ?? s.latest,
      rates,
      totalRate: push(s.totalRate, total),
      totalLag: push(s.totalLag, lag),
    }));
  }, [poll.updatedAt, poll.data, poll.error]);

  return { ...state, error: poll.error };
}

function push<T>(values: T[], value: T): T[] {
  const next = [...values, value];
  return next.length > BUS_POINTS ? next.slice(next.length - BUS_POINTS) : next;
}
