import { useEffect, useRef, useState } from 'react';
import { fetchMetrics } from './api';
import { counterRate, parsePrometheus, sumOf } from './prometheus';
import { usePoll } from './use-poll';

/** How often the overview reads /metrics. */
export const METRICS_POLL_MS = 2000;
/** Samples kept per series: two minutes at the poll interval. */
export const HISTORY_POINTS = 60;

/** Recent values of the process metrics the overview charts; gaps are `undefined`. */
export interface MetricsHistory {
  requestsPerSec: (number | undefined)[];
  rssBytes: (number | undefined)[];
  heapUsedBytes: (number | undefined)[];
  error?: Error;
}

interface Reading {
  atMs: number;
  requests?: number;
  rss?: number;
  heapUsed?: number;
}

async function readMetrics(signal: AbortSignal): Promise<Reading> {
  const samples = parsePrometheus(await fetchMetrics(signal));
  return {
    atMs: performance.now(),
    requests: sumOf(samples, 'sluice_http_request_duration_seconds_count'),
    rss: sumOf(samples, 'process_resident_memory_bytes'),
    heapUsed: sumOf(samples, 'nodejs_heap_size_used_bytes'),
  };
}

const EMPTY: MetricsHistory = { requestsPerSec: [], rssBytes: [], heapUsedBytes: [] };

/** Poll /metrics and keep the last HISTORY_POINTS values of request rate and memory. */
export function useMetricsHistory(): MetricsHistory {
  const poll = usePoll(readMetrics, METRICS_POLL_MS);
  const [history, setHistory] = useState(EMPTY);
  const previous = useRef<Reading>(undefined);
  const appendedAt = useRef<number>(undefined);

  useEffect(() => {
    if (poll.updatedAt === undefined || appendedAt.current === poll.updatedAt) return;
    appendedAt.current = poll.updatedAt;
    const now = poll.error ? undefined : poll.data;
    const prev = previous.current;
    previous.current = now;
    const rate =
      now?.requests !== undefined && prev?.requests !== undefined
        ? counterRate(prev.requests, now.requests, now.atMs - prev.atMs)
        : undefined;
    setHistory((h) => ({
      requestsPerSec: push(h.requestsPerSec, rate),
      rssBytes: push(h.rssBytes, now?.rss),
      heapUsedBytes: push(h.heapUsedBytes, now?.heapUsed),
    }));
  }, [poll.updatedAt, poll.data, poll.error]);

  return { ...history, error: poll.error };
}

function push<T>(values: T[], value: T): T[] {
  const next = [...values, value];
  return next.length > HISTORY_POINTS ? next.slice(next.length - HISTORY_POINTS) : next;
}
