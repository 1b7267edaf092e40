/** A REST catalog app on temp backends, and request helpers for its tests. */
import assert from 'node:assert/strict';
import type { Hono } from 'hono';
import { createIcebergRestApp, type JdbcCatalog } from '../../src/catalog/index.js';
import { parseJson, stringifyJson } from '../../src/table/index.js';
import { type Backends, catalogOf, localBackends, SCHEMA } from './fixtures.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field by the assertions
export type Json = Record<string, any>;

/** A response as the tests look at it. */
export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: Json;
}

/** The app under test, its catalog and backends. */
export interface RestHarness {
  b: Backends;
  catalog: JdbcCatalog;
  app: Hono;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
}

/** A fresh catalog and REST app (64 KiB body limit). */
export async function restHarness(): Promise<RestHarness> {
  const b = await localBackends();
  const catalog = catalogOf(b);
  const app = createIcebergRestApp({ catalog, bodyLimitBytes: 64 * 1024 });
  return {
    b,
    catalog,
    app,
    async call(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers };
      if (body !== undefined) init.body = typeof body === 'string' ? body : stringifyJson(body);
      const res = await app.request(path, init);
      const text = await res.text();
      return {
        status: res.status,
        headers: res.headers,
        text,
        json: (text ? parseJson(text) : undefined) as Json,
      };
    },
  };
}

/** Assert an ErrorModel response. */
export function assertError(
  r: { status: number; json: Json },
  status: number,
  type: string,
  message?: RegExp,
): void {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.equal(r.json.error.type, type);
  assert.equal(r.json.error.code, status);
  if (message) assert.match(r.json.error.message, message);
}

/** A CreateTableRequest partitioned by day(ts). */
export const createBody = (name: string) => ({
  name,
  schema: { type: 'struct', fields: SCHEMA.fields },
  'partition-spec': { fields: [{ 'source-id': 3, name: 'ts_day', transform: 'day' }] },
  properties: { owner: 'ann' },
});
