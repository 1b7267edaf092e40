import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AuthStore } from '../../src/auth/index.js';
import type { Runtime } from '../../src/runtime/index.js';
import { type RunningServer, startServer } from '../../src/serve/index.js';
import { tempDir } from '../helpers/cli.js';
import { callAs } from '../helpers/http.js';
import { openSecureProject } from '../helpers/serve.js';

describe('one policy on every HTTP surface (auth.required: true)', () => {
  const tmp = tempDir();
  let runtime: Runtime;
  let server: RunningServer;
  const tokens: Record<string, string> = {};

  before(async () => {
    let store: AuthStore;
    ({ runtime, store } = await openSecureProject(
      join(tmp.dir, 'proj'),
      [{ kind: 'namespace', name: 'shop', privilege: 'read' }],
      tokens,
    ));
    const expired = await store.createToken('ann', { expiresInMs: -1000 });
    tokens.expired = expired.token;
    server = await startServer(runtime, { host: '127.0.0.1', httpPort: 0 });
  });
  after(async () => {
    await server?.close();
    await runtime?.close();
    tmp.remove();
  });

  const call = callAs(() => server.url, tokens);
  const sql = (who: string | undefined, statement: string) =>
    call('POST', '/api/v1/sql', who, { sql: statement });

  test('anonymous, wrong and expired tokens get 401 everywhere but health', async () => {
    assert.equal((await call('GET', '/api/v1/health')).status, 200);
    for (const who of [undefined, 'sluice_garbage', 'expired']) {
      assert.equal((await sql(who, 'SELECT 1')).status, 401, `${who} on SQL`);
      assert.equal((await call('GET', '/iceberg/v1/namespaces', who)).status, 401, `${who} on Iceberg`);
      assert.equal((await call('GET', '/metrics', who)).status, 401, `${who} on metrics`);
      assert.equal((await call('GET', '/api/v1/pipelines', who)).status, 401, `${who} on pipelines`);
    }
  });

  test('an admin writes; a reader reads and is refused writes with 403', async () => {
    assert.equal((await call('POST', '/iceberg/v1/namespaces', 'root', { namespace: ['shop'] })).status, 200);
    const created = await sql('root', 'CREATE TABLE shop.orders AS SELECT range AS id FROM range(5)');
    assert.equal(created.status, 200, await created.clone().text());
    const read = await sql('ann', 'SELECT count(*) AS n FROM shop.orders');
    assert.equal(read.status, 200);
    assert.deepEqual(((await read.json()) as { rows: unknown[][] }).rows, [[5]]);
    const write = await sql('ann', 'INSERT INTO shop.orders SELECT 99');
    assert.equal(write.status, 403);
    assert.equal(((await write.json()) as { error: { sqlState: string } }).error.sqlState, '42501');
    assert.equal((await call('POST', '/iceberg/v1/namespaces', 'ann', { namespace: ['ann'] })).status, 403);
    assert.equal((await call('GET', '/iceberg/v1/namespaces', 'ann')).status, 200);
    assert.equal((await call('GET', '/api/v1/users', 'ann')).status, 403);
    assert.equal((await call('GET', '/api/v1/users', 'root')).status, 200);
  });

  test('a grant given over the API applies to the next request', async () => {
    assert.equal((await sql('ann', 'INSERT INTO shop.orders SELECT 7')).status, 403);
    const g = { role: 'analyst', kind: 'namespace', name: '*', privilege: 'write' };
    assert.equal((await call('POST', '/api/v1/grants', 'root', g)).status, 201);
    assert.equal((await sql('ann', 'INSERT INTO shop.orders SELECT 7')).status, 200);
    assert.equal((await call('POST', '/api/v1/grants/revoke', 'root', g)).status, 200);
    assert.equal((await sql('ann', 'INSERT INTO shop.orders SELECT 8')).status, 403);
  });
});
