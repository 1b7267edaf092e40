import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type DataFile,
  fileRange,
  fromBinary,
  metricsMayMatch,
  openTable,
  parseFilter,
  type Table,
} from '../../src/table/index.js';
import { type Env, openEnv, schemaOf } from './table-helpers.js';

/** File 0: ordinary values only. File 1: NaN, ±Infinity, -0.0 and NULL besides ordinary values. */
const FILES = [
  `SELECT i AS id, i * 0.5 AS d, (i * 0.25)::FLOAT AS f, {'x': i * 1.0} AS s FROM range(100) t(i)`,
  `SELECT * FROM (VALUES (1000, 'NaN'::DOUBLE, 'NaN'::FLOAT, {'x': 'NaN'::DOUBLE}), (1001, 'Infinity'::DOUBLE, '-Infinity'::FLOAT, {'x': 1.0}),
     (1002, '-Infinity'::DOUBLE, 2.5::FLOAT, {'x': NULL}), (1003, -0.0::DOUBLE, 'NaN'::FLOAT, {'x': 2.0}), (1004, NULL, NULL, NULL)) t(id, d, f, s)`,
];

describe('float and double columns holding NaN and infinities', () => {
  let env: Env;
  let table: Table;
  let files: DataFile[];

  before(async () => {
    env = await openEnv();
    const schema = schemaOf([
      ['id', 'long', true],
      ['d', 'double'],
      ['f', 'float'],
    ]);
    schema.fields.push({
      id: 4,
      name: 's',
      required: false,
      type: { type: 'struct', fields: [{ id: 5, name: 'x', required: false, type: 'double' }] },
    });
    await env.catalog.createTable({ namespace: ['t'], name: 'floats' }, schema);
    table = await openTable(env.catalog, env.store, env.duck, { namespace: ['t'], name: 'floats' });
    for (const sql of FILES) await table.append(sql);
    files = (await table.planScan()).files.map((f) => f.file).sort((a, b) => a.record_count - b.record_count);
  });
  after(() => env?.close());

  const ids = () => {
    const schema = table.schema();
    const leaf = (name: string) => schema.fields.find((f) => f.name === name)?.id as number;
    const s = schema.fields.find((f) => f.name === 's')?.type as { fields: { id: number }[] };
    return { d: leaf('d'), f: leaf('f'), x: s.fields[0]?.id as number };
  };

  test('NaN counts are written and bounds never hold NaN', () => {
    const { d, f, x } = ids();
    const [withNan, plain] = files as [DataFile, DataFile];
    assert.equal(withNan.record_count, 5);
    assert.deepEqual(
      [...(withNan.nan_value_counts ?? new Map())].sort(),
      [
        [d, 1],
        [f, 2],
        [x, 1],
      ].sort(),
    );
    assert.deepEqual(
      [...(plain.nan_value_counts ?? new Map())].sort(),
      [
        [d, 0],
        [f, 0],
        [x, 0],
      ].sort(),
    );
    const bound = (file: DataFile, id: number, type: 'double' | 'float', which: 'lower' | 'upper') => {
      const b = (which === 'lower' ? file.lower_bounds : file.upper_bounds)?.get(id);
      return b ? fromBinary(type, b) : undefined;
    };
    assert.equal(bound(withNan, d, 'double', 'lower'), -Infinity);
    assert.equal(bound(withNan, d, 'double', 'upper'), Infinity);
    assert.equal(bound(withNan, f, 'float', 'lower'), -Infinity);
    assert.equal(bound(withNan, f, 'float', 'upper'), 2.5);
    assert.equal(bound(withNan, x, 'double', 'lower'), 1);
    assert.equal(bound(withNan, x, 'double', 'upper'), 2);
    assert.equal(bound(plain, d, 'double', 'upper'), 49.5);
  });

  test('filters prune no file holding matching NaN, infinity or -0.0 rows', async () => {
    const all = table.scanSql(await table.planScan());
    for (const filter of [
      'd > 1000',
      'd >= 49.5',
      'f > 3',
      "d = 'NaN'::DOUBLE",
      'd < -1000',
      'd <= -0.0',
      'd = 0',
      's.x > 10',
      'd IS NULL',
    ]) {
      const plan = await table.planScan({ filter });
      const [pruned] = await env.duck.all<{ n: bigint }>(
        `SELECT count(*) AS n FROM (${table.scanSql(plan)})`,
      );
      const [full] = await env.duck.all<{ n: bigint }>(`SELECT count(*) AS n FROM (${all}) WHERE ${filter}`);
      assert.equal(pruned?.n, full?.n, filter);
      assert.ok((full?.n ?? 0n) > 0n, `${filter} matches rows`);
    }
    const plan = await table.planScan({ filter: 'f > 100' });
    assert.equal(plan.files.length, 1, 'the file without NaN in f is still pruned');
  });

  test('files of other writers without NaN counts keep no upper bound on floats', () => {
    const schema = table.schema();
    const { d } = ids();
    const plain = files[1] as DataFile;
    const unknown: DataFile = { ...plain, nan_value_counts: null };
    const [pred] = parseFilter('d > 100', schema).predicates;
    assert.ok(pred);
    assert.equal(metricsMayMatch(plain, [pred]), false);
    assert.equal(metricsMayMatch(unknown, [pred]), true);
    assert.equal(fileRange(unknown, d, 'double').upper, undefined);
    assert.ok(Object.is(fileRange(plain, d, 'double').lower, -0));
  });
});
