import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIdentifier, parseIdentifier } from '../../src/catalog/index.js';
import { joinLocation, keyForLocation, locationForKey, type ObjectStore } from '../../src/storage/index.js';

const local = { url: 'file:///data/my%20lake/warehouse' } as ObjectStore;
const s3 = { url: 's3://bucket/lake' } as ObjectStore;

test('local locations map to keys in every form engines write them', () => {
  assert.equal(keyForLocation(local, 'file:///data/my%20lake/warehouse/a/b/t'), 'a/b/t');
  assert.equal(keyForLocation(local, 'file:/data/my%20lake/warehouse/a/t/'), 'a/t');
  assert.equal(keyForLocation(local, '/data/my lake/warehouse/a/t/metadata/x.json'), 'a/t/metadata/x.json');
  assert.equal(keyForLocation(local, 'file:///data/my%20lake/warehouse'), '');
  assert.equal(
    keyForLocation(local, 'file:///data/my%20lake/warehouse/a%20b/t'),
    'a%20b/t',
    'verbatim under the root',
  );
  assert.equal(
    keyForLocation(local, 'file:/data/my%20lake/warehouse/a%20b/t'),
    'a b/t',
    'other spellings decoded',
  );
  assert.equal(
    locationForKey(local, 'a b/t'),
    'file:///data/my lake/warehouse/a b/t',
    'plain paths and keys verbatim, as Hadoop file IO writes them',
  );
  assert.equal(keyForLocation(local, locationForKey(local, 'a b/t')), 'a b/t');
  assert.equal(locationForKey(local, ''), 'file:///data/my lake/warehouse');
});

test('S3 locations map to keys; s3a and s3n name the same objects', () => {
  assert.equal(keyForLocation(s3, 's3://bucket/lake/ns/t/metadata/1.json'), 'ns/t/metadata/1.json');
  assert.equal(keyForLocation(s3, 's3a://bucket/lake/ns/t'), 'ns/t');
  assert.equal(locationForKey(s3, 'ns/t'), 's3://bucket/lake/ns/t');
  assert.equal(joinLocation('s3://bucket/lake/', '/ns/', 't'), 's3://bucket/lake/ns/t');
});

test('locations outside the store are refused with the store named', () => {
  for (const [store, uri] of [
    [local, 'file:///data/other/t'],
    [local, 'file:///data/my%20lake/warehouse-2/t'],
    [local, '/data/my lake/warehouse/../escape/t'],
    [local, 's3://bucket/lake/t'],
    [s3, 's3://bucket/lakehouse/t'],
    [s3, 's3://other/lake/t'],
    [s3, 'gs://bucket/lake/t'],
    [s3, 's3://bucket/lake/../x'],
  ] as const) {
    assert.throws(() => keyForLocation(store, uri), /outside the object store|cannot be stored/, uri);
  }
});

test('table names: a.b.t is namespace [a, b], table t', () => {
  assert.deepEqual(parseIdentifier('a.b.t'), { namespace: ['a', 'b'], name: 't' });
  assert.equal(formatIdentifier({ namespace: ['a', 'b'], name: 't' }), 'a.b.t');
  assert.throws(() => parseIdentifier('orders'), /has no namespace/);
  assert.throws(() => parseIdentifier('a..t'), /is empty/);
});
