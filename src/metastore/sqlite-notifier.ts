/**
 * Notifications on SQLite: listeners of the same store get them at once in process;
 * other processes (and other stores on the same file) poll `sluice_notifications`
 * while anyone listens. Rows are pruned after a minute.
 */
import { randomUUID } from 'node:crypto';
import type { SqlRunner } from './types.js';

type Handler = (payload: string) => void;
type Log = { debug(...a: unknown[]): void } | undefined;

const POLL_MS = 100;
const RETENTION_MS = 60_000;
const PRUNE_EVERY_MS = 10_000;

/** In-process delivery plus polling of `sluice_notifications` for other processes. */
export class SqliteNotifier {
  /** Marks rows this store wrote: they were delivered in process, polling skips them. */
  readonly #origin = randomUUID();
  readonly #db: SqlRunner;
  readonly #log: Log;
  readonly #channels = new Map<string, Set<Handler>>();
  #lastId = 0;
  #lastPruneMs = 0;
  #generation = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(db: SqlRunner, log: Log) {
    this.#db = db;
    this.#log = log;
  }

  async notify(channel: string, payload: string): Promise<void> {
    const now = Date.now();
    await this.#db.execute(
      'INSERT INTO sluice_notifications (channel, payload, origin, created_at) VALUES (?, ?, ?, ?)',
      [channel, payload, this.#origin, now],
    );
    if (now - this.#lastPruneMs > PRUNE_EVERY_MS) {
      this.#lastPruneMs = now;
      await this.#db.execute('DELETE FROM sluice_notifications WHERE created_at < ?', [now - RETENTION_MS]);
    }
    const handlers = this.#channels.get(channel);
    if (handlers) queueMicrotask(() => this.#deliver(channel, payload, [...handlers]));
  }

  async listen(channel: string, handler: Handler): Promise<() => Promise<void>> {
    const first = this.#channels.size === 0;
    let handlers = this.#channels.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.#channels.set(channel, handlers);
    }
    const listener: Handler = (payload) => handler(payload);
    handlers.add(listener);
    if (first) await this.#start();
    return async () => {
      const set = this.#channels.get(channel);
      if (!set?.delete(listener)) return;
      if (set.size === 0) this.#channels.delete(channel);
      if (this.#channels.size === 0) this.#stop();
    };
  }

  /** Stop polling and forget every listener. */
  close(): void {
    this.#channels.clear();
    this.#stop();
  }

  async #start(): Promise<void> {
    this.#generation += 1;
    const generation = this.#generation;
    const rows = await this.#db.query<{ id: number | null }>(
      'SELECT MAX(id) AS id FROM sluice_notifications',
    );
    this.#lastId = Number(rows[0]?.id ?? 0);
    this.#schedule(generation);
  }

  #stop(): void {
    this.#generation += 1;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(generation: number): void {
    if (generation !== this.#generation) return;
    this.#timer = setTimeout(() => void this.#poll(generation), POLL_MS);
  }

  async #poll(generation: number): Promise<void> {
    try {
      const rows = await this.#db.query<{ id: number; channel: string; payload: string; origin: string }>(
        'SELECT id, channel, payload, origin FROM sluice_notifications WHERE id > ? ORDER BY id',
        [this.#lastId],
      );
      if (generation !== this.#generation) return;
      for (const row of rows) {
        this.#lastId = Number(row.id);
        const handlers = this.#channels.get(row.channel);
        if (handlers && row.origin !== this.#origin) this.#deliver(row.channel, row.payload, [...handlers]);
      }
    } catch (err) {
      this.#log?.debug({ component: 'metastore', err }, 'polling notifications failed');
    }
    this.#schedule(generation);
  }

  #deliver(channel: string, payload: string, handlers: Handler[]): void {
    for (const handler of handlers) {
      try {
        handler(payload);
      } catch (err) {
        this.#log?.debug({ component: 'metastore', channel, err }, 'notification handler threw');
      }
    }
  }
}
