/**
 * Live updates from `GET /api/v1/stream` (Server-Sent Events): one EventSource per tab,
 * shared by every page that listens. Pages reload what they show when a matching event
 * arrives, and fall back to polling while the stream is down.
 */
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { PollState } from './use-poll';

/** A change the server announced. */
export type LiveEvent =
  | { type: 'run'; data: { runId: string; pipeline: string; state: string } }
  | { type: 'table'; data: { table: string; snapshotId: string } }
  | { type: 'events'; data: { eventType: string; batches: number } }
  /** The stream (re)connected: anything may have changed meanwhile. */
  | { type: 'ready'; data: Record<string, never> };

type Listener = (e: LiveEvent) => void;

const STREAM_URL = '/api/v1/stream';
/** After the last page stops listening, the stream stays open this long (navigation re-listens at once). */
const LINGER_MS = 2000;
/** A stream the server refused (EventSource gives up) is tried again after this long. */
const REOPEN_MS = 10_000;

const listeners = new Set<Listener>();
const statusListeners = new Set<() => void>();
let source: EventSource | undefined;
let connected = false;
let lingerTimer: ReturnType<typeof setTimeout> | undefined;
let reopenTimer: ReturnType<typeof setTimeout> | undefined;

function setConnected(value: boolean): void {
  if (connected === value) return;
  connected = value;
  for (const l of statusListeners) l();
}

function emit(e: LiveEvent): void {
  for (const l of [...listeners]) l(e);
}

function open(): void {
  if (source || listeners.size === 0 || typeof EventSource === 'undefined') return;
  const es = new EventSource(STREAM_URL);
  source = es;
  es.addEventListener('ready', () => {
    setConnected(true);
    emit({ type: 'ready', data: {} });
  });
  for (const type of ['run', 'table', 'events'] as const)
    es.addEventListener(type, (m) => {
      try {
        emit({ type, data: JSON.parse((m as MessageEvent<string>).data) } as LiveEvent);
      } catch {
        // a frame this page does not understand
      }
    });
  // The server dropped this tab for falling behind: start over (the `ready` event reloads pages).
  es.addEventListener('overflow', () => reopen(0));
  es.onerror = () => {
    setConnected(false);
    // CLOSED: the server refused (401, 503...); EventSource will not retry on its own.
    if (es.readyState === EventSource.CLOSED) reopen(REOPEN_MS);
  };
}

function close(): void {
  source?.close();
  source = undefined;
  setConnected(false);
}

function reopen(afterMs: number): void {
  close();
  clearTimeout(reopenTimer);
  reopenTimer = setTimeout(open, afterMs);
}

// Leaving the page ends the stream instead of leaving the browser to abort it mid-flight.
if (typeof window !== 'undefined') window.addEventListener('pagehide', close);

/** Listen to live events; returns the function that stops listening. */
export function subscribeLive(listener: Listener): () => void {
  listeners.add(listener);
  clearTimeout(lingerTimer);
  open();
  return () => {
    listeners.delete(listener);
    if (listeners.size > 0) return;
    clearTimeout(lingerTimer);
    lingerTimer = setTimeout(() => {
      if (listeners.size === 0) {
        clearTimeout(reopenTimer);
        close();
      }
    }, LINGER_MS);
  };
}

/** True while the stream is open (pages then poll only rarely). */
export function useLiveConnected(): boolean {
  return useSyncExternalStore(
    (onChange) => {
      statusListeners.add(onChange);
      return () => statusListeners.delete(onChange);
    },
    () => connected,
  );
}

export interface LiveOptions {
  /** Which events make the page reload. */
  match: (e: LiveEvent) => boolean;
  /** Polling interval while the stream is down. */
  fallbackMs: number;
  /** Polling interval while the stream is up, in case an event was missed (default 60 s). */
  idleMs?: number;
}

/**
 * Like `usePoll`, but driven by live events: `load` runs at once, again shortly after each
 * matching event (bursts are gathered), every `fallbackMs` while the stream is down and
 * every `idleMs` while it is up. Calls never overlap; each is aborted on unmount.
 */
export function useLive<T>(load: (signal: AbortSignal) => Promise<T>, o: LiveOptions): PollState<T> {
  const [state, setState] = useState<PollState<T>>({});
  const loadRef = useRef(load);
  loadRef.current = load;
  const matchRef = useRef(o.match);
  matchRef.current = o.match;
  const { fallbackMs } = o;
  const idleMs = o.idleMs ?? 60_000;

  // biome-ignore lint/correctness/useExhaustiveDependencies: `load` changing (new params) must reload at once
  useEffect(() => {
    const stop = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let soon: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    let again = false;
    const schedule = (ms: number) => {
      clearTimeout(timer);
      if (!stop.signal.aborted) timer = setTimeout(tick, ms);
    };
    const tick = async () => {
      clearTimeout(timer);
      if (running) {
        again = true;
        return;
      }
      running = true;
      const signal = AbortSignal.any([stop.signal, AbortSignal.timeout(Math.max(fallbackMs * 2, 20_000))]);
      try {
        const data = await loadRef.current(signal);
        if (!stop.signal.aborted) setState({ data, updatedAt: Date.now() });
      } catch (err) {
        if (!stop.signal.aborted) {
          const error = err instanceof Error ? err : new Error(String(err));
          setState((s) => ({ ...s, error, updatedAt: Date.now() }));
        }
      } finally {
        running = false;
      }
      if (again) {
        again = false;
        void tick();
      } else schedule(connected ? idleMs : fallbackMs);
    };
    const unsubscribe = subscribeLive((e) => {
      if (e.type !== 'ready' && !matchRef.current(e)) return;
      clearTimeout(soon);
      soon = setTimeout(tick, 150);
    });
    // The stream went down: poll until it is back.
    const onStatus = () => {
      if (!connected && !running) schedule(fallbackMs);
    };
    statusListeners.add(onStatus);
    void tick();
    return () => {
      stop.abort();
      clearTimeout(timer);
      clearTimeout(soon);
      unsubscribe();
      statusListeners.delete(onStatus);
    };
  }, [load, fallbackMs, idleMs]);

  return state;
}
