import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  decodeManifest,
  decodeManifestList,
  fromBinary,
  openTable,
  parseJson,
  parseTableMetadata,
  type Table,
  validateTableMetadata,
} from '../../src/table/index.js';
import type { PrimitiveType } from '../../src/table/types.js';
import { type Env, openEnv, schemaOf } from './table-helpers.js';

const ROWS = `SELECT i AS id, 'name-' || (i % 97) AS name, (i * 1.5)::DOUBLE AS score,
  CASE WHEN i % 10 = 0 THEN NULL ELSE (i % 1000)::INTEGER END AS qty,
  (i / 100)::DECIMAL(12,2) AS amount, DATE '2024-01-01' + (i % 60)::INTEGER AS day,
  TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i) AS ts, (i % 2 = 0) AS flag,
  ('\\x' || lpad(to_hex(i % 255), 2, '0'))::BLOB AS raw, [i, i + 1] AS tags,
  {'a': i, 'b': 'x' || i} AS info
FROM range(20000) t(i)`;

const SCHEMA = schemaOf([
  ['id', 'long', true],
  ['name', 'string'],
  ['score', 'double'],
  ['qty', 'int'],
  ['amount', 'decimal(12,2)'],
  ['day', 'date'],
  ['ts', 'timestamptz'],
  ['flag', 'boolean'],
  ['raw', 'binary'],
]);

describe('write path round trip', () => {
  let env: Env;
  let table: Table;
  const id = { namespace: ['shop'], name: 'items' };

  before(async () => {
    env = await openEnv();
    const schema = structuredClone(SCHEMA);
    schema.fields.push(
      {
        id: 10,
        name: 'tags',
        required: false,
        type: { type: 'list', 'element-id': 11, element: 'long', 'element-required': false },
      },
      {
        id: 12,
        name: 'info',
        required: false,
        type: {
          type: 'struct',
          fields: [
            { id: 13, name: 'a', required: false, type: 'long' },
            { id: 14, name: 'b', required: false, type: 'string' },
          ],
        },
      },
    );
    await env.catalog.createTable(id, schema, { properties: { 'write.target-file-size-bytes': '150000' } });
    table = await openTable(env.catalog, env.store, env.duck, id);
  });
  after(() => env.close());

  test('append writes several files readable by DuckDB directly, with field ids', async () => {
    const r = await table.append({ sql: ROWS }, { rowGroupSize: 2048 });
    assert.equal(r.addedRecords, 20000);
    assert.ok(r.addedFiles >= 2, `expected several files, got ${r.addedFiles}`);
    assert.equal(r.snapshot.summary.operation, 'append');
    assert.equal(r.snapshot.summary['total-records'], '20000');
    assert.equal(r.snapshot.summary['added-data-files'], String(r.addedFiles));
    const plan = await table.planScan();
    const paths = plan.files.map((f) => f.localPath);
    const cols = 'id, name, score, qty, amount, day, ts, flag, raw, tags, info';
    const diff = await env.duck.all(
      `(SELECT ${cols} FROM (${ROWS}) EXCEPT ALL SELECT ${cols} FROM read_parquet(${JSON.stringify(paths).replace(/"/g, "'")}))
       UNION ALL (SELECT ${cols} FROM read_parquet(${JSON.stringify(paths).replace(/"/g, "'")}) EXCEPT ALL SELECT ${cols} FROM (${ROWS}))`,
    );
    assert.equal(diff.length, 0);
    const viaScan = await env.duck.all<{ n: bigint }>(
      `SELECT count(*) AS n FROM (${table.scanSql(plan)}) s JOIN (${ROWS}) r USING (id) WHERE s.name = r.name AND s.amount = r.amount AND s.ts = r.ts AND s.tags = r.tags AND s.info = r.info`,
    );
    assert.equal(Number(viaScan[0]?.n), 20000);
    const ids = await env.duck.all<{ name: string; field_id: number | null }>(
      `SELECT DISTINCT name, field_id FROM parquet_schema(${JSON.stringify(paths).replace(/"/g, "'")}) WHERE name <> 'duckdb_schema' ORDER BY field_id`,
    );
    const byName = Object.fromEntries(
      ids.filter((x) => x.field_id !== null).map((x) => [x.name, Number(x.field_id)]),
    );
    assert.equal(byName.id, 1);
    assert.equal(byName.raw, 9);
    const tags = table.schema().fields.find((f) => f.name === 'tags')!.type as { 'element-id': number };
    assert.equal(byName.element, tags['element-id']);
    assert.equal(byName.a, 13);
    assert.equal(byName.b, 14);
  });

  test('manifest metrics match SQL over each file', async () => {
    const snap = table.currentSnapshot();
    assert.ok(snap);
    const list = decodeManifestList(await env.store.getBytes(table.io.keyOf(snap['manifest-list'])));
    assert.equal(list.files.length, 1);
    const mf = list.files[0]!;
    const { entries } = decodeManifest(await env.store.getBytes(table.io.keyOf(mf.manifest_path)), mf);
    const schema = table.schema();
    for (const e of entries) {
      const f = e.data_file;
      assert.equal(e.status, 1);
      assert.equal(e.snapshot_id, snap['snapshot-id']);
      const local = await table.io.localPath(f.file_path);
      const [stats] = await env.duck.all<Record<string, unknown>>(
        `SELECT count(*) AS n, min(id) AS id_lo, max(id) AS id_hi, count(*) - count(qty) AS qty_nulls, min(qty) AS qty_lo, max(qty) AS qty_hi,
          min(name) AS name_lo, max(name) AS name_hi, CAST(min(amount) AS VARCHAR) AS amount_lo, epoch_us(max(ts)) AS ts_hi,
          CAST(min(day) - DATE '1970-01-01' AS INTEGER) AS day_lo, min(score) AS score_lo
         FROM read_parquet('${local}')`,
      );
      assert.ok(stats);
      assert.equal(f.record_count, Number(stats.n));
      const bound = (fid: number, side: 'lower' | 'upper') => {
        const field = schema.fields.find((x) => x.id === fid)!;
        const b = (side === 'lower' ? f.lower_bounds : f.upper_bounds)?.get(fid);
        assert.ok(b, `bound ${side} of ${field.name}`);
        return fromBinary(field.type as PrimitiveType, b);
      };
      assert.equal(bound(1, 'lower'), stats.id_lo);
      assert.equal(bound(1, 'upper'), stats.id_hi);
      assert.equal(bound(4, 'lower'), stats.qty_lo);
      assert.equal(bound(4, 'upper'), stats.qty_hi);
      assert.equal(bound(2, 'lower'), stats.name_lo);
      assert.equal(bound(2, 'upper'), stats.name_hi);
      assert.equal(bound(5, 'lower'), BigInt(String(stats.amount_lo).replace('.', '')));
      assert.equal(bound(7, 'upper'), stats.ts_hi);
      assert.equal(bound(6, 'lower'), stats.day_lo);
      assert.equal(bound(3, 'lower'), stats.score_lo);
      assert.equal(f.null_value_counts?.get(4), Number(stats.qty_nulls));
      assert.equal(f.null_value_counts?.get(1), 0);
      assert.equal(f.value_counts?.get(1), f.record_count);
      const element = (schema.fields.find((x) => x.name === 'tags')!.type as { 'element-id': number })[
        'element-id'
      ];
      assert.equal(f.value_counts?.get(element), f.record_count * 2);
      assert.equal(f.lower_bounds?.get(element), undefined, 'no bounds inside lists');
      assert.ok((f.column_sizes?.get(2) ?? 0) > 0);
    }
  });

  test('metadata written by the catalog validates', async () => {
    const text = (await env.store.getBytes(table.io.keyOf(table.loaded.metadataLocation))).toString();
    const md = parseTableMetadata(text);
    validateTableMetadata(parseJson(text));
    assert.equal(md.snapshots.length, 1);
  });

  test('empty table scan gives the right columns and no rows', async () => {
    const other = { namespace: ['shop'], name: 'empty' };
    await env.catalog.createTable(other, SCHEMA);
    const t = await openTable(env.catalog, env.store, env.duck, other);
    const rows = await env.duck.all(`DESCRIBE ${t.scanSql(await t.planScan())}`);
    assert.deepEqual(
      rows.map((r) => [r.column_name, r.column_type]),
      [
        ['id', 'BIGINT'],
        ['name', 'VARCHAR'],
        ['score', 'DOUBLE'],
        ['qty', 'INTEGER'],
        ['amount', 'DECIMAL(12,2)'],
        ['day', 'DATE'],
        ['ts', 'TIMESTAMP WITH TIME ZONE'],
        ['flag', 'BOOLEAN'],
        ['raw', 'BLOB'],
      ],
    );
    assert.equal((await env.duck.all(t.scanSql(await t.planScan()))).length, 0);
  });
});
