import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Duck, openDuck } from '../../src/duck/index.js';
import { type Engine, type EngineSession, openEngine } from '../../src/engine/index.js';
import { openTable, type Schema, type Table, type TableCatalog } from '../../src/table/index.js';
import { ConflictError, InvalidInputError } from '../../src/util/index.js';
import { runCli } from '../helpers/cli.js';
import {
  createKeyedTable,
  killWhileWriting,
  query,
  rowsOf,
  type TestProject,
  testProject,
} from './helpers.js';

const fieldsOf = (s: Schema) => s.fields.map((f) => [f.name, f.id, f.type]);

describe('CREATE OR REPLACE TABLE evolves the schema with the data (SQLite + local files)', () => {
  let p: TestProject;
  let engine: Engine;
  let w: EngineSession;
  let r: EngineSession;
  let duck: Duck;
  const open = (name: string) => openTable(p.catalog, p.runtime.store, duck, { namespace: ['rep'], name });

  before(async () => {
    p = await testProject();
    duck = await openDuck();
    engine = await openEngine(p.runtime, { maxConcurrentQueries: 4, queueSize: 1 });
    w = await engine.openSession({ name: 'w', readOnly: false });
    r = await engine.openSession({ name: 'r', readOnly: true });
  });
  after(async () => {
    await engine?.close();
    await duck?.close();
    await p?.remove();
  });

  test('added, dropped, widened, retyped and reordered columns; each statement one snapshot; time travel reads the old columns', async () => {
    await w.run(
      "CREATE TABLE rep.t AS SELECT i::INTEGER AS id, 'n' || i AS name, (i * 1.5)::DOUBLE AS price FROM range(3) t(i)",
    );
    const t = await open('t');
    assert.deepEqual(fieldsOf(t.schema()), [
      ['id', 1, 'int'],
      ['name', 2, 'string'],
      ['price', 3, 'double'],
    ]);
    const steps: { sql: string; fields: unknown[]; rows: unknown[][] }[] = [
      {
        // Unchanged columns: a plain overwrite, no new schema.
        sql: "CREATE OR REPLACE TABLE rep.t AS SELECT i::INTEGER AS id, 'm' || i AS name, (i * 1.5)::DOUBLE AS price FROM range(2) t(i)",
        fields: [
          ['id', 1, 'int'],
          ['name', 2, 'string'],
          ['price', 3, 'double'],
        ],
        rows: [
          [0, 'm0', 0],
          [1, 'm1', 1.5],
        ],
      },
      {
        // Added column, and id widened int → bigint (a promotion keeps the id).
        sql: "CREATE OR REPLACE TABLE rep.t AS SELECT i::BIGINT AS id, 'm' || i AS name, (i * 1.5)::DOUBLE AS price, i % 2 = 0 AS even FROM range(2) t(i)",
        fields: [
          ['id', 1, 'long'],
          ['name', 2, 'string'],
          ['price', 3, 'double'],
          ['even', 4, 'boolean'],
        ],
        rows: [
          [0, 'm0', 0, true],
          [1, 'm1', 1.5, false],
        ],
      },
      {
        // Dropped column (price) and reordered columns.
        sql: "CREATE OR REPLACE TABLE rep.t AS SELECT i % 2 = 0 AS even, 'k' || i AS name, i::BIGINT AS id FROM range(2) t(i)",
        fields: [
          ['even', 4, 'boolean'],
          ['name', 2, 'string'],
          ['id', 1, 'long'],
        ],
        rows: [
          [true, 'k0', 0],
          [false, 'k1', 1],
        ],
      },
      {
        // name: varchar → int is not a promotion: a new field id under the same name.
        sql: 'CREATE OR REPLACE TABLE rep.t AS SELECT true AS even, 42 AS name, 7::BIGINT AS id',
        fields: [
          ['even', 4, 'boolean'],
          ['name', 5, 'int'],
          ['id', 1, 'long'],
        ],
        rows: [[true, 42, 7]],
      },
    ];
    let snapshots = (await t.refresh()).snapshots().length;
    const history: { id: bigint; rows: unknown[][]; columns: string[] }[] = [
      {
        id: t.currentSnapshot()!['snapshot-id'],
        rows: [
          [0, 'n0', 0],
          [1, 'n1', 1.5],
          [2, 'n2', 3],
        ],
        columns: ['id', 'name', 'price'],
      },
    ];
    for (const step of steps) {
      const res = await w.run(step.sql);
      assert.equal(res.statementType, 'CREATE_TABLE');
      assert.equal(res.rowsChanged, step.rows.length);
      await t.refresh();
      assert.equal(t.snapshots().length, ++snapshots, `one snapshot for: ${step.sql}`);
      assert.deepEqual(fieldsOf(t.schema()), step.fields, step.sql);
      assert.equal(t.currentSnapshot()?.['schema-id'], t.metadata['current-schema-id']);
      const columns = t.schema().fields.map((f) => f.name);
      assert.deepEqual(await query(r, `SELECT * FROM rep.t ORDER BY name`), step.rows);
      history.push({ id: t.currentSnapshot()!['snapshot-id'], rows: step.rows, columns });
    }
    // The first replace kept the schema: no schema was added for it.
    assert.equal(t.metadata.schemas.length, 4);
    assert.equal(t.metadata['last-column-id'], 5);
    // Every earlier snapshot still reads its own columns and values.
    for (const h of history) {
      const res = await r.run(`SELECT * FROM rep."t@${h.id}" ORDER BY name`);
      assert.deepEqual(
        res.columns.map((c) => c.name),
        h.columns,
        `snapshot ${h.id}`,
      );
      assert.deepEqual(await rowsOf(res), h.rows, `snapshot ${h.id}`);
    }
  });

  test('a replace through a narrower type keeps the wider column, its id and the table key', async () => {
    await createKeyedTable(p.catalog, 'rep', 'keyed');
    await w.run('INSERT INTO rep.keyed VALUES (1, 1)');
    await w.run('CREATE OR REPLACE TABLE rep.keyed AS SELECT 9 AS sku, 9 AS qty, 1 AS extra');
    const t = await open('keyed');
    assert.deepEqual(fieldsOf(t.schema()), [
      ['sku', 1, 'long'],
      ['qty', 2, 'long'],
      ['extra', 3, 'int'],
    ]);
    assert.deepEqual(t.schema()['identifier-field-ids'], [1]);
    await w.run('INSERT OR REPLACE INTO rep.keyed VALUES (9, 10, 2)');
    assert.deepEqual(await query(r, 'SELECT * FROM rep.keyed'), [[9, 10, 2]]);
    // Dropping a key column drops the key (a partial key would change what upserts match).
    await w.run('CREATE OR REPLACE TABLE rep.keyed AS SELECT 5 AS qty');
    assert.equal((await t.refresh()).schema()['identifier-field-ids'], undefined);
  });

  test('a partition source column cannot be dropped by a replace; the table is left as it was', async () => {
    await w.run("CREATE TABLE rep.parted AS SELECT 1 AS id, 'eu' AS region");
    const t = await open('parted');
    await t.updateSpec([{ column: 'region', transform: 'identity' }]);
    const before = (await t.refresh()).metadata;
    await assert.rejects(w.run('CREATE OR REPLACE TABLE rep.parted AS SELECT 2 AS id'), (err: Error) => {
      assert.ok(err instanceof InvalidInputError, String(err));
      assert.match(err.message, /rep\.parted.*partitioned by column "region"/);
      return true;
    });
    await assert.rejects(
      w.run('CREATE OR REPLACE TABLE rep.parted AS SELECT 2 AS id, 3 AS region'),
      /"region"/,
    );
    await t.refresh();
    assert.equal(t.metadata['current-snapshot-id'], before['current-snapshot-id']);
    assert.equal(t.metadata.schemas.length, before.schemas.length);
    // Keeping the column (new columns around it are fine) works and keeps the partitioning.
    await w.run("CREATE OR REPLACE TABLE rep.parted AS SELECT 'us' AS region, 2 AS id, 'x' AS note");
    assert.deepEqual(await query(r, 'SELECT id, region, note FROM rep.parted'), [[2, 'us', 'x']]);
    assert.equal((await t.refresh()).spec().fields.length, 1);
  });

  test('a schema change committed concurrently makes the replace fail cleanly', async () => {
    await w.run('CREATE TABLE rep.race AS SELECT 1 AS a, 2 AS b');
    const other = await open('race');
    let raced = false;
    // The real catalog, with another writer's schema change landing just before the replace commits.
    const racing: TableCatalog = {
      loadTable: (id) => p.catalog.loadTable(id),
      async commitTable(id, requirements, updates) {
        if (!raced) {
          raced = true;
          await other.evolveSchema([{ op: 'add-column', name: 'c', type: 'string' }]);
        }
        return p.catalog.commitTable(id, requirements, updates);
      },
    };
    const t: Table = await openTable(racing, p.runtime.store, duck, { namespace: ['rep'], name: 'race' });
    const before = (await other.refresh()).snapshots().length;
    await assert.rejects(t.replace('SELECT 1 AS a, 2 AS b, 3 AS d'), (err: Error) => {
      assert.ok(err instanceof ConflictError, String(err));
      assert.match(err.message, /schema was changed by a concurrent commit/);
      return true;
    });
    await other.refresh();
    assert.equal(other.snapshots().length, before);
    assert.deepEqual(
      other.schema().fields.map((f) => f.name),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(await query(r, 'SELECT * FROM rep.race'), [[1, 2, null]]);
    // The data files the failed replace wrote are removed.
    const orphans = await other.removeOrphanFiles({ olderThanMs: -60_000, dryRun: true });
    assert.deepEqual(
      orphans.orphanFiles.filter((f) => f.endsWith('.parquet')),
      [],
    );
  });
});

test('a CREATE OR REPLACE with new columns killed with SIGKILL leaves the old table or the new one', async () => {
  const p = await testProject();
  try {
    const sql = (q: string) => runCli(['--project', p.dir, 'sql', '--format', 'csv', q]);
    const created = await sql('CREATE TABLE crash.t AS SELECT range AS id FROM range(1000)');
    assert.equal(created.code, 0, created.stderr);
    await killWhileWriting(
      p.dir,
      "CREATE OR REPLACE TABLE crash.t AS SELECT range AS id, 'x' || range AS label FROM range(20000000)",
    );
    const after = await sql('SELECT * FROM crash.t LIMIT 0');
    assert.equal(after.code, 0, after.stderr);
    const header = after.stdout.split('\n')[0];
    const count = await sql('SELECT count(*) AS n FROM crash.t');
    const n = Number(count.stdout.split('\n')[1]);
    if (header === 'id') assert.equal(n, 1000, 'old schema with old rows');
    else {
      assert.equal(header, 'id,label');
      assert.equal(n, 20_000_000, 'new schema with new rows');
    }
    const again = await sql("CREATE OR REPLACE TABLE crash.t AS SELECT 1 AS id, 'y' AS label, true AS flag");
    assert.equal(again.code, 0, again.stderr);
    const final = await sql('SELECT * FROM crash.t');
    assert.equal(final.stdout.trim(), 'id,label,flag\n1,y,true');
  } finally {
    await p.remove();
  }
});
