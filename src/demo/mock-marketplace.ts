/**
 * The demo's stand-in for a third-party marketplace API. It behaves the way real vendor
 * APIs do, so the demo exercises the real ingestion code: bearer auth, three pagination
 * styles, a rate limit answered with 429 + Retry-After, occasional 500s, records that
 * change between fetches, and a few broken records.
 *
 *   GET /v1/partners                                  all partners, no paging
 *   GET /v1/products?page=N&per_page=M                page numbers: { items, page, total_pages }
 *   GET /v1/customers?offset=N&limit=M                a JSON array, next page in the Link header
 *   GET /v1/orders?updated_since=ISO&cursor=C&limit=M { data: { items }, next_cursor } by (updated_at, order_id)
 *   POST /v1/advance                                  let time pass: new and updated orders
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Marketplace, type MarketplaceSize, type Order } from './marketplace-data.js';

/** Options of the mock API. */
export interface MockMarketplaceOptions {
  /** The token clients must send as `Authorization: Bearer <token>`. */
  token?: string;
  /** Requests per second before 429s (default 50). */
  rateLimit?: number;
  /** Every Nth request fails with a 500 (default 40; 0 = never). */
  failEvery?: number;
  /** Advance the data every `advanceMs` (default: only on POST /v1/advance). */
  advanceMs?: number;
  seed?: number;
  size?: Partial<MarketplaceSize>;
  port?: number;
  host?: string;
}

/** A running mock marketplace. */
export interface MockMarketplace {
  readonly url: string;
  readonly token: string;
  readonly data: Marketplace;
  /** Requests served so far, by outcome. */
  readonly stats: { requests: number; throttled: number; failed: number };
  close(): Promise<void>;
}

const MAX_PAGE = 1000;

function intParam(url: URL, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new HttpProblem(400, `${name} must be a non-negative integer`);
  return Math.min(n, max);
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function encodeCursor(order: Order): string {
  return Buffer.from(JSON.stringify([order.updated_at, order.order_id ?? 0])).toString('base64url');
}

function decodeCursor(cursor: string): [string, number] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'number')
      return value as [string, number];
  } catch {
    // fall through
  }
  throw new HttpProblem(400, 'invalid cursor');
}

function byUpdate(a: Order, b: Order): number {
  return a.updated_at < b.updated_at
    ? -1
    : a.updated_at > b.updated_at
      ? 1
      : (a.order_id ?? 0) - (b.order_id ?? 0);
}

function ordersPage(data: Marketplace, url: URL) {
  const limit = intParam(url, 'limit', 500, MAX_PAGE);
  const since = url.searchParams.get('updated_since') ?? '';
  if (since && Number.isNaN(Date.parse(since)))
    throw new HttpProblem(400, 'updated_since must be an ISO timestamp');
  const sinceIso = since ? new Date(since).toISOString() : '';
  const cursor = url.searchParams.get('cursor');
  const after = cursor ? decodeCursor(cursor) : undefined;
  const rows = data.orders
    .filter((o) => o.updated_at >= sinceIso)
    .filter(
      (o) => !after || o.updated_at > after[0] || (o.updated_at === after[0] && (o.order_id ?? 0) > after[1]),
    )
    .sort(byUpdate);
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { data: { items }, next_cursor: rows.length > limit && last ? encodeCursor(last) : null };
}

/** Start the mock API on 127.0.0.1 (a free port unless `port` is given). */
export async function startMockMarketplace(o: MockMarketplaceOptions = {}): Promise<MockMarketplace> {
  const token = o.token ?? 'demo-token';
  const rateLimit = o.rateLimit ?? 50;
  const failEvery = o.failEvery ?? 40;
  const data = new Marketplace({ seed: o.seed, size: o.size });
  const stats = { requests: 0, throttled: 0, failed: 0 };
  let windowStart = Date.now();
  let windowCount = 0;

  const handle = (req: IncomingMessage, res: ServerResponse, base: string) => {
    stats.requests++;
    const url = new URL(req.url ?? '/', base);
    if (req.headers.authorization !== `Bearer ${token}`) {
      send(res, 401, { error: 'missing or invalid bearer token' }, { 'www-authenticate': 'Bearer' });
      return;
    }
    const now = Date.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      windowCount = 0;
    }
    if (++windowCount > rateLimit) {
      stats.throttled++;
      send(res, 429, { error: 'rate limit exceeded' }, { 'retry-after': '1' });
      return;
    }
    if (failEvery > 0 && stats.requests % failEvery === 0) {
      stats.failed++;
      send(res, 500, { error: 'internal error, please retry' });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/v1/advance') {
      data.advance(intParam(url, 'orders', 200), intParam(url, 'updates', 100));
      send(res, 200, { orders: data.orders.length });
      return;
    }
    if (req.method !== 'GET') throw new HttpProblem(405, `${req.method} not allowed`);
    switch (url.pathname) {
      case '/v1/partners':
        send(res, 200, { partners: data.partners });
        return;
      case '/v1/products': {
        const perPage = intParam(url, 'per_page', 100, MAX_PAGE) || 100;
        const page = Math.max(1, intParam(url, 'page', 1));
        const items = data.products.slice((page - 1) * perPage, page * perPage);
        send(res, 200, {
          items,
          page,
          per_page: perPage,
          total_pages: Math.ceil(data.products.length / perPage),
        });
        return;
      }
      case '/v1/customers': {
        const limit = intParam(url, 'limit', 100, MAX_PAGE) || 100;
        const offset = intParam(url, 'offset', 0);
        const items = data.customers.slice(offset, offset + limit);
        const headers: Record<string, string> = {};
        if (offset + limit < data.customers.length) {
          const next = new URL(url);
          next.searchParams.set('offset', String(offset + limit));
          next.searchParams.set('limit', String(limit));
          headers.link = `<${next.toString()}>; rel="next"`;
        }
        send(res, 200, items, headers);
        return;
      }
      case '/v1/orders':
        send(res, 200, ordersPage(data, url));
        return;
      default:
        throw new HttpProblem(404, `no such endpoint: ${url.pathname}`);
    }
  };

  let base = 'http://127.0.0.1';
  const server: Server = createServer((req, res) => {
    try {
      handle(req, res, base);
    } catch (err) {
      const status = err instanceof HttpProblem ? err.status : 500;
      send(res, status, { error: err instanceof Error ? err.message : String(err) });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  base = `http://127.0.0.1:${address.port}`;
  const timer = o.advanceMs ? setInterval(() => data.advance(), o.advanceMs) : undefined;
  timer?.unref();
  return {
    url: base,
    token,
    data,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        if (timer) clearInterval(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
