import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  evalPredicate,
  humanPartitionValue,
  partitionDataFor,
  partitionPath,
  partitionType,
  projectPredicate,
} from '../../src/table/partition.js';
import {
  applyTransform,
  canTransform,
  parseTransform,
  transformResultType,
  transformToString,
} from '../../src/table/transforms.js';
import type { PartitionSpec, Schema } from '../../src/table/types.js';
import { InvalidInputError } from '../../src/util/index.js';

const ts = (s: string) => s;

describe('transforms', () => {
  test('parse and print', () => {
    for (const t of ['identity', 'bucket[16]', 'truncate[4]', 'year', 'month', 'day', 'hour', 'void']) {
      assert.equal(transformToString(parseTransform(t)), t);
    }
    assert.deepEqual(parseTransform('bucket[ 8 ]'), { kind: 'bucket', n: 8 });
    assert.deepEqual(parseTransform('zorder'), { kind: 'unknown', text: 'zorder' });
    assert.throws(() => parseTransform('bucket[0]'), InvalidInputError);
  });

  test('result types and applicability', () => {
    assert.equal(transformResultType('day', 'timestamp'), 'date');
    assert.equal(transformResultType('day', 'date'), 'date');
    assert.equal(transformResultType('bucket[4]', 'string'), 'int');
    assert.equal(transformResultType('truncate[4]', 'decimal(9,2)'), 'decimal(9,2)');
    assert.equal(transformResultType('void', 'string'), 'string');
    assert.equal(transformResultType('identity', 'uuid'), 'uuid');
    assert.ok(!canTransform('hour', 'date'));
    assert.ok(!canTransform('bucket[2]', 'double'));
    assert.ok(!canTransform('truncate[2]', 'uuid'));
    assert.throws(
      () => transformResultType('year', 'string'),
      /transform year cannot be applied to type string/,
    );
  });

  test('time transforms count from 1970 and floor pre-epoch values', () => {
    const cases: [string, string, number, number, number, number][] = [
      // value, year, month, day, hour
      ['timestamp', ts('1970-01-01T00:00:00'), 0, 0, 0, 0],
      ['timestamp', ts('1969-12-31T23:59:59.999999'), -1, -1, -1, -1],
      ['timestamp', ts('1969-01-01T00:00:00'), -1, -12, -365, -8760],
      ['timestamp', ts('2017-11-16T22:31:08'), 47, 574, 17486, 419686],
      ['timestamptz', ts('2017-11-16T14:31:08-08:00'), 47, 574, 17486, 419686],
      ['timestamp', ts('1900-03-01T05:00:00'), -70, -838, -25508, -612187],
    ];
    for (const [type, value, y, m, d, h] of cases) {
      const t = type as 'timestamp';
      assert.deepEqual(
        ['year', 'month', 'day', 'hour'].map((x) => applyTransform(x, t, value)),
        [y, m, d, h],
        `${type} ${value}`,
      );
    }
    assert.equal(applyTransform('day', 'date', '1969-12-31'), -1);
    assert.equal(applyTransform('month', 'date', '1969-12-31'), -1);
    assert.equal(applyTransform('year', 'date', '2024-02-29'), 54);
  });

  test('truncate: positive remainders, decimals by unscaled width, strings by code point', () => {
    assert.equal(applyTransform('truncate[10]', 'int', 1), 0);
    assert.equal(applyTransform('truncate[10]', 'int', -1), -10);
    assert.equal(applyTransform('truncate[10]', 'int', -10), -10);
    assert.equal(applyTransform('truncate[10]', 'long', -11n), -20n);
    assert.equal(applyTransform('truncate[50]', 'decimal(9,2)', '10.65'), 1050n);
    assert.equal(applyTransform('truncate[50]', 'decimal(9,2)', '-0.05'), -50n);
    assert.equal(applyTransform('truncate[3]', 'string', 'iceberg'), 'ice');
    assert.equal(applyTransform('truncate[2]', 'string', '😀a😀'), '😀a');
    assert.equal(applyTransform('truncate[2]', 'string', 'é'), 'é');
    assert.deepEqual(
      [...(applyTransform('truncate[3]', 'binary', Buffer.from([1, 2, 3, 4, 5])) as Buffer)],
      [1, 2, 3],
    );
  });

  test('bucket, identity, void and null input', () => {
    assert.equal(applyTransform('bucket[16]', 'int', 34), (2017239379 & 0x7fffffff) % 16);
    assert.equal(applyTransform('bucket[100]', 'string', 'iceberg'), 1210000089 % 100);
    assert.equal(applyTransform('bucket[7]', 'decimal(4,2)', '14.20'), (-500754589 & 0x7fffffff) % 7);
    assert.equal(applyTransform('identity', 'long', 5), 5n);
    assert.equal(applyTransform('void', 'int', 5), null);
    assert.equal(applyTransform('bucket[4]', 'string', null), null);
    assert.equal(applyTransform('day', 'timestamp', undefined), null);
  });
});

const schema: Schema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'ts', required: false, type: 'timestamptz' },
    { id: 3, name: 'name', required: false, type: 'string' },
    { id: 4, name: 'price', required: false, type: 'decimal(9,2)' },
  ],
};
const spec: PartitionSpec = {
  'spec-id': 0,
  fields: [
    { 'source-id': 2, 'field-id': 1000, name: 'ts_day', transform: 'day' },
    { 'source-id': 1, 'field-id': 1001, name: 'id_bucket', transform: 'bucket[16]' },
    { 'source-id': 3, 'field-id': 1002, name: 'name', transform: 'identity' },
    { 'source-id': 2, 'field-id': 1003, name: 'ts_hour', transform: 'hour' },
    { 'source-id': 4, 'field-id': 1004, name: 'price_trunc', transform: 'truncate[100]' },
  ],
};

describe('partitions', () => {
  test('partition type uses partition field ids and result types', () => {
    assert.deepEqual(
      partitionType(spec, schema).fields.map((f) => [f.id, f.name, f.type, f.required]),
      [
        [1000, 'ts_day', 'date', false],
        [1001, 'id_bucket', 'int', false],
        [1002, 'name', 'string', false],
        [1003, 'ts_hour', 'int', false],
        [1004, 'price_trunc', 'decimal(9,2)', false],
      ],
    );
  });

  test('partition path with human values and URL escaping', () => {
    const row: Record<number, unknown> = { 1: 34n, 2: '2024-01-02T10:15:00Z', 3: 'a b/c&é', 4: '12.34' };
    const data = partitionDataFor(spec, schema, (id) => row[id]);
    assert.equal(
      partitionPath(spec, schema, data),
      `ts_day=2024-01-02/id_bucket=${(2017239379 & 0x7fffffff) % 16}/name=a+b%2Fc%26%C3%A9/ts_hour=2024-01-02-10/price_trunc=12.00`,
    );
    assert.equal(
      partitionPath(spec, schema, {}),
      'ts_day=null/id_bucket=null/name=null/ts_hour=null/price_trunc=null',
    );
  });

  test('human strings of each transform', () => {
    assert.equal(humanPartitionValue('year', 'int', -1), '1969');
    assert.equal(humanPartitionValue('month', 'int', -1), '1969-12');
    assert.equal(humanPartitionValue('month', 'int', 574), '2017-11');
    assert.equal(humanPartitionValue('hour', 'int', -1), '1969-12-31-23');
    assert.equal(humanPartitionValue('identity', 'timestamp', 1510871468000000n), '2017-11-16T22:31:08');
    assert.equal(
      humanPartitionValue('identity', 'timestamptz', 1510871468000001n),
      '2017-11-16T22:31:08.000001Z',
    );
    assert.equal(humanPartitionValue('identity', 'binary', Buffer.from('hi')), 'aGk=');
    assert.equal(humanPartitionValue('identity', 'boolean', true), 'true');
  });

  test('inclusive projection of predicates', () => {
    const d = (s: string) => applyTransform('day', 'timestamp', s);
    assert.deepEqual(projectPredicate('day', 'timestamp', { op: '>', value: '2024-01-02T00:00:00' }), {
      op: '>=',
      value: d('2024-01-02T00:00:00.000001'),
    });
    assert.deepEqual(projectPredicate('day', 'timestamp', { op: '<', value: '2024-01-02T00:00:00' }), {
      op: '<=',
      value: d('2024-01-01T00:00:00'),
    });
    assert.deepEqual(projectPredicate('day', 'timestamp', { op: '=', value: '2024-01-02T05:00:00' }), {
      op: '=',
      value: 19724,
    });
    assert.deepEqual(projectPredicate('day', 'timestamp', { op: '<=', value: '1969-12-30T12:00:00' }), {
      op: '<=',
      value: -1,
    });
    assert.deepEqual(projectPredicate('bucket[16]', 'long', { op: '=', value: 34 }), {
      op: '=',
      value: (2017239379 & 0x7fffffff) % 16,
    });
    assert.equal(projectPredicate('bucket[16]', 'long', { op: '<', value: 34 }), true);
    assert.deepEqual(projectPredicate('truncate[10]', 'int', { op: '<', value: 20 }), {
      op: '<=',
      value: 10,
    });
    assert.deepEqual(projectPredicate('truncate[10]', 'int', { op: '>', value: 19 }), {
      op: '>=',
      value: 20,
    });
    assert.deepEqual(projectPredicate('truncate[3]', 'string', { op: '<', value: 'abcd' }), {
      op: '<=',
      value: 'abc',
    });
    assert.deepEqual(projectPredicate('identity', 'long', { op: 'in', values: [1, 2] }), {
      op: 'in',
      values: [1n, 2n],
    });
    assert.deepEqual(projectPredicate('year', 'date', { op: 'is-null' }), { op: 'is-null' });
    assert.equal(projectPredicate('void', 'int', { op: 'not-null' }), true);
    assert.deepEqual(projectPredicate('identity', 'int', { op: '!=', value: 3 }), { op: '!=', value: 3 });
    assert.equal(projectPredicate('day', 'timestamp', { op: '!=', value: 3 }), true);
  });

  test('projection keeps every partition that holds a matching row', () => {
    const values = [
      '1969-12-31T23:00:00',
      '1970-01-01T00:00:00',
      '2024-03-01T12:00:00',
      '2023-12-31T23:59:59.999999',
    ];
    for (const t of ['year', 'month', 'day', 'hour']) {
      for (const op of ['<', '<=', '>', '>=', '='] as const) {
        for (const bound of values) {
          const projected = projectPredicate(t, 'timestamp', { op, value: bound });
          for (const v of values) {
            const rowMatches = evalPredicate(
              { op, value: bound },
              'timestamp',
              applyTransform('identity', 'timestamp', v),
            );
            if (rowMatches)
              assert.ok(
                evalPredicate(projected, 'int', applyTransform(t, 'timestamp', v)),
                `${t} ${op} ${bound} keeps ${v}`,
              );
          }
        }
      }
    }
  });
});
