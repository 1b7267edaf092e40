import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type MockMarketplace, startMockMarketplace } from '../../src/demo/mock-marketplace.js';

const size = { partners: 3, domainsPerPartner: 4, products: 250, customers: 230, orders: 2100 };

interface Page {
  items: { sku: string }[];
  total_pages: number;
}
interface OrdersPage {
  data: { items: { order_id: number | null; updated_at: string }[] };
  next_cursor: string | null;
}

async function get(api: MockMarketplace, path: string, token = api.token): Promise<Response> {
  for (;;) {
    const res = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status === 500) continue;
    if (res.status === 429) {
      await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after')) * 1000));
      continue;
    }
    return res;
  }
}

describe('mock marketplace API', () => {
  let api: MockMarketplace;
  before(async () => {
    api = await startMockMarketplace({ size, failEvery: 7, rateLimit: 1000 });
  });
  after(() => api.close());

  test('refuses requests without the bearer token', async () => {
    const res = await fetch(`${api.url}/v1/partners`);
    assert.equal(res.status, 401);
    assert.equal((await get(api, '/v1/partners', 'wrong')).status, 401);
  });

  test('fails every Nth request with a 500', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) {
      const res = await fetch(`${api.url}/v1/partners`, {
        headers: { authorization: `Bearer ${api.token}` },
      });
      statuses.push(res.status);
    }
    assert.ok(statuses.includes(500));
    assert.ok(statuses.includes(200));
  });

  test('pages products by page number', async () => {
    const seen: string[] = [];
    for (let page = 1; ; page++) {
      const body = (await (await get(api, `/v1/products?page=${page}&per_page=100`)).json()) as Page;
      seen.push(...body.items.map((p: { sku: string }) => p.sku));
      if (page >= body.total_pages) break;
    }
    assert.equal(new Set(seen).size, size.products);
  });

  test('pages customers through the Link header', async () => {
    let next: string | undefined = '/v1/customers?limit=50';
    let count = 0;
    while (next) {
      const res = await get(api, next);
      count += ((await res.json()) as unknown[]).length;
      const link = res.headers.get('link');
      next = link
        ? new URL(/<([^>]+)>/.exec(link)?.[1] ?? '').pathname +
          new URL(/<([^>]+)>/.exec(link)?.[1] ?? '').search
        : undefined;
    }
    assert.equal(count, size.customers);
  });

  test('pages orders by cursor and sees updates after time passes', async () => {
    const fetchAll = async (since: string) => {
      const rows: { order_id: number | null; updated_at: string }[] = [];
      let cursor = '';
      for (;;) {
        const body = (await (
          await get(api, `/v1/orders?limit=300&updated_since=${since}${cursor}`)
        ).json()) as OrdersPage;
        rows.push(...body.data.items);
        if (!body.next_cursor) return rows;
        cursor = `&cursor=${body.next_cursor}`;
      }
    };
    const first = await fetchAll('1970-01-01T00:00:00Z');
    assert.equal(first.length, size.orders);
    const high = first
      .map((o) => o.updated_at)
      .sort()
      .at(-1) as string;
    api.data.advance(20, 30);
    const later = await fetchAll(high);
    assert.ok(later.length >= 20, `expected new and updated orders, got ${later.length}`);
    assert.ok(
      first.some((o) => o.order_id === null),
      'a few broken orders have no id',
    );
  });

  test('rejects bad parameters with 400', async () => {
    assert.equal((await get(api, '/v1/orders?cursor=garbage')).status, 400);
    assert.equal((await get(api, '/v1/orders?limit=-1')).status, 400);
    assert.equal((await get(api, '/v1/nothing')).status, 404);
  });

  test('answers 429 with Retry-After above the rate limit', async () => {
    const limited = await startMockMarketplace({ size, rateLimit: 3, failEvery: 0 });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 8 }, () =>
          fetch(`${limited.url}/v1/partners`, { headers: { authorization: `Bearer ${limited.token}` } }).then(
            (r) => [r.status, r.headers.get('retry-after')] as const,
          ),
        ),
      );
      assert.ok(statuses.some(([s, after]) => s === 429 && after === '1'));
    } finally {
      await limited.close();
    }
  });
});
