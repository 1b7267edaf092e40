/**
 * A third-party HTTP API for tests: every pagination style, several auth schemes, and faults
 * injected per page (500, 429 with Retry-After, dropped connections, slow and malformed pages).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ApiRecord {
  id: number;
  name: string;
  amount: number | string;
  updated_at: string;
  partner: string;
}

export type Fault = '500' | '429' | 'drop' | 'slow' | 'malformed';

export type MockAuth =
  | { kind: 'none' }
  | { kind: 'bearer'; token: string }
  | { kind: 'basic'; user: string; password: string }
  | { kind: 'apikey-header'; name: string; value: string }
  | { kind: 'apikey-query'; name: string; value: string }
  | {
      kind: 'oauth2';
      clientId: string;
      clientSecret: string;
      ttlSeconds: number;
      /** Revoke a token after this many requests (a server ending a session early). */
      usesPerToken?: number;
    };

export interface MockApiOptions {
  records: ApiRecord[];
  auth?: MockAuth;
  /** Faults by `route:pageIndex`, consumed in order (e.g. `{ 'page:2': ['500', 'drop'] }`). */
  faults?: Record<string, Fault[]>;
  slowMs?: number;
  /** Delay of every response. */
  delayMs?: number;
}

export interface MockApi {
  url: string;
  requests: number;
  tokensIssued: number;
  /** Query strings received, per route. */
  seen: Record<string, string[]>;
  close(): Promise<void>;
}

/** `n` records, ids from 1, updated a minute apart, two partners. */
export function makeRecords(n: number, o: { badEvery?: number } = {}): ApiRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    name: `item-${i + 1}`,
    amount: o.badEvery && (i + 1) % o.badEvery === 0 ? 'not-a-number' : Math.round((i + 1) * 150) / 100,
    updated_at: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
    partner: i % 2 === 0 ? 'acme' : 'globex',
  }));
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

function authorized(
  req: IncomingMessage,
  url: URL,
  auth: MockAuth,
  tokens: Map<string, number>,
  uses: Map<string, number>,
): boolean {
  switch (auth.kind) {
    case 'none':
      return true;
    case 'bearer':
      return req.headers.authorization === `Bearer ${auth.token}`;
    case 'basic':
      return (
        req.headers.authorization ===
        `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`
      );
    case 'apikey-header':
      return req.headers[auth.name.toLowerCase()] === auth.value;
    case 'apikey-query':
      return url.searchParams.get(auth.name) === auth.value;
    case 'oauth2': {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const expires = token ? tokens.get(token) : undefined;
      if (expires === undefined || expires <= Date.now()) return false;
      const used = (uses.get(token as string) ?? 0) + 1;
      uses.set(token as string, used);
      return auth.usesPerToken === undefined || used <= auth.usesPerToken;
    }
  }
}

function csv(rows: ApiRecord[]): string {
  return `id,name,amount,updated_at,partner\n${rows.map((r) => `${r.id},${r.name},${r.amount},${r.updated_at},${r.partner}`).join('\n')}\n`;
}

function xml(rows: ApiRecord[]): string {
  return `<?xml version="1.0"?><response><items>${rows
    .map(
      (r) =>
        `<item id="${r.id}"><name>${r.name}</name><amount>${r.amount}</amount><updated_at>${r.updated_at}</updated_at><partner>${r.partner}</partner></item>`,
    )
    .join('')}</items></response>`;
}

export async function startMockApi(o: MockApiOptions): Promise<MockApi> {
  const auth = o.auth ?? { kind: 'none' };
  const faults = structuredClone(o.faults ?? {});
  const tokens = new Map<string, number>();
  const uses = new Map<string, number>();
  const state: MockApi = { url: '', requests: 0, tokensIssued: 0, seen: {}, close: async () => {} };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    state.requests++;
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/oauth/token') {
      const a = auth.kind === 'oauth2' ? auth : undefined;
      const expected = a && `Basic ${Buffer.from(`${a.clientId}:${a.clientSecret}`).toString('base64')}`;
      if (!a || req.headers.authorization !== expected) return json(res, 401, { error: 'invalid_client' });
      const token = `tok-${++state.tokensIssued}`;
      tokens.set(token, Date.now() + a.ttlSeconds * 1000);
      return json(res, 200, { access_token: token, token_type: 'bearer', expires_in: a.ttlSeconds });
    }
    if (!authorized(req, url, auth, tokens, uses)) return json(res, 401, { error: 'unauthorized' });
    if (o.delayMs) await new Promise((r) => setTimeout(r, o.delayMs));
    const route = url.pathname.replace(/^\/v1\//, '');
    state.seen[route] = [...(state.seen[route] ?? []), url.search];
    let rows = o.records;
    const partner = url.searchParams.get('partner') ?? /\/partners\/(\w+)/.exec(url.pathname)?.[1];
    if (partner) rows = rows.filter((r) => r.partner === partner);
    const since = url.searchParams.get('updated_since');
    if (since) rows = rows.filter((r) => r.updated_at > since);
    const size = Number(url.searchParams.get('per_page') ?? url.searchParams.get('limit') ?? 25);
    let index: number;
    let start: number;
    if (url.searchParams.has('offset')) {
      start = Number(url.searchParams.get('offset'));
      index = Math.floor(start / size);
    } else {
      index =
        Number(
          url.searchParams.get('page') ??
            url.searchParams.get('cursor')?.replace('c', '') ??
            url.searchParams.get('p') ??
            1,
        ) - 1;
      start = index * size;
    }
    const fault = faults[`${route.replace(/^partners\/\w+\//, '')}:${index}`]?.shift();
    if (fault === 'drop') return req.socket.destroy();
    if (fault === '500') return json(res, 500, { error: 'internal error, trace id 1234' });
    if (fault === '429') return json(res, 429, { error: 'slow down' }, { 'retry-after': '1' });
    if (fault === 'slow') await new Promise((r) => setTimeout(r, o.slowMs ?? 300));
    const page = rows.slice(start, start + size);
    const more = start + size < rows.length;
    if (fault === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"data": {"items": [{"id": 1, "name": "tru');
    }
    const base = `http://${req.headers.host}`;
    switch (route.replace(/^partners\/\w+\//, '')) {
      case 'page':
        return json(res, 200, { data: { items: page }, meta: { page: index + 1 } });
      case 'offset':
        return json(res, 200, { results: page, total: rows.length });
      case 'cursor':
        return json(res, 200, { items: page, meta: { next_cursor: more ? `c${index + 2}` : null } });
      case 'next':
        return json(res, 200, {
          items: page,
          links: { next: more ? `/v1/next?p=${index + 2}&per_page=${size}` : null },
        });
      case 'link': {
        const headers: Record<string, string> = more
          ? {
              link: `<${base}/v1/link?page=${index + 2}&per_page=${size}>; rel="next", <${base}/v1/link?page=1>; rel="first"`,
            }
          : {};
        return json(res, 200, page, headers);
      }
      case 'ndjson':
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        return res.end(page.map((r) => JSON.stringify(r)).join('\n'));
      case 'csv':
        res.writeHead(200, { 'content-type': 'text/csv' });
        return res.end(page.length ? csv(page) : '');
      case 'xml':
        res.writeHead(200, { 'content-type': 'application/xml' });
        return res.end(xml(page));
      default:
        return json(res, 404, { error: 'no such route' });
    }
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}
