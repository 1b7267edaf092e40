/**
 * LISTEN on one dedicated PostgreSQL connection (a pooled one would drop its LISTENs when
 * released). If the connection drops, it reconnects with backoff and re-LISTENs every
 * channel; notifications sent while it was down are lost, as with NOTIFY itself.
 */
import pg from 'pg';

type Handler = (payload: string) => void;
type Log = { debug(...a: unknown[]): void } | undefined;

const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5000;

/** Handlers per channel on one reconnecting LISTEN connection. */
export class PgListener {
  readonly #config: pg.ClientConfig;
  readonly #log: Log;
  /** Channel → its handlers and the LISTEN that later handlers of the channel wait for. */
  readonly #channels = new Map<string, { handlers: Set<Handler>; ready: Promise<void> }>();
  #client: pg.Client | undefined;
  #connecting: Promise<pg.Client> | undefined;
  #retryMs = RETRY_FIRST_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(config: pg.ClientConfig, log: Log) {
    this.#config = config;
    this.#log = log;
  }

  /** Add a handler; resolves once the channel is LISTENed to. Channel names are validated by the caller. */
  async add(channel: string, handler: Handler): Promise<void> {
    let entry = this.#channels.get(channel);
    if (!entry) {
      const ready = this.#ensure().then(async (client) => {
        await client.query(`LISTEN "${channel}"`);
      });
      entry = { handlers: new Set(), ready };
      this.#channels.set(channel, entry);
    }
    entry.handlers.add(handler);
    try {
      await entry.ready;
    } catch (err) {
      await this.remove(channel, handler);
      throw err;
    }
  }

  /** Remove a handler; UNLISTEN when it was the channel's last, disconnect when nothing is left. */
  async remove(channel: string, handler: Handler): Promise<void> {
    const entry = this.#channels.get(channel);
    if (!entry?.handlers.delete(handler) || entry.handlers.size > 0) return;
    this.#channels.delete(channel);
    const client = this.#client;
    if (!client) return;
    if (this.#channels.size === 0) {
      this.#client = undefined;
      await client.end().catch(() => undefined);
    } else {
      await client.query(`UNLISTEN "${channel}"`).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#channels.clear();
    const client = this.#client ?? (await this.#connecting?.catch(() => undefined));
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  #ensure(): Promise<pg.Client> {
    if (this.#client) return Promise.resolve(this.#client);
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<pg.Client> {
    const client = new pg.Client(this.#config);
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client));
    client.on('notification', (msg) => this.#dispatch(msg.channel, msg.payload ?? ''));
    try {
      await client.connect();
      for (const channel of this.#channels.keys()) await client.query(`LISTEN "${channel}"`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      throw new Error('listener closed while connecting');
    }
    this.#client = client;
    this.#retryMs = RETRY_FIRST_MS;
    return client;
  }

  #lost(client: pg.Client, err?: Error): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#log?.debug({ component: 'metastore', err }, 'PostgreSQL listener connection lost; reconnecting');
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#channels.size === 0 || this.#retryTimer) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#closed || this.#channels.size === 0 || this.#client) return;
      this.#ensure().catch((err) => {
        this.#log?.debug({ component: 'metastore', err }, 'PostgreSQL listener reconnect failed');
        this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
        this.#scheduleReconnect();
      });
    }, this.#retryMs);
  }

  #dispatch(channel: string, payload: string): void {
    for (const handler of [...(this.#channels.get(channel)?.handlers ?? [])]) {
      try {
        handler(payload);
      } catch (err) {
        this.#log?.debug({ component: 'metastore', channel, err }, 'notification handler threw');
      }
    }
  }
}
