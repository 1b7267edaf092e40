import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { listRawObjects } from '../../src/ingest/index.js';
import type { TaskProgress } from '../../src/runtime/tasks.js';
import { type IngestEnv, openIngestEnv, plainRows, runSpec, tableRows } from './helpers.js';
import { makeRecords, startMockApi } from './mock-api.js';

const fastRetry = { max_attempts: 5, initial: 10, max: 2000 };

describe('HTTP source', () => {
  let env: IngestEnv;
  before(async () => {
    env = await openIngestEnv();
  });
  after(async () => {
    await env.close();
  });

  test('pages through faults; the table holds exactly the good rows and quarantine the bad ones', async () => {
    const records = makeRecords(230, { badEvery: 50 });
    const api = await startMockApi({
      records,
      auth: { kind: 'bearer', token: 's3cret-token' },
      faults: {
        'page:1': ['500', '500'],
        'page:2': ['drop'],
        'page:3': ['429'],
        'page:4': ['slow'],
        'page:6': ['malformed'],
      },
      slowMs: 200,
    });
    const progress: TaskProgress[] = [];
    try {
      const summary = await runSpec(
        env,
        {
          source: {
            http: {
              url: `${api.url}/v1/page`,
              auth: { bearer: { token: 's3cret-token' } },
              paginate: { style: 'page', size_param: 'per_page', size: 25 },
              records: 'data.items',
              retry: fastRetry,
              timeout: '5s',
            },
          },
          sink: { table: 'shop.items', schema: { amount: 'double', id: 'long' } },
        },
        { progress },
      );
      const done = progress.at(-1);
      assert.equal(done?.phase, 'done');
      assert.equal(done?.pages, 10);
      assert.equal(done?.rows, summary.rows_in);
      assert.ok((done?.bytes ?? 0) > 0 && progress.some((p) => p.phase === 'fetching'));
      const rows = plainRows(await tableRows(env.runtime, 'shop.items', 'id'));
      // Page 7 (index 6) was malformed: its 25 records are quarantined as one payload.
      const lost = new Set(records.slice(150, 175).map((r) => r.id));
      const expected = records.filter((r) => typeof r.amount === 'number' && !lost.has(r.id));
      assert.deepEqual(
        rows.map((r) => [r.id, r.name, r.amount]),
        expected.map((r) => [r.id, r.name, r.amount]),
      );
      const q = plainRows(await tableRows(env.runtime, 'shop.items__quarantine', '__raw_object, __raw_row'));
      const bad = records.filter((r) => typeof r.amount !== 'number' && !lost.has(r.id));
      assert.equal(q.length, bad.length + 1);
      const malformed = q.filter((r) => r.__processor === 'source');
      assert.equal(malformed.length, 1);
      assert.match(String(malformed[0]?.__reason), /malformed JSON/);
      const castFailures = q.filter((r) => r.__processor === 'sink');
      assert.deepEqual(
        castFailures.map((r) => JSON.parse(String(r.__record)).id).sort((a, b) => a - b),
        bad.map((r) => r.id),
      );
      assert.match(
        String(castFailures[0]?.__reason),
        /column "amount": cannot convert "not-a-number" to DOUBLE/,
      );
      assert.equal(summary.written, expected.length);
      assert.equal(summary.quarantined, bad.length + 1);
      assert.equal(summary.pages, 10);
      assert.ok(Number(summary.retries) >= 4);
      const ledger = await listRawObjects(env.runtime.meta, { task: 'p.t' });
      assert.equal(ledger.length, 10);
      assert.ok(ledger.every((o) => o.status === 'committed' && o.checksum.length === 64 && o.size > 0));
      assert.ok(!JSON.stringify(ledger).includes('s3cret-token'), 'credentials never reach the ledger');
    } finally {
      await api.close();
    }
  });

  test('a response slower than the timeout is abandoned and retried', async () => {
    const api = await startMockApi({
      records: makeRecords(30),
      faults: { 'page:0': ['slow'] },
      slowMs: 2000,
    });
    try {
      const summary = await runSpec(
        env,
        {
          source: {
            http: {
              url: `${api.url}/v1/page`,
              records: 'data.items',
              params: { per_page: 50 },
              timeout: '250ms',
              retry: fastRetry,
            },
          },
          sink: { table: 'shop.slow' },
        },
        { taskId: 'slow' },
      );
      assert.equal(summary.written, 30);
      assert.equal(summary.retries, 1);
    } finally {
      await api.close();
    }
  });

  test('retries spent: the error names the last status and an excerpt of the body', async () => {
    const api = await startMockApi({ records: makeRecords(10), faults: { 'page:0': ['500', '500', '500'] } });
    try {
      await assert.rejects(
        runSpec(
          env,
          {
            source: {
              http: {
                url: `${api.url}/v1/page`,
                records: 'data.items',
                retry: { max_attempts: 3, initial: 5, max: 20 },
              },
            },
            sink: { table: 'shop.never' },
          },
          { taskId: 'failing' },
        ),
        /failed after 3 attempts; last: HTTP 500: \{"error":"internal error, trace id 1234"\}/,
      );
      assert.equal(await tableRows(env.runtime, 'shop.never'), undefined);
    } finally {
      await api.close();
    }
  });
});

describe('HTTP pagination styles, auth and formats', () => {
  let env: IngestEnv;
  const records = makeRecords(57);
  before(async () => {
    env = await openIngestEnv();
  });
  after(async () => {
    await env.close();
  });

  const cases: {
    name: string;
    auth: Parameters<typeof startMockApi>[0]['auth'];
    source: (url: string) => Record<string, unknown>;
  }[] = [
    {
      name: 'offset + basic auth',
      auth: { kind: 'basic', user: 'ann', password: 'pw' },
      source: (url) => ({
        url: `${url}/v1/offset`,
        auth: { basic: { username: 'ann', password: 'pw' } },
        paginate: { style: 'offset', limit: 10 },
        records: 'results',
      }),
    },
    {
      name: 'cursor in body + API key in the query',
      auth: { kind: 'apikey-query', name: 'api_key', value: 'k1' },
      source: (url) => ({
        url: `${url}/v1/cursor`,
        params: { per_page: 10 },
        auth: { api_key: { name: 'api_key', value: 'k1', in: 'query' } },
        paginate: { style: 'cursor', path: 'meta.next_cursor', param: 'cursor' },
        records: 'items',
      }),
    },
    {
      name: 'next URL in body + API key header',
      auth: { kind: 'apikey-header', name: 'X-Api-Key', value: 'k2' },
      source: (url) => ({
        url: `${url}/v1/next`,
        params: { per_page: 10 },
        auth: { api_key: { name: 'X-Api-Key', value: 'k2' } },
        paginate: { style: 'next_url', path: 'links.next' },
        records: 'items',
      }),
    },
    {
      name: 'Link header + OAuth2 client credentials with token refresh',
      // Tokens are revoked after 2 requests: the source must fetch a new one on the 401.
      auth: { kind: 'oauth2', clientId: 'cid', clientSecret: 'csecret', ttlSeconds: 60, usesPerToken: 2 },
      source: (url) => ({
        url: `${url}/v1/link`,
        params: { per_page: 10 },
        auth: { oauth2: { token_url: `${url}/oauth/token`, client_id: 'cid', client_secret: 'csecret' } },
        paginate: { style: 'link_header' },
        rate_limit: 20,
      }),
    },
    {
      name: 'NDJSON pages',
      auth: { kind: 'none' },
      source: (url) => ({
        url: `${url}/v1/ndjson`,
        format: 'ndjson',
        params: { per_page: 10 },
        paginate: { style: 'page' },
      }),
    },
    {
      name: 'CSV pages',
      auth: { kind: 'none' },
      source: (url) => ({
        url: `${url}/v1/csv`,
        format: 'csv',
        paginate: { style: 'page', size_param: 'per_page', size: 10 },
      }),
    },
    {
      name: 'XML pages',
      auth: { kind: 'none' },
      source: (url) => ({
        url: `${url}/v1/xml`,
        format: 'xml',
        records: 'response.items.item',
        paginate: { style: 'page', size_param: 'per_page', size: 10 },
      }),
    },
  ];

  for (const [i, c] of cases.entries()) {
    test(c.name, async () => {
      const api = await startMockApi({ records, auth: c.auth });
      try {
        const table = `api.style_${i}`;
        const summary = await runSpec(
          env,
          { source: { http: { ...c.source(api.url), retry: fastRetry } }, sink: { table } },
          { taskId: `s${i}` },
        );
        const rows = plainRows(await tableRows(env.runtime, table));
        const idKey = rows[0] && '@id' in rows[0] ? '@id' : 'id';
        assert.deepEqual(
          rows.map((r) => [Number(r[idKey]), r.name]).sort((a, b) => Number(a[0]) - Number(b[0])),
          records.map((r) => [r.id, r.name]),
        );
        assert.equal(summary.written, records.length);
        assert.equal(summary.quarantined, 0);
        if (c.auth?.kind === 'oauth2')
          assert.ok(
            api.tokensIssued >= 3,
            `a revoked token was replaced (${api.tokensIssued} tokens, ${api.requests} requests)`,
          );
      } finally {
        await api.close();
      }
    });
  }

  test('incremental cursor: the next run asks only for records after the committed maximum', async () => {
    const all = makeRecords(40);
    const api = await startMockApi({ records: all.slice(0, 30) });
    const spec = {
      source: {
        http: {
          url: `${api.url}/v1/page`,
          records: 'data.items',
          params: { per_page: 10 },
          paginate: { style: 'page' },
          incremental: { field: 'updated_at', param: 'updated_since' },
          retry: fastRetry,
        },
      },
      sink: { table: 'api.incremental', mode: 'upsert', key: ['id'] },
    };
    try {
      const first = await runSpec(env, spec, { taskId: 'inc' });
      assert.deepEqual(first.cursor, { '': '2024-01-01T00:29:00.000Z' });
      api.seen.page = [];
      const second = await runSpec(env, spec, { taskId: 'inc' });
      assert.equal(second.written, 0);
      assert.ok(api.seen.page.every((q) => q.includes('updated_since=2024-01-01T00%3A29%3A00.000Z')));
    } finally {
      await api.close();
    }
    const api2 = await startMockApi({ records: all });
    try {
      spec.source.http.url = `${api2.url}/v1/page`;
      const third = await runSpec(env, spec, { taskId: 'inc' });
      assert.equal(third.written, 10);
      const rows = plainRows(await tableRows(env.runtime, 'api.incremental', 'id'));
      assert.deepEqual(
        rows.map((r) => r.id),
        all.map((r) => r.id),
      );
    } finally {
      await api2.close();
    }
  });

  test('partitions: one stream per partner, fetched in parallel', async () => {
    const all = makeRecords(44);
    const api = await startMockApi({ records: all });
    try {
      const summary = await runSpec(
        env,
        {
          source: {
            http: {
              url: `${api.url}/v1/partners/{partition}/page`,
              records: 'data.items',
              params: { per_page: 5 },
              paginate: { style: 'page' },
              partitions: { values: ['acme', 'globex'] },
              concurrency: 2,
            },
          },
          sink: { table: 'api.partners' },
        },
        { taskId: 'partners' },
      );
      assert.equal(summary.written, 44);
      const rows = plainRows(await tableRows(env.runtime, 'api.partners', 'id'));
      assert.deepEqual(
        rows.map((r) => [r.id, r.partner]),
        all.map((r) => [r.id, r.partner]),
      );
      const ledger = await listRawObjects(env.runtime.meta, { task: 'p.partners' });
      assert.deepEqual([...new Set(ledger.map((o) => o.stream))].sort(), ['acme', 'globex']);
    } finally {
      await api.close();
    }
  });
});
