import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DuckDBConnection } from '@duckdb/node-api';
import { formatDecimal } from '../../src/table/decimal.js';
import { icebergToDuckdbType } from '../../src/table/duckdb-types.js';
import { decimalParams } from '../../src/table/primitives.js';
import { daysToDateString, microsToTimeString, microsToTimestampString } from '../../src/table/temporal.js';
import { applyTransform } from '../../src/table/transforms.js';
import { partitionValueSqlExpr, transformSqlExpr } from '../../src/table/transforms-sql.js';
import type { PrimitiveType, PrimitiveValue } from '../../src/table/types.js';
import { coerceValue, toBinary } from '../../src/table/values.js';
import { openDuckdb, plain } from './duckdb-helper.js';

function literal(type: PrimitiveType, value: PrimitiveValue | null): string {
  const sqlType = icebergToDuckdbType(type);
  if (value === null) return `CAST(NULL AS ${sqlType})`;
  switch (type.replace(/[([].*/, '')) {
    case 'date':
      return `DATE '${daysToDateString(value as number)}'`;
    case 'time':
      return `TIME '${microsToTimeString(value as bigint)}'`;
    case 'timestamp':
      return `TIMESTAMP '${microsToTimestampString(value as bigint, false)}'`;
    case 'timestamptz':
      return `TIMESTAMPTZ '${microsToTimestampString(value as bigint, true)}'`;
    case 'decimal':
      return `CAST('${formatDecimal(value as bigint, decimalParams(type).scale)}' AS ${sqlType})`;
    case 'string':
      return `'${(value as string).replace(/'/g, "''")}'`;
    case 'uuid':
      return `UUID '${value}'`;
    case 'binary':
    case 'fixed':
      return `unhex('${Buffer.from(value as Uint8Array).toString('hex')}')`;
    default:
      return `CAST(${String(value)} AS ${sqlType})`;
  }
}

const edge: Record<string, unknown[]> = {
  int: [0, 1, -1, 9, -9, 10, -10, 34, 2147483647, -2147483640, null],
  long: [0n, -1n, 1n, -11n, 9223372036854775800n, -9223372036854775800n, 34n, null],
  'decimal(9,2)': ['10.65', '-10.65', '0.00', '-0.01', '14.20', '9999999.99', null],
  'decimal(38,10)': ['1234567890123456789012345678.0123456789', '-0.0000000001', null],
  date: ['1970-01-01', '1969-12-31', '1969-01-01', '1900-02-28', '2017-11-16', '2024-02-29', null],
  time: ['00:00:00', '22:31:08', '23:59:59.999999', null],
  timestamp: [
    '1970-01-01T00:00:00',
    '1969-12-31T23:59:59.999999',
    '1969-01-01T00:00:00',
    '1900-03-01T05:00:00',
    '2017-11-16T22:31:08.000001',
    null,
  ],
  timestamptz: [
    '1970-01-01T00:00:00Z',
    '1969-12-31T23:59:59.999999Z',
    '2017-11-16T14:31:08-08:00',
    '2024-03-10T02:30:00-08:00',
    '1950-06-30T23:30:00Z',
    null,
  ],
  string: ['', 'iceberg', 'a😀bé', '😀😀😀😀', "it's", null],
  uuid: ['f79c3e09-677c-4bbd-a479-3f349cb785e7', '00000000-0000-0000-0000-000000000000', null],
  binary: [Buffer.from([0, 1, 2, 3]), Buffer.alloc(0), Buffer.from([255, 254, 253, 252, 251]), null],
};

const transformsFor: Record<string, string[]> = {
  int: ['identity', 'bucket[16]', 'bucket[7]', 'truncate[10]', 'truncate[1]', 'void'],
  long: ['identity', 'bucket[16]', 'truncate[10]', 'void'],
  'decimal(9,2)': ['bucket[16]', 'truncate[50]', 'truncate[3]', 'identity'],
  'decimal(38,10)': ['bucket[16]', 'truncate[7]'],
  date: ['year', 'month', 'day', 'bucket[16]', 'identity'],
  time: ['bucket[16]', 'identity'],
  timestamp: ['year', 'month', 'day', 'hour', 'bucket[16]'],
  timestamptz: ['year', 'month', 'day', 'hour', 'bucket[16]'],
  string: ['truncate[2]', 'truncate[3]', 'bucket[16]', 'identity'],
  uuid: ['bucket[16]', 'identity'],
  binary: ['truncate[3]', 'bucket[16]'],
};

/** A comparable text for a transform result, from JS or from DuckDB. */
function show(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`;
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

describe('transform SQL matches the JS transforms', () => {
  let conn: DuckDBConnection;
  before(async () => {
    conn = await openDuckdb();
  });
  after(() => conn.closeSync());

  for (const [type, values] of Object.entries(edge)) {
    test(`${type}: ${transformsFor[type]?.join(', ')}`, async () => {
      const t = type as PrimitiveType;
      const typed = values.map((v) => (v === null ? null : coerceValue(t, v)));
      const rows = typed.map((v) => `(${literal(t, v)})`).join(', ');
      const exprs = (transformsFor[type] ?? []).map((tr, i) => `${transformSqlExpr(tr, '"c"', t)} AS r${i}`);
      const reader = await conn.runAndReadAll(`SELECT ${exprs.join(', ')} FROM (VALUES ${rows}) AS v("c")`);
      const got = reader.getRows();
      let compared = 0;
      typed.forEach((v, row) => {
        (transformsFor[type] ?? []).forEach((tr, i) => {
          const expected = applyTransform(tr, t, v);
          const actual = plain(got[row]?.[i]);
          const isUuid = t === 'uuid' && tr === 'identity' && actual !== null;
          const shownActual = isUuid ? JSON.stringify(String(actual)) : show(actual);
          assert.equal(shownActual, show(expected), `${type} ${tr}(${String(values[row])})`);
          if (expected !== null) compared++;
        });
      });
      assert.ok(compared >= typed.length, 'non-null results were compared');
    });
  }

  test('partition values in their in-memory representation', async () => {
    const cases: [string, PrimitiveType, string, unknown][] = [
      ['identity', 'date', "DATE '1969-12-31'", -1],
      ['identity', 'time', "TIME '00:00:01.5'", 1_500_000n],
      ['identity', 'timestamp', "TIMESTAMP '1969-12-31 23:59:59.999999'", -1n],
      ['identity', 'timestamptz', "TIMESTAMPTZ '2017-11-16 14:31:08-08:00'", 1510871468000000n],
      [
        'identity',
        'uuid',
        "UUID 'f79c3e09-677c-4bbd-a479-3f349cb785e7'",
        'f79c3e09-677c-4bbd-a479-3f349cb785e7',
      ],
      ['day', 'timestamptz', "TIMESTAMPTZ '1969-12-31 23:59:59+00'", -1],
      ['identity', 'decimal(9,2)', "CAST('-1.05' AS DECIMAL(9,2))", -105n],
      ['void', 'date', "DATE '2020-01-01'", null],
    ];
    for (const [tr, type, sql, expected] of cases) {
      const r = await conn.runAndReadAll(`SELECT ${partitionValueSqlExpr(tr, sql, type)}`);
      assert.deepEqual(plain(r.getRows()[0]?.[0]), expected, `${tr} ${type}`);
      assert.deepEqual(
        applyTransform(tr, type, expected === null ? null : applyTransform('identity', type, expected)),
        expected,
      );
    }
  });

  test('bucket UDF and spec vector agree through SQL', async () => {
    const r = await conn.runAndReadAll(
      `SELECT ${transformSqlExpr('bucket[1000000]', "'iceberg'", 'string')}, ${transformSqlExpr('bucket[2147483647]', '34', 'int')}`,
    );
    assert.deepEqual(r.getRows()[0], [1210000089 % 1000000, 2017239379 % 2147483647]);
    assert.equal(toBinary('int', 34).length, 4);
  });
});
