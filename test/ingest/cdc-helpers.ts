import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before } from 'node:test';
import pg from 'pg';
import { openCatalog } from '../../src/catalog/index.js';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import { type Duck, openDuck } from '../../src/duck/index.js';
import { type CdcSpec, cdcTaskSchema } from '../../src/ingest/cdc/index.js';
import { createLogger } from '../../src/observe/index.js';
import { openRuntime, type Runtime } from '../../src/runtime/index.js';
import { openTable, type Table } from '../../src/table/index.js';
import { tempDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

/** A scaffolded project (SQLite metastore, local warehouse) and its runtime. */
export async function openTestRuntime(dir: string): Promise<Runtime> {
  const root = join(dir, 'proj');
  await scaffoldProject(root, { name: 'proj' });
  return openRuntime(await loadProject(root), createLogger({ level: 'silent', stderr: false }));
}

/** Reopen the runtime of a project scaffolded by openTestRuntime. */
export async function reopenRuntime(dir: string): Promise<Runtime> {
  return openRuntime(await loadProject(join(dir, 'proj')), createLogger({ level: 'silent', stderr: false }));
}

/** The test workload's three tables: a composite key, TOAST values, NULLs, numeric/timestamptz/jsonb/arrays. */
export const SOURCE_DDL = `
  CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(12,2), placed_at timestamptz, meta jsonb,
    tags text[], note text, qty int);
  ALTER TABLE orders ALTER COLUMN note SET STORAGE EXTERNAL;
  CREATE TABLE line_items (order_id bigint, line int, sku text, price numeric(10,2), scores int[],
    PRIMARY KEY (order_id, line));
  CREATE TABLE events (event_id text NOT NULL, kind text, at timestamptz, payload jsonb);
  ALTER TABLE events REPLICA IDENTITY FULL;`;

/** A CDC spec for the test tables. */
export function testSpec(
  url: string,
  over: Partial<CdcSpec['source']['postgres_cdc']> = {},
  name = 'shop',
): CdcSpec {
  return cdcTaskSchema.parse({
    name,
    source: {
      postgres_cdc: {
        url,
        tables: ['orders', 'line_items', 'events'],
        keys: { events: ['event_id'] },
        batch: { interval: '200ms', max_changes: 2000 },
        heartbeat: '1s',
        snapshot: { chunk_rows: 50, parallel: 2 },
        ...over,
      },
    },
  });
}

/** Run SQL on the source. */
export async function pgExec(url: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}

/** Rows of a source table as sorted JSON lines (arrays as JSON, everything else as text). */
async function sourceRows(url: string, table: string, key: string[]): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query("SET TimeZone = 'UTC'");
    const cols = await c.query<{ name: string; arr: boolean }>(
      `SELECT attname AS name, attndims > 0 OR format_type(atttypid, atttypmod) LIKE '%[]' AS arr FROM pg_attribute
        WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [table],
    );
    const list = cols.rows
      .map((r) => (r.arr ? `array_to_json("${r.name}")::text` : `"${r.name}"::text`))
      .join(', ');
    const res = await c.query({
      text: `SELECT ${list} FROM ${table} AS __t ORDER BY ${key.map((k) => `__t.${k}`).join(', ')}`,
      rowMode: 'array',
    });
    return res.rows.map((r) => JSON.stringify(r));
  } finally {
    await c.end();
  }
}

/** Rows of a lake table, formatted as sourceRows formats them. */
async function lakeRows(duck: Duck, table: Table, key: string[]): Promise<string[]> {
  await table.refresh();
  const plan = await table.planScan();
  const fields = table.schema().fields;
  const list = fields
    .map((f) =>
      typeof f.type === 'object' && f.type.type === 'list'
        ? `CAST(to_json("${f.name}") AS VARCHAR)`
        : `CAST("${f.name}" AS VARCHAR)`,
    )
    .join(', ');
  const rows = await duck.all<Record<string, string | null>>(
    `SELECT [${list}] AS r FROM (${table.scanSql(plan)}) ORDER BY ${key.map((k) => `"${k}"`).join(', ')}`,
  );
  return rows.map((r) => JSON.stringify(r.r));
}

/** Assert that every lake table equals its source table, row for row. */
export async function assertLakeEqualsSource(
  runtime: Runtime,
  url: string,
  namespace = 'cdc',
): Promise<void> {
  const duck = await openDuck({ threads: 1, maxConnections: 2 });
  try {
    const catalog = openCatalog({ meta: runtime.meta, store: runtime.store, log: runtime.log });
    for (const [name, key] of [
      ['orders', ['id']],
      ['line_items', ['order_id', 'line']],
      ['events', ['event_id']],
    ] as const) {
      const table = await openTable(catalog, runtime.store, duck, { namespace: [namespace], name });
      const lake = await lakeRows(duck, table, [...key]);
      const src = await sourceRows(url, name, [...key]);
      const cut = (r?: string) => (r && r.length > 300 ? `${r.slice(0, 300)}...(${r.length} chars)` : r);
      const at = src.findIndex((r, i) => lake[i] !== r);
      const srcSet = new Set(src);
      const extra = lake
        .filter((r) => !srcSet.has(r))
        .slice(0, 5)
        .map(cut);
      assert.ok(
        lake.length === src.length && at < 0,
        `${name}: ${lake.length} lake rows, ${src.length} source rows; first difference at ${at}; lake-only rows: ${extra.join(' | ')}:\n lake:   ${cut(lake[at])}\n source: ${cut(src[at])}`,
      );
    }
  } finally {
    await duck.close();
  }
}

/** A suite's source database (the test tables, seeded by `seed`) and project, set up before its tests. */
export function cdcSuite(seed: (url: string) => Promise<void>): {
  dir: string;
  db: TestDatabase;
  runtime: Runtime;
} {
  const tmp = tempDir();
  const s = { dir: tmp.dir } as { dir: string; db: TestDatabase; runtime: Runtime };
  before(async () => {
    s.db = await createTestDatabase();
    s.runtime = await openTestRuntime(tmp.dir);
    await pgExec(s.db.url, SOURCE_DDL);
    await seed(s.db.url);
  });
  after(async () => {
    await s.runtime?.close();
    await s.db?.drop();
    tmp.remove();
  });
  return s;
}
