import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareValues, truncateLowerBound, truncateUpperBound } from '../../src/table/bounds.js';
import { formatDecimal, parseDecimal } from '../../src/table/decimal.js';
import type { PrimitiveType } from '../../src/table/types.js';
import { fromBinary, fromJsonValue, toBinary, toJsonValue } from '../../src/table/values.js';
import { InvalidInputError } from '../../src/util/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('binary single-value serialization (Appendix D)', () => {
  test('known byte vectors', () => {
    const vectors: [PrimitiveType, unknown, string][] = [
      ['boolean', true, '01'],
      ['boolean', false, '00'],
      ['int', 34, '22000000'],
      ['int', -1, 'ffffffff'],
      ['long', 34n, '2200000000000000'],
      ['long', -2n, 'feffffffffffffff'],
      ['float', 1, '0000803f'],
      ['double', 1, '000000000000f03f'],
      ['date', '2017-11-16', '4e440000'],
      ['time', '22:31:08', '008307e012000000'],
      ['timestamp', '2017-11-16T22:31:08', '00c3262d215e0500'],
      ['timestamptz', '2017-11-16T14:31:08-08:00', '00c3262d215e0500'],
      ['string', 'iceberg', '69636562657267'],
      ['uuid', 'f79c3e09-677c-4bbd-a479-3f349cb785e7', 'f79c3e09677c4bbda4793f349cb785e7'],
      ['fixed[4]', Buffer.from([0, 1, 2, 3]), '00010203'],
      ['binary', Buffer.from([0, 1, 2, 255]), '000102ff'],
      ['decimal(4,2)', '14.20', '058c'],
      ['decimal(9,2)', '-0.01', 'ff'],
      ['decimal(38,0)', 128n, '0080'],
    ];
    for (const [type, value, bytes] of vectors) {
      const encoded = toBinary(type, value);
      assert.equal(hex(encoded), bytes, `${type} ${String(value)}`);
      const back = fromBinary(type, encoded);
      assert.equal(hex(toBinary(type, back)), bytes, `round trip ${type}`);
    }
  });

  test('round trips keep the in-memory representation', () => {
    assert.equal(fromBinary('long', toBinary('long', 9223372036854775807n)), 9223372036854775807n);
    assert.equal(fromBinary('int', toBinary('int', -2147483648)), -2147483648);
    assert.equal(fromBinary('date', toBinary('date', -1)), -1);
    assert.equal(fromBinary('timestamp', toBinary('timestamp', -1n)), -1n);
    assert.equal(fromBinary('decimal(10,3)', toBinary('decimal(10,3)', -123456n)), -123456n);
    assert.equal(fromBinary('string', toBinary('string', 'zß😀')), 'zß😀');
    assert.equal(
      fromBinary('uuid', toBinary('uuid', 'F79C3E09-677C-4BBD-A479-3F349CB785E7')),
      'f79c3e09-677c-4bbd-a479-3f349cb785e7',
    );
    assert.ok(Object.is(fromBinary('double', toBinary('double', -0)), -0));
  });

  test('bounds written before a promotion are read by their length', () => {
    assert.equal(fromBinary('long', toBinary('int', 7)), 7n);
    assert.equal(fromBinary('double', toBinary('float', 1.5)), 1.5);
    assert.equal(fromBinary('timestamp', toBinary('date', 1)), 86_400_000_000n);
    assert.equal(fromBinary('decimal(12,2)', toBinary('decimal(4,2)', 1420n)), 1420n);
  });

  test('bad values and lengths are rejected', () => {
    assert.throws(() => toBinary('int', 2 ** 31), InvalidInputError);
    assert.throws(() => toBinary('long', 1.5), InvalidInputError);
    assert.throws(() => toBinary('decimal(4,2)', '1.234'), /more than 2 digits/);
    assert.throws(() => fromBinary('int', Buffer.alloc(8)), /cannot read int from 8 bytes/);
    assert.throws(() => toBinary('uuid', 'nope'), /not a UUID/);
  });
});

describe('JSON single-value serialization (Appendix D)', () => {
  test('the spec examples', () => {
    const cases: [PrimitiveType, unknown, unknown][] = [
      ['boolean', true, true],
      ['int', 34, 34],
      ['long', 34n, 34],
      ['long', 9223372036854775807n, 9223372036854775807n],
      ['double', 1, 1],
      ['decimal(4,2)', 1420n, '14.20'],
      ['date', 17486, '2017-11-16'],
      ['time', 81068123456n, '22:31:08.123456'],
      ['timestamp', 1510871468123456n, '2017-11-16T22:31:08.123456'],
      ['timestamptz', 1510871468123456n, '2017-11-16T22:31:08.123456+00:00'],
      ['string', 'iceberg', 'iceberg'],
      ['uuid', 'f79c3e09-677c-4bbd-a479-3f349cb785e7', 'f79c3e09-677c-4bbd-a479-3f349cb785e7'],
      ['fixed[4]', Buffer.from([0, 1, 2, 255]), '000102ff'],
      ['binary', Buffer.from([0, 1, 2, 255]), '000102ff'],
    ];
    for (const [type, value, json] of cases) {
      assert.deepEqual(toJsonValue(type, value), json, type);
      assert.deepEqual(toJsonValue(type, fromJsonValue(type, json as never)), json, `${type} round trip`);
    }
  });

  test('decimals with negative scale and pre-epoch timestamps', () => {
    assert.equal(formatDecimal(2n, -20), '2E+20');
    assert.equal(parseDecimal('2E+20', -20), 2n);
    assert.equal(parseDecimal('-0.5', 2), -50n);
    assert.equal(toJsonValue('timestamp', -1n), '1969-12-31T23:59:59.999999');
    assert.equal(toJsonValue('date', -1), '1969-12-31');
  });

  test('struct, list and map values', () => {
    const type = {
      type: 'struct' as const,
      fields: [
        { id: 1, name: 'a', required: false, type: 'int' as const },
        { id: 2, name: 'b', required: false, type: 'string' as const },
      ],
    };
    assert.deepEqual(toJsonValue(type, { a: 1, b: 'bar' }), { 1: 1, 2: 'bar' });
    assert.deepEqual(fromJsonValue(type, { 1: 1, 2: 'bar' }), { a: 1, b: 'bar' });
    const list = {
      type: 'list' as const,
      'element-id': 3,
      element: 'int' as const,
      'element-required': true,
    };
    assert.deepEqual(toJsonValue(list, [1, 2, 3]), [1, 2, 3]);
    const map = {
      type: 'map' as const,
      'key-id': 4,
      key: 'string' as const,
      'value-id': 5,
      value: 'int' as const,
      'value-required': true,
    };
    assert.deepEqual(
      toJsonValue(
        map,
        new Map([
          ['a', 1],
          ['b', 2],
        ]),
      ),
      { keys: ['a', 'b'], values: [1, 2] },
    );
    assert.deepEqual(fromJsonValue(map, { keys: ['a'], values: [1] }), new Map([['a', 1]]));
  });
});

describe('bounds', () => {
  test('truncated lower and upper bounds of strings, by code point', () => {
    const s = 'abcdefghijklmnopqrstuvwxyz';
    assert.equal(truncateLowerBound('string', s), 'abcdefghijklmnop');
    assert.equal(truncateUpperBound('string', s), 'abcdefghijklmnoq');
    assert.equal(truncateLowerBound('string', 'short'), 'short');
    assert.equal(truncateUpperBound('string', '😀😀😀', 2), '😀😁');
    assert.equal(truncateUpperBound('string', `a${String.fromCodePoint(0x10ffff)}b`, 2), 'b');
    assert.equal(truncateUpperBound('string', `${String.fromCodePoint(0x10ffff)}xx`, 1), null);
    assert.equal(
      truncateUpperBound('string', `a${String.fromCodePoint(0xd7ff)}b`, 2),
      `a${String.fromCodePoint(0xe000)}`,
    );
  });

  test('truncated bounds of binary values', () => {
    const b = Buffer.from([1, 2, 0xff, 4]);
    assert.deepEqual([...(truncateLowerBound('binary', b, 3) as Buffer)], [1, 2, 0xff]);
    assert.deepEqual([...(truncateUpperBound('binary', b, 3) as Buffer)], [1, 3]);
    assert.equal(truncateUpperBound('binary', Buffer.from([0xff, 0xff, 1]), 2), null);
  });

  test('ordering: code points, unsigned bytes, -0 before +0, NaN last', () => {
    assert.ok(compareValues('string', '\uffff', '😀') < 0, 'U+FFFF sorts before U+1F600');
    assert.ok(compareValues('binary', Buffer.from([0x7f]), Buffer.from([0x80])) < 0);
    assert.ok(compareValues('double', -0, 0) < 0);
    assert.ok(compareValues('double', Number.POSITIVE_INFINITY, Number.NaN) < 0);
    assert.ok(compareValues('long', -5n, 3n) < 0);
  });
});
