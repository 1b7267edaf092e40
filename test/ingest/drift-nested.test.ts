import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openCatalog } from '../../src/catalog/index.js';
import { openDuck } from '../../src/duck/index.js';
import { listRawObjects } from '../../src/ingest/index.js';
import { openTable, type Schema } from '../../src/table/index.js';
import { type IngestEnv, openIngestEnv, plainRows, runSpec, tableRows, tableSnapshots } from './helpers.js';

const WORKER = fileURLToPath(new URL('./crash-worker.js', import.meta.url));

describe('schema drift inside struct, list and map columns', () => {
  let env: IngestEnv;
  let n = 0;
  before(async () => {
    env = await openIngestEnv();
  });
  after(async () => {
    await env.close();
  });

  /** Drop records as a new file of `ext` (ndjson: one per line, json: an array). */
  async function drop(task: string, rows: unknown[], ext = 'ndjson') {
    const dir = join(env.dir, 'in', task);
    await mkdir(dir, { recursive: true });
    const text = ext === 'json' ? JSON.stringify(rows) : `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
    await writeFile(join(dir, `${String(++n).padStart(4, '0')}.${ext}`), text);
  }
  const specOf = (task: string, sink: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    source: { files: { path: `in/${task}` } },
    sink,
    ...extra,
  });
  async function load(
    task: string,
    rows: unknown[],
    sink: Record<string, unknown>,
    extra: Record<string, unknown> = {},
    ext = 'ndjson',
  ) {
    await drop(task, rows, ext);
    return runSpec(env, specOf(task, sink, extra), { taskId: task });
  }
  const rowsOf = async (table: string) => plainRows(await tableRows(env.runtime, table, 'id'));

  /** The table's current schema, and its rows as of snapshot `snapshotId`. */
  async function inspect(table: string, snapshotId?: bigint) {
    const catalog = openCatalog({ meta: env.runtime.meta, store: env.runtime.store });
    const duck = await openDuck({ threads: 1 });
    try {
      const t = await openTable(catalog, env.runtime.store, duck, { namespace: ['d'], name: table });
      const plan = await t.planScan(snapshotId === undefined ? {} : { snapshotId });
      const rows = await duck.all(`SELECT * FROM (${t.scanSql(plan)}) ORDER BY id`);
      return { schema: t.schema() as Schema, rows: plainRows(rows) };
    } finally {
      await duck.close();
    }
  }

  test('evolve: a struct field added on a later batch lands, old rows read NULL, time travel reads the old schema', async () => {
    const sink = { table: 'd.orders' };
    await load('orders', [{ id: 1, customer: { name: 'Ann' } }], sink);
    const before = await tableSnapshots(env.runtime, 'd.orders');
    const r = await load('orders', [{ id: 2, customer: { name: 'Bob', tier: 'gold' } }], sink);
    assert.equal(r.written, 1);
    assert.deepEqual(
      (await rowsOf('d.orders')).map((x) => [x.id, x.customer]),
      [
        [1, { name: 'Ann', tier: null }],
        [2, { name: 'Bob', tier: 'gold' }],
      ],
    );
    const now = await inspect('orders');
    const customer = now.schema.fields.find((f) => f.name === 'customer')?.type;
    assert.ok(typeof customer === 'object' && customer.type === 'struct');
    const tier = customer.fields.find((f) => f.name === 'tier');
    assert.equal(tier?.required, false);
    assert.equal(tier?.type, 'string');
    const ids = [...JSON.stringify(now.schema).matchAll(/"id":(\d+)/g)].map((m) => Number(m[1]));
    assert.equal(new Set(ids).size, ids.length, 'the new field has a fresh id');
    const old = await inspect('orders', before.at(-1)?.['snapshot-id']);
    assert.deepEqual(old.rows, [{ id: 1, customer: { name: 'Ann' } }]);
  });

  test('evolve: a field of list elements lands; a nested int widens to long; a fraction is quarantined by path', async () => {
    const sink = { table: 'd.lines' };
    // The first batch makes qty an int (as a declared source type would).
    const narrow = {
      processors: [
        {
          sql: 'SELECT id, CAST(lines AS STRUCT(sku VARCHAR, qty INTEGER)[]) AS lines, __raw_object, __raw_row FROM input',
        },
      ],
    };
    await load('lines', [{ id: 1, lines: [{ sku: 'a', qty: 1 }] }], sink, narrow);
    await load(
      'lines',
      [{ id: 2, lines: [{ sku: 'b', qty: 3_000_000_000, unit: 'kg' }, { sku: 'c' }] }],
      sink,
    );
    const r = await load(
      'lines',
      [
        { id: 3, lines: [{ sku: 'd', qty: 2, unit: 'g' }] },
        {
          id: 4,
          lines: [
            { sku: 'e', qty: 1 },
            { sku: 'f', qty: 1.5 },
          ],
        },
      ],
      sink,
    );
    assert.equal(r.written, 1);
    assert.equal(r.quarantined, 1);
    assert.deepEqual(
      (await rowsOf('d.lines')).map((x) => [x.id, x.lines]),
      [
        [1, [{ sku: 'a', qty: 1, unit: null }]],
        [
          2,
          [
            { sku: 'b', qty: 3_000_000_000, unit: 'kg' },
            { sku: 'c', qty: null, unit: null },
          ],
        ],
        [3, [{ sku: 'd', qty: 2, unit: 'g' }]],
      ],
    );
    const lines = (await inspect('lines')).schema.fields.find((f) => f.name === 'lines')?.type;
    assert.ok(typeof lines === 'object' && lines.type === 'list' && typeof lines.element === 'object');
    assert.ok(lines.element.type === 'struct');
    assert.deepEqual(
      lines.element.fields.map((f) => [f.name, f.type]),
      [
        ['sku', 'string'],
        ['qty', 'long'],
        ['unit', 'string'],
      ],
    );
    const q = plainRows(await tableRows(env.runtime, 'd.lines__quarantine'));
    assert.deepEqual(
      q.map((x) => x.__reason),
      ['column "lines[].qty": cannot convert 1.5 to BIGINT'],
    );
    assert.match(String(q[0]?.__record), /"qty":1\.5/);
  });

  test('fail names the nested path and leaves the table alone; ignore drops the nested field', async () => {
    const fail = { table: 'd.fail', schema_drift: 'fail' };
    await load('fail', [{ id: 1, customer: { name: 'Ann' }, lines: [{ sku: 'a' }] }], fail);
    await assert.rejects(
      load('fail', [{ id: 2, customer: { name: 'Bob', tier: 'gold' }, lines: [{ sku: 'b', qty: 1 }] }], fail),
      /schema_drift: fail\): new column "customer\.tier" \(VARCHAR\); new column "lines\[\]\.qty" \(BIGINT\)/,
    );
    assert.deepEqual(await rowsOf('d.fail'), [{ id: 1, customer: { name: 'Ann' }, lines: [{ sku: 'a' }] }]);
    const ignore = { table: 'd.ignore', schema_drift: 'ignore' };
    await load('ignore', [{ id: 1, customer: { name: 'Ann' } }], ignore);
    const r = await load('ignore', [{ id: 2, customer: { name: 'Bob', tier: 'gold' } }], ignore);
    assert.equal(r.written, 1);
    assert.equal(r.quarantined ?? 0, 0);
    assert.deepEqual(await rowsOf('d.ignore'), [
      { id: 1, customer: { name: 'Ann' } },
      { id: 2, customer: { name: 'Bob' } },
    ]);
  });

  test('JSON array files and map values of structs evolve too', async () => {
    const sink = { table: 'd.maps' };
    const asMap = (type: string) => ({
      processors: [
        {
          sql: `SELECT id, CAST(MAP {'x': m} AS MAP(VARCHAR, ${type})) AS m, __raw_object, __raw_row FROM input`,
        },
      ],
    });
    await load('maps', [{ id: 1, m: { a: 1 } }], sink, asMap('STRUCT(a BIGINT)'), 'json');
    await load(
      'maps',
      [{ id: 2, m: { a: 2, b: 'new' } }],
      sink,
      asMap('STRUCT(a BIGINT, b VARCHAR)'),
      'json',
    );
    assert.deepEqual(
      (await rowsOf('d.maps')).map((x) => [x.id, x.m]),
      [
        [1, [{ key: 'x', value: { a: 1, b: null } }]],
        [2, [{ key: 'x', value: { a: 2, b: 'new' } }]],
      ],
    );
  });

  test('SIGKILL after the schema change, before the data commit: the table stays readable and a resume loads the batch once', async () => {
    // The task identity of crash-worker.ts, so that runs here resume what it left.
    const task = { pipeline: 'crash', taskId: 'fetch' };
    const spec = specOf('crash', { table: 'd.crash' });
    await drop('crash', [{ id: 1, customer: { name: 'Ann' } }]);
    await runSpec(env, spec, task);
    await drop('crash', [
      { id: 2, customer: { name: 'Bob', tier: 'gold' } },
      { id: 3, customer: { name: 'Cy', tier: 'silver' } },
    ]);
    const killed = await new Promise<{ signal: NodeJS.Signals | null; err: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [WORKER, env.dir, JSON.stringify(spec), 'killed', 'kill-after-schema-change'],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let err = '';
      child.stderr.on('data', (d) => {
        err += d;
      });
      child.on('exit', (_code, signal) => resolve({ signal, err }));
    });
    assert.equal(killed.signal, 'SIGKILL', killed.err);
    const between = await inspect('crash');
    assert.match(JSON.stringify(between.schema), /"tier"/, 'the schema change was committed');
    assert.deepEqual(between.rows, [{ id: 1, customer: { name: 'Ann', tier: null } }]);
    const r = await runSpec(env, spec, task);
    assert.equal(r.written, 2);
    await runSpec(env, spec, task);
    assert.deepEqual(
      (await rowsOf('d.crash')).map((x) => [x.id, x.customer]),
      [
        [1, { name: 'Ann', tier: null }],
        [2, { name: 'Bob', tier: 'gold' }],
        [3, { name: 'Cy', tier: 'silver' }],
      ],
    );
    const ledger = await listRawObjects(env.runtime.meta, { task: 'crash.fetch', limit: 100 });
    assert.equal(ledger.length, 2);
    assert.ok(ledger.every((o) => o.status === 'committed'));
  });
});
