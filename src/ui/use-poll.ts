import { useEffect, useState } from 'react';

/** The latest result of a polled request. */
export interface PollState<T> {
  data?: T;
  error?: Error;
  /** Date.now() of the last answer, successful or not. */
  updatedAt?: number;
}

/**
 * Call `load` now and then every `intervalMs` after the previous call settled (never
 * overlapping); each call is aborted after two intervals or when the component unmounts.
 * A new `load` (a page's filter changed) aborts the call in flight and polls it at once, so
 * pass a stable function: module-level, or from `useCallback`.
 */
export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, intervalMs: number): PollState<T> {
  const [state, setState] = useState<PollState<T>>({});

  useEffect(() => {
    const stop = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      const signal = AbortSignal.any([stop.signal, AbortSignal.timeout(intervalMs * 2)]);
      try {
        const data = await load(signal);
        if (!stop.signal.aborted) setState({ data, updatedAt: Date.now() });
      } catch (err) {
        if (stop.signal.aborted) return;
        const error = err instanceof Error ? err : new Error(String(err));
        setState((s) => ({ ...s, error, updatedAt: Date.now() }));
      }
      if (!stop.signal.aborted) timer = setTimeout(tick, intervalMs);
    };
    void tick();
    return () => {
      stop.abort();
      clearTimeout(timer);
    };
  }, [load, intervalMs]);

  return state;
}

/** Date.now(), refreshed every `intervalMs` (for clocks such as uptime). */
export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
