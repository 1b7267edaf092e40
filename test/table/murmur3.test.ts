import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  hashDouble,
  hashLong,
  hashString,
  minBigEndianBytes,
  murmur3Hash32,
} from '../../src/table/murmur3.js';
import { hashValue } from '../../src/table/transforms.js';

describe('murmur3 and the spec hash rules (Appendix B)', () => {
  test('every bucketable test vector of Appendix B', () => {
    const vectors: [string, unknown, number][] = [
      ['int', 34, 2017239379],
      ['long', 34n, 2017239379],
      ['decimal(4,2)', '14.20', -500754589],
      ['date', '2017-11-16', -653330422],
      ['time', '22:31:08', -662762989],
      ['timestamp', '2017-11-16T22:31:08', -2047944441],
      ['timestamp', '2017-11-16T22:31:08.000001', -1207196810],
      ['timestamptz', '2017-11-16T14:31:08-08:00', -2047944441],
      ['timestamptz', '2017-11-16T14:31:08.000001-08:00', -1207196810],
      // timestamp_ns / timestamptz_ns hash their value truncated to microseconds
      ['timestamp', '2017-11-16T22:31:08.000001001', -1207196810],
      ['timestamptz', '2017-11-16T14:31:08.000001001-08:00', -1207196810],
      ['string', 'iceberg', 1210000089],
      ['uuid', 'f79c3e09-677c-4bbd-a479-3f349cb785e7', 1488055340],
      ['fixed[4]', Buffer.from([0, 1, 2, 3]), -188683207],
      ['binary', Buffer.from([0, 1, 2, 3]), -188683207],
      // from "Schema Evolution": 34 and "34" hash differently
      ['string', '34', -427558391],
    ];
    for (const [type, value, expected] of vectors) {
      assert.equal(hashValue(type as never, value), expected, `${type} ${String(value)}`);
    }
  });

  test('vectors of the types that are not bucketable', () => {
    assert.equal(hashLong(1), 1392991556, 'boolean true = hashInt(1)');
    assert.equal(hashDouble(Math.fround(1.0)), -142385009);
    assert.equal(hashDouble(1.0), -142385009);
    assert.equal(hashDouble(0.0), 1669671676);
    assert.equal(hashDouble(-0.0), 1669671676);
    assert.equal(hashDouble(Number.NaN), hashLong(0x7ff8000000000000n));
  });

  test('int and long hashes agree on the whole range, incl. negatives', () => {
    for (const v of [0, 1, -1, 2147483647, -2147483648, 123456789])
      assert.equal(hashValue('int', v), hashValue('long', BigInt(v)));
  });

  test('murmur3 of 0..3 trailing bytes', () => {
    assert.equal(murmur3Hash32(Buffer.alloc(0)), 0);
    assert.equal(hashString('a'), murmur3Hash32(Buffer.from('a')));
    assert.equal(murmur3Hash32(Buffer.from('hello')), 613153351);
  });

  test('minimal big-endian two’s complement bytes', () => {
    assert.deepEqual([...minBigEndianBytes(0n)], [0]);
    assert.deepEqual([...minBigEndianBytes(127n)], [0x7f]);
    assert.deepEqual([...minBigEndianBytes(128n)], [0x00, 0x80]);
    assert.deepEqual([...minBigEndianBytes(-1n)], [0xff]);
    assert.deepEqual([...minBigEndianBytes(-128n)], [0x80]);
    assert.deepEqual([...minBigEndianBytes(-129n)], [0xff, 0x7f]);
    assert.deepEqual([...minBigEndianBytes(1420n)], [0x05, 0x8c]);
  });
});
