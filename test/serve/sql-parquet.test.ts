import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDuck } from '../../src/duck/index.js';
import { exportDir, openEngine } from '../../src/engine/index.js';
import type { Runtime } from '../../src/runtime/index.js';
import { type RunningServer, startServer } from '../../src/serve/index.js';
import { tempDir } from '../helpers/cli.js';
import { callAs } from '../helpers/http.js';
import { openSecureProject } from '../helpers/serve.js';

type ErrorBody = { error: { code: string; message: string; sqlState: string; position?: { line: number } } };

describe('POST /api/v1/sql with format parquet', () => {
  const tmp = tempDir();
  const dir = join(tmp.dir, 'proj');
  let runtime: Runtime;
  let server: RunningServer;
  const tokens: Record<string, string> = {};
  const call = callAs(() => server.url, tokens);
  const parquet = (who: string, sql: string, extra: Record<string, unknown> = {}) =>
    call('POST', '/api/v1/sql', who, { sql, format: 'parquet', ...extra });
  /** Files the engine's export directory holds (none once every download ended). */
  const leftovers = () => {
    try {
      return readdirSync(exportDir(join(runtime.project.dataDir, 'tmp')));
    } catch {
      return [];
    }
  };

  before(async () => {
    ({ runtime } = await openSecureProject(
      dir,
      [{ kind: 'table', name: 'shop.public', privilege: 'read' }],
      tokens,
    ));
    server = await startServer(runtime, { host: '127.0.0.1', httpPort: 0 });
    assert.equal((await call('POST', '/iceberg/v1/namespaces', 'root', { namespace: ['shop'] })).status, 200);
    for (const statement of [
      `CREATE TABLE shop.orders AS SELECT range AS id, 'c' || (range % 97) AS customer,
         CAST(range * 1.5 AS DECIMAL(12, 2)) AS amount, DATE '2026-11-01' + CAST(range % 30 AS INT) AS day
       FROM range(30000)`,
      'CREATE TABLE shop.public AS SELECT 1 AS id',
    ]) {
      const r = await call('POST', '/api/v1/sql', 'root', { sql: statement });
      assert.equal(r.status, 200, await r.text());
    }
  });
  after(async () => {
    await server?.close();
    await runtime?.close();
    tmp.remove();
  });

  test('streams every row as a Parquet file that DuckDB reads back equal to the query', async () => {
    const query = 'SELECT id, customer, amount, day FROM shop.orders WHERE id % 3 = $1 ORDER BY id';
    const res = await parquet('root', query, { params: [1] });
    assert.equal(res.status, 200, res.status === 200 ? '' : await res.text());
    assert.equal(res.headers.get('content-type'), 'application/vnd.apache.parquet');
    assert.equal(res.headers.get('content-disposition'), 'attachment; filename="result.parquet"');
    assert.equal(res.headers.get('x-sluice-row-count'), '10000');
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(Number(res.headers.get('content-length')), bytes.length);
    assert.equal(bytes.subarray(0, 4).toString(), 'PAR1');
    const file = join(tmp.dir, 'download.parquet');
    writeFileSync(file, bytes);
    // The same query as JSON, compared with what DuckDB reads from the downloaded file.
    const json = (await (
      await call('POST', '/api/v1/sql', 'root', { sql: query, params: [1], limit: 20_000 })
    ).json()) as { rows: unknown[][] };
    const duck = await openDuck();
    try {
      const read = await duck.all<{ id: bigint; customer: string; amount: string; day: string }>(
        `SELECT id, customer, CAST(amount AS VARCHAR) AS amount, CAST(day AS VARCHAR) AS day
         FROM read_parquet('${file}') ORDER BY id`,
      );
      assert.equal(read.length, 10_000);
      assert.deepEqual(
        read.map((r) => [Number(r.id), r.customer, Number(r.amount), r.day]),
        json.rows.map(([id, customer, amount, day]) => [Number(id), customer, Number(amount), day]),
      );
      const [types] = await duck.all<{ t: string }>(
        `SELECT string_agg(column_type, ',' ORDER BY column_name) AS t FROM (DESCRIBE SELECT * FROM '${file}')`,
      );
      assert.equal(types?.t, 'DECIMAL(12,2),VARCHAR,DATE,BIGINT');
    } finally {
      await duck.close();
    }
    assert.deepEqual(leftovers(), [], 'the file is deleted once sent');
  });

  test('a reader without access gets 403; writes, several statements and bad SQL get a clear 400', async () => {
    const denied = await parquet('ann', 'SELECT * FROM shop.orders');
    assert.equal(denied.status, 403);
    assert.match(((await denied.json()) as ErrorBody).error.message, /shop\.orders/);
    assert.equal((await parquet('ann', 'SELECT * FROM shop.public')).status, 200);
    assert.equal(
      (await call('POST', '/api/v1/sql', undefined, { sql: 'SELECT 1', format: 'parquet' })).status,
      401,
    );

    const write = await parquet('root', 'INSERT INTO shop.orders (id) VALUES (-1)');
    assert.equal(write.status, 400);
    const writeError = ((await write.json()) as ErrorBody).error;
    assert.equal(writeError.sqlState, '0A000');
    assert.match(
      writeError.message,
      /only a query \(SELECT, WITH, VALUES, FROM, TABLE\) can be downloaded as Parquet, not INSERT/,
    );
    // Neither a write hidden after a query nor a COPY of its own gets through.
    for (const sql of [
      'SELECT 1; DELETE FROM shop.orders',
      "COPY (SELECT 1) TO 'x.parquet'",
      "SELECT 1) TO 'elsewhere.csv' (FORMAT csv); --",
    ])
      assert.equal((await parquet('root', sql)).status, 400, sql);
    const count = (await (
      await call('POST', '/api/v1/sql', 'root', { sql: 'SELECT count(*) FROM shop.orders WHERE id < 0' })
    ).json()) as { rows: unknown[][] };
    assert.deepEqual(count.rows, [[0]]);

    const bad = await parquet('root', 'SELECT id,\n  nope FROM shop.orders');
    assert.equal(bad.status, 400);
    const badError = ((await bad.json()) as ErrorBody).error;
    assert.match(badError.message, /nope/);
    assert.equal(badError.position?.line, 2);
    assert.equal((await parquet('root', 'SELECT * FROM shop.missing')).status, 400);
    assert.deepEqual(leftovers(), []);
  });

  test('the statement timeout applies while DuckDB writes the file', async () => {
    const res = await parquet('root', 'SELECT count(*) FROM range(100000000000) a', { timeoutMs: 50 });
    assert.equal(res.status, 408, await res.clone().text());
    assert.match(((await res.json()) as ErrorBody).error.message, /timeout/);
    assert.deepEqual(leftovers(), []);
  });

  test('an engine that starts removes the exports of a process that crashed mid-download', async () => {
    const exports = exportDir(join(runtime.project.dataDir, 'tmp'));
    mkdirSync(exports, { recursive: true });
    // Above Linux's largest process id: no such process is alive.
    const stale = join(exports, '4194305-0b9e.parquet');
    const live = join(exports, `${process.pid}-in-flight.parquet`);
    writeFileSync(stale, 'PAR1');
    writeFileSync(live, 'PAR1');
    const engine = await openEngine(runtime);
    await engine.close();
    assert.deepEqual(leftovers(), [`${process.pid}-in-flight.parquet`]);
    rmSync(live);
  });
});
