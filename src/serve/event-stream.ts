/**
 * Live updates for the web UI as Server-Sent Events (`GET /api/v1/stream`): run and task
 * state changes, table commits and event batches, fed from the metastore's notification
 * channels the orchestrator, the catalog and the bus already announce on. The hub listens
 * only while a client is connected; each client has a bounded queue and is dropped (it
 * reconnects and reloads) when it cannot keep up.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { TRIGGER_CHANNEL, type TriggerEvent } from '../metastore/index.js';
import type { Logger } from '../observe/index.js';
import { RUN_CHANGES_CHANNEL, RUNS_CHANNEL } from '../orchestrator/index.js';
import type { Runtime } from '../runtime/index.js';
import { BackendError, InvalidInputError } from '../util/index.js';

/** What a client may subscribe to. */
export const STREAM_TOPICS = ['runs', 'tables', 'events'] as const;
export type StreamTopic = (typeof STREAM_TOPICS)[number];

export interface EventStreamOptions {
  /** A comment line is sent this often so proxies keep idle streams open (default 15 s). */
  keepAliveMs?: number;
  /** Frames queued for one client before it is dropped as too slow (default 1000). */
  maxQueuedFrames?: number;
  /** Connected clients at most; more are answered 503 (default 500). */
  maxClients?: number;
  /** Changes are gathered this long and sent once per run, table or event type (default 100 ms). */
  coalesceMs?: number;
}

interface Client {
  topics: ReadonlySet<StreamTopic>;
  queue: string[];
  controller: ReadableStreamDefaultController<Uint8Array>;
  closed: boolean;
}

const encoder = new TextEncoder();

/** Parse `?topics=runs,tables`; absent means every topic. @throws InvalidInputError naming an unknown topic */
export function parseTopics(text: string | undefined): Set<StreamTopic> {
  if (!text) return new Set(STREAM_TOPICS);
  const topics = new Set<StreamTopic>();
  for (const t of text.split(',').map((s) => s.trim())) {
    if (!t) continue;
    if (!STREAM_TOPICS.includes(t as StreamTopic))
      throw new InvalidInputError(`unknown stream topic "${t}"; topics are ${STREAM_TOPICS.join(', ')}`);
    topics.add(t as StreamTopic);
  }
  return topics;
}

/** One process's fan-out of platform changes to SSE clients. */
export class EventStreamHub {
  readonly #runtime: Runtime;
  readonly #log: Logger;
  readonly #o: Required<EventStreamOptions>;
  readonly #clients = new Set<Client>();
  readonly #clientsGauge: Gauge;
  readonly #dropped: Counter;
  #seq = 0;
  #listening: Promise<Array<() => Promise<void>>> | undefined;
  #keepAlive: NodeJS.Timeout | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  readonly #pendingRuns = new Set<string>();
  readonly #pendingTables = new Map<string, string>();
  readonly #pendingEvents = new Map<string, number>();
  #closed = false;

  constructor(runtime: Runtime, registry: Registry, o: EventStreamOptions = {}) {
    this.#runtime = runtime;
    this.#log = runtime.log.child({ component: 'event-stream' });
    this.#o = {
      keepAliveMs: o.keepAliveMs ?? 15_000,
      maxQueuedFrames: o.maxQueuedFrames ?? 1000,
      maxClients: o.maxClients ?? 500,
      coalesceMs: o.coalesceMs ?? 100,
    };
    this.#clientsGauge = new Gauge({
      name: 'sluice_http_stream_clients',
      help: 'Clients connected to the live event stream (GET /api/v1/stream)',
      registers: [registry],
    });
    this.#dropped = new Counter({
      name: 'sluice_http_stream_dropped_total',
      help: 'Stream clients disconnected because they fell too far behind',
      registers: [registry],
    });
  }

  /** Clients connected now. */
  get clients(): number {
    return this.#clients.size;
  }

  /**
   * A streaming SSE response for one client; it ends when the client goes away or the hub closes.
   * @throws BackendError when the hub is closed or full
   */
  async open(topics: ReadonlySet<StreamTopic>): Promise<Response> {
    if (this.#closed) throw new BackendError('the server is shutting down');
    if (this.#clients.size >= this.#o.maxClients)
      throw new BackendError(
        `the live event stream has ${this.#clients.size} clients, its limit`,
        'poll the REST API instead, or retry later',
      );
    await this.#listen();
    let client: Client | undefined;
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          client = { topics, queue: [], controller, closed: false };
          this.#clients.add(client);
          this.#clientsGauge.set(this.#clients.size);
          // `retry` tells EventSource how soon to reconnect; `ready` lets the page reload what it shows.
          controller.enqueue(
            encoder.encode(`retry: 3000\nevent: ready\ndata: ${JSON.stringify({ topics: [...topics] })}\n\n`),
          );
        },
        pull: () => {
          if (client) this.#drain(client);
        },
        cancel: () => {
          if (client) this.#remove(client);
        },
      },
      // Bytes the transport may hold before the client's own queue grows.
      { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
    );
    return new Response(body, {
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      },
    });
  }

  /** Send an event to every client subscribed to its topic. */
  publish(topic: StreamTopic, event: string, data: unknown): void {
    this.#seq += 1;
    const frame = `id: ${this.#seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of this.#clients) if (c.topics.has(topic)) this.#push(c, frame);
  }

  /** End every stream and stop listening. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const c of [...this.#clients]) {
      this.#remove(c);
      try {
        c.controller.close();
      } catch {
        // already closed by the client
      }
    }
    await this.#unlisten();
  }

  #push(c: Client, frame: string): void {
    if (c.closed) return;
    c.queue.push(frame);
    if (c.queue.length > this.#o.maxQueuedFrames) {
      this.#dropped.inc();
      this.#log.debug({ queued: c.queue.length }, 'dropping a stream client that fell behind');
      this.#remove(c);
      try {
        c.controller.enqueue(encoder.encode('event: overflow\ndata: {}\n\n'));
        c.controller.close();
      } catch {
        // the client is gone
      }
      return;
    }
    this.#drain(c);
  }

  /** Move queued frames to the transport while it has room (backpressure from a slow reader). */
  #drain(c: Client): void {
    while (!c.closed && c.queue.length > 0 && (c.controller.desiredSize ?? 0) > 0) {
      try {
        c.controller.enqueue(encoder.encode(c.queue.shift() as string));
      } catch {
        this.#remove(c);
      }
    }
  }

  #remove(c: Client): void {
    if (c.closed) return;
    c.closed = true;
    c.queue.length = 0;
    this.#clients.delete(c);
    this.#clientsGauge.set(this.#clients.size);
    if (this.#clients.size === 0) void this.#unlisten();
  }

  async #listen(): Promise<void> {
    if (!this.#listening) {
      const meta = this.#runtime.meta;
      const onRun = (runId: string) => {
        if (runId) this.#later(() => this.#pendingRuns.add(runId));
      };
      this.#listening = Promise.all([
        meta.listen(RUN_CHANGES_CHANNEL, onRun),
        meta.listen(RUNS_CHANNEL, onRun),
        meta.listen(TRIGGER_CHANNEL, (payload) => this.#onTrigger(payload)),
      ]);
      this.#keepAlive = setInterval(() => {
        for (const c of this.#clients) this.#push(c, ': keep-alive\n\n');
      }, this.#o.keepAliveMs);
      this.#keepAlive.unref();
    }
    await this.#listening;
  }

  async #unlisten(): Promise<void> {
    const listening = this.#listening;
    this.#listening = undefined;
    clearInterval(this.#keepAlive);
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (!listening) return;
    for (const stop of await listening.catch(() => [])) await stop().catch(() => undefined);
  }

  #onTrigger(payload: string): void {
    let e: TriggerEvent;
    try {
      e = JSON.parse(payload) as TriggerEvent;
    } catch {
      return;
    }
    if (e.kind === 'table') {
      const at = e.id.lastIndexOf('@');
      this.#later(() => this.#pendingTables.set(e.name, at >= 0 ? e.id.slice(at + 1) : ''));
    } else if (e.kind === 'events') {
      this.#later(() => this.#pendingEvents.set(e.name, (this.#pendingEvents.get(e.name) ?? 0) + 1));
    }
  }

  /** Record a change and send everything gathered once the coalescing window ends. */
  #later(record: () => void): void {
    record();
    this.#flushTimer ??= setTimeout(() => {
      this.#flushTimer = undefined;
      void this.#flush().catch((err) => this.#log.warn({ err }, 'could not send live updates'));
    }, this.#o.coalesceMs);
  }

  async #flush(): Promise<void> {
    const runIds = [...this.#pendingRuns];
    this.#pendingRuns.clear();
    const tables = [...this.#pendingTables];
    this.#pendingTables.clear();
    const events = [...this.#pendingEvents];
    this.#pendingEvents.clear();
    if (runIds.length > 0) {
      const marks = runIds.map(() => '?').join(', ');
      const rows = await this.#runtime.meta.query<{ run_id: string; pipeline: string; state: string }>(
        `SELECT run_id, pipeline, state FROM sluice_runs WHERE run_id IN (${marks})`,
        runIds,
      );
      for (const r of rows)
        this.publish('runs', 'run', { runId: r.run_id, pipeline: r.pipeline, state: r.state });
    }
    for (const [table, snapshotId] of tables) this.publish('tables', 'table', { table, snapshotId });
    for (const [eventType, batches] of events) this.publish('events', 'events', { eventType, batches });
  }
}
