import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Duck, openDuck } from '../../src/duck/index.js';
import {
  collectMetrics,
  duckdbFieldIds,
  duckdbToIcebergType,
  type FileMetrics,
  fromBinary,
  type NestedField,
} from '../../src/table/index.js';
import { type CopyStatsRow, metricsFromCopyStats } from '../../src/table/metrics.js';
import type { PrimitiveType, StructType } from '../../src/table/types.js';

/**
 * 300 rows in row groups of 100: a NaN only in the second group, infinities, strings longer
 * than the 256 bytes DuckDB keeps of string statistics, multi-byte characters, nested and
 * all-NULL columns.
 */
const ROWS = `SELECT
    i::INTEGER AS i32, (i * 1000000007)::BIGINT AS i64,
    CASE WHEN i = 150 THEN 'NaN'::FLOAT ELSE (i * 0.5)::FLOAT END AS f,
    CASE WHEN i = 7 THEN '-Infinity'::DOUBLE ELSE i / 3 END AS d,
    (i * 1.25)::DECIMAL(9,2) AS dec, (i * 123456.789)::DECIMAL(38,6) AS big_dec,
    DATE '1969-12-25' + i::INTEGER AS day, TIME '00:00:01.5' + to_seconds(i) AS tod,
    TIMESTAMP '1999-12-31 23:59:59.999999' + to_seconds(i) AS ts,
    TIMESTAMPTZ '2020-02-29 12:00:00+00' + to_seconds(i * 3600) AS tstz,
    'k' || lpad(i::VARCHAR, 3, '0') AS s,
    repeat('x', 300) || lpad(i::VARCHAR, 3, '0') AS long_s, 'ü' || i AS utf8,
    ('00000000-0000-0000-0000-' || lpad(i::VARCHAR, 12, '0'))::UUID AS u,
    i % 2 = 0 AS flag, [i, i + 1] AS xs, {'a': i, 'b': 'x' || i} AS st, MAP {'k': i} AS m,
    NULL::INTEGER AS nothing
  FROM range(300) t(i)`;

/** The Iceberg schema of a query's columns, field ids from 1. */
async function schemaOfQuery(duck: Duck, sql: string): Promise<StructType> {
  const described = await duck.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sql}`);
  let next = 0;
  const fields: NestedField[] = described.map((c) => {
    const id = ++next;
    return {
      id,
      name: c.column_name,
      required: false,
      type: duckdbToIcebergType(c.column_type, () => ++next),
    };
  });
  return { type: 'struct', fields };
}

const sorted = <K, V>(m: Map<K, V>) => [...m].sort((a, b) => Number(a[0]) - Number(b[0]));

describe('column metrics from the statistics COPY returns', () => {
  let duck: Duck;
  let dir: string;

  before(async () => {
    duck = await openDuck();
    dir = await mkdtemp(join(tmpdir(), 'sluice-metrics-'));
  });
  after(async () => {
    await duck?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Write `sql` like the table writer does and return what COPY reported. */
  async function write(sql: string, schema: StructType, target: string): Promise<CopyStatsRow[]> {
    return duck.all<CopyStatsRow>(
      `COPY (${sql}) TO '${join(dir, target)}' (FORMAT parquet, FIELD_IDS ${duckdbFieldIds(schema)},
        ROW_GROUP_SIZE 100, FILENAME_PATTERN 'part_{uuid}', FILE_SIZE_BYTES 100000000, RETURN_STATS)`,
    );
  }

  test('equal those read back from the file footers, for every supported type', async () => {
    const schema = await schemaOfQuery(duck, `(${ROWS})`);
    const rows = await write(ROWS, schema, 'all');
    assert.equal(rows.length, 1);
    const fast = await duck.withConnection((c) => metricsFromCopyStats(c, rows, schema));
    assert.ok(fast, 'every column type of the query is read from the statistics');
    const file = rows[0]?.filename as string;
    const slow = await duck.withConnection((c) => collectMetrics(c, [file], schema));
    const a = fast.get(file) as FileMetrics;
    const b = slow.get(file) as FileMetrics;
    assert.equal(a.recordCount, 300);
    assert.equal(a.recordCount, b.recordCount);
    assert.deepEqual(sorted(a.valueCounts), sorted(b.valueCounts));
    assert.deepEqual(sorted(a.nullValueCounts), sorted(b.nullValueCounts));
    assert.deepEqual(sorted(a.nanValueCounts), sorted(b.nanValueCounts));
    assert.deepEqual(sorted(a.lowerBounds), sorted(b.lowerBounds));
    // The footers hold a truncated maximum of long strings, which bounds nothing; COPY's
    // statistics keep a 256-byte prefix, enough for a 16-character upper bound.
    const longId = schema.fields.find((f) => f.name === 'long_s')?.id;
    const withoutLong = (m: Map<number, Uint8Array>) => sorted(m).filter(([k]) => k !== longId);
    assert.deepEqual(withoutLong(a.upperBounds), withoutLong(b.upperBounds));
    assert.equal(b.upperBounds.get(longId as number), undefined);
    assert.deepEqual([...a.columnSizes.keys()].sort(), [...b.columnSizes.keys()].sort());

    const id = (name: string) => schema.fields.find((f) => f.name === name)?.id as number;
    const bound = (m: Map<number, Uint8Array>, name: string) => {
      const field = schema.fields.find((f) => f.name === name);
      const b = m.get(id(name));
      return b === undefined ? undefined : fromBinary(field?.type as PrimitiveType, b);
    };
    // NaN in one row group: counted, and left out of the bounds.
    assert.equal(a.nanValueCounts.get(id('f')), 1);
    assert.equal(bound(a.upperBounds, 'f'), 149.5);
    assert.equal(bound(a.lowerBounds, 'd'), -Infinity);
    // Long strings: 16 characters kept, the upper bound rounded up past every value.
    const low = bound(a.lowerBounds, 'long_s') as string;
    const high = bound(a.upperBounds, 'long_s') as string;
    assert.equal(low, 'x'.repeat(16));
    assert.ok(high > `${'x'.repeat(300)}299`, 'the upper bound is above the largest value');
    assert.equal(bound(a.upperBounds, 'utf8'), 'ü99');
    assert.equal(bound(a.lowerBounds, 'day'), -7);
    assert.equal(bound(a.upperBounds, 'tstz'), BigInt(Date.UTC(2020, 1, 29, 12) + 299 * 3_600_000) * 1000n);
    assert.equal(a.lowerBounds.get(id('nothing')), undefined);
    assert.equal(a.nullValueCounts.get(id('nothing')), 300);
    assert.equal(a.lowerBounds.get(id('flag')), undefined, 'booleans get no bounds');
  });

  test('leave binary columns to the footer query', async () => {
    const sql = `SELECT i AS id, ('\\x0' || (i % 10))::BLOB AS payload FROM range(10) t(i)`;
    const schema = await schemaOfQuery(duck, `(${sql})`);
    const rows = await write(sql, schema, 'binary');
    assert.equal(await duck.withConnection((c) => metricsFromCopyStats(c, rows, schema)), undefined);
  });
});
