import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdbFieldIds, duckdbToIcebergType, icebergToDuckdbType } from '../../src/table/duckdb-types.js';
import { assignFreshIds } from '../../src/table/schema.js';
import type { IcebergType, StructType } from '../../src/table/types.js';
import { InvalidInputError } from '../../src/util/index.js';
import { openDuckdb } from './duckdb-helper.js';

const sample: StructType = {
  type: 'struct',
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'weird "name"', required: false, type: 'string' },
    {
      id: 3,
      name: 's',
      required: false,
      type: {
        type: 'struct',
        fields: [
          { id: 4, name: 'x', required: false, type: 'decimal(18,3)' },
          {
            id: 5,
            name: 'y',
            required: false,
            type: { type: 'list', 'element-id': 6, element: 'int', 'element-required': false },
          },
        ],
      },
    },
    {
      id: 7,
      name: 'l',
      required: false,
      type: {
        type: 'list',
        'element-id': 8,
        'element-required': false,
        element: { type: 'struct', fields: [{ id: 9, name: 'q', required: false, type: 'timestamptz' }] },
      },
    },
    {
      id: 10,
      name: 'm',
      required: false,
      type: {
        type: 'map',
        'key-id': 11,
        key: 'string',
        'value-id': 12,
        value: 'uuid',
        'value-required': false,
      },
    },
  ],
};

describe('DuckDB type mapping', () => {
  test('Iceberg → DuckDB', () => {
    const cases: [IcebergType, string][] = [
      ['boolean', 'BOOLEAN'],
      ['int', 'INTEGER'],
      ['long', 'BIGINT'],
      ['float', 'FLOAT'],
      ['double', 'DOUBLE'],
      ['decimal(18,3)', 'DECIMAL(18,3)'],
      ['date', 'DATE'],
      ['time', 'TIME'],
      ['timestamp', 'TIMESTAMP'],
      ['timestamptz', 'TIMESTAMP WITH TIME ZONE'],
      ['string', 'VARCHAR'],
      ['uuid', 'UUID'],
      ['fixed[16]', 'BLOB'],
      ['binary', 'BLOB'],
    ];
    for (const [t, sql] of cases) assert.equal(icebergToDuckdbType(t), sql);
    assert.equal(
      icebergToDuckdbType(sample),
      'STRUCT("id" BIGINT, "weird ""name""" VARCHAR, "s" STRUCT("x" DECIMAL(18,3), "y" INTEGER[]), "l" STRUCT("q" TIMESTAMP WITH TIME ZONE)[], "m" MAP(VARCHAR, UUID))',
    );
  });

  test('DuckDB → Iceberg', () => {
    const cases: [string, IcebergType][] = [
      ['BIGINT', 'long'],
      ['VARCHAR', 'string'],
      ['DECIMAL(18,3)', 'decimal(18,3)'],
      ['DECIMAL', 'decimal(18,3)'],
      ['TIMESTAMP WITH TIME ZONE', 'timestamptz'],
      ['TIMESTAMPTZ', 'timestamptz'],
      ['TIMESTAMP', 'timestamp'],
      ['UUID', 'uuid'],
      ['BLOB', 'binary'],
      ['DATE', 'date'],
      ['TIME', 'time'],
      ['BOOLEAN', 'boolean'],
      ['FLOAT', 'float'],
      ['DOUBLE', 'double'],
      ['INTEGER', 'int'],
      ['SMALLINT', 'int'],
      ['TINYINT', 'int'],
      ['UINTEGER', 'long'],
      ['HUGEINT', 'decimal(38,0)'],
    ];
    for (const [sql, t] of cases) assert.deepEqual(duckdbToIcebergType(sql), t, sql);
    assert.deepEqual(duckdbToIcebergType('INTEGER[]'), {
      type: 'list',
      'element-id': 1,
      element: 'int',
      'element-required': false,
    });
    assert.deepEqual(duckdbToIcebergType('MAP(VARCHAR, DOUBLE)'), {
      type: 'map',
      'key-id': 1,
      key: 'string',
      'value-id': 2,
      value: 'double',
      'value-required': false,
    });
    const nested = duckdbToIcebergType('STRUCT("a b" INTEGER, c STRUCT(d VARCHAR[]), e LIST(DATE))');
    assert.equal(icebergToDuckdbType(nested), 'STRUCT("a b" INTEGER, "c" STRUCT("d" VARCHAR[]), "e" DATE[])');
    assert.throws(() => duckdbToIcebergType('INTERVAL'), InvalidInputError);
    assert.throws(() => duckdbToIcebergType('UNION(a INTEGER, b VARCHAR)'), /UNION/);
    assert.throws(() => duckdbToIcebergType('TIMESTAMP_NS'), /format v3/);
  });

  test('round trip through the names DuckDB itself reports', () => {
    const schema = assignFreshIds(sample, 0).schema;
    const back = duckdbToIcebergType(icebergToDuckdbType(schema));
    assert.equal(icebergToDuckdbType(back), icebergToDuckdbType(schema));
  });
});

describe('FIELD_IDS for DuckDB Parquet writes', () => {
  let conn: DuckDBConnection;
  let dir: string;
  before(async () => {
    conn = await openDuckdb();
    dir = mkdtempSync(join(tmpdir(), 'sluice-table-'));
  });
  after(() => {
    conn.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });

  test('nested field ids reach the Parquet schema', async () => {
    assert.equal(
      duckdbFieldIds(sample),
      '{"id": 1, "weird ""name""": 2, "s": {__duckdb_field_id: 3, "x": 4, "y": {__duckdb_field_id: 5, "element": 6}}, "l": {__duckdb_field_id: 7, "element": {__duckdb_field_id: 8, "q": 9}}, "m": {__duckdb_field_id: 10, "key": 11, "value": 12}}',
    );
    const file = join(dir, 'f.parquet');
    const cols = sample.fields.map(
      (f) => `CAST(NULL AS ${icebergToDuckdbType(f.type)}) AS "${f.name.replace(/"/g, '""')}"`,
    );
    await conn.run(
      `COPY (SELECT ${cols.join(', ')}) TO '${file}' (FORMAT parquet, FIELD_IDS ${duckdbFieldIds(sample)})`,
    );
    const rows = (
      await conn.runAndReadAll(
        `SELECT name, field_id FROM parquet_schema('${file}') WHERE field_id IS NOT NULL`,
      )
    ).getRows();
    assert.deepEqual(
      rows.map(([n, id]) => [n, Number(id)]),
      [
        ['id', 1],
        ['weird "name"', 2],
        ['s', 3],
        ['x', 4],
        ['y', 5],
        ['element', 6],
        ['l', 7],
        ['element', 8],
        ['q', 9],
        ['m', 10],
        ['key', 11],
        ['value', 12],
      ],
    );
  });
});
