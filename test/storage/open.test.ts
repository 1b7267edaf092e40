import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openObjectStore, STORAGE_SCHEMES, validateKey } from '../../src/storage/index.js';
import { InvalidInputError } from '../../src/util/index.js';

test('open: an unknown scheme names the accepted ones', async () => {
  const err = await openObjectStore({ url: 'ftp://user:pw@host/dir' }).catch((e: unknown) => e);
  assert.ok(err instanceof InvalidInputError);
  assert.match(err.message, /unknown storage scheme "ftp:"/);
  assert.match(err.message, /file:, s3:/);
  assert.ok(!err.message.includes(':pw@'), 'password redacted');
  assert.deepEqual(STORAGE_SCHEMES, ['file:', 's3:']);
});

test('open: malformed URLs and missing buckets are rejected', async () => {
  await assert.rejects(openObjectStore({ url: 'not a url' }), InvalidInputError);
  await assert.rejects(openObjectStore({ url: '' }), InvalidInputError);
  await assert.rejects(openObjectStore({ url: 's3:///prefix' }), InvalidInputError);
  await assert.rejects(openObjectStore({ url: 's3://bucket/a%2F..%2Fx' }), InvalidInputError);
  await assert.rejects(openObjectStore({ url: 's3://bucket/%E0%A4%A' }), InvalidInputError);
  await assert.rejects(openObjectStore({ url: 's3://bucket', accessKeyId: 'AKID' }), InvalidInputError);
  const err = await openObjectStore({ url: 's3://AKID:topsecret@bucket/p' }).catch((e: unknown) => e);
  assert.ok(err instanceof InvalidInputError);
  assert.ok(!err.message.includes('topsecret'));
});

test('keys: validation rules', () => {
  for (const ok of ['a', 'a/b.parquet', 'x y/z', 'ünï/cödé', '.hidden/x', 'a..b', '...'])
    assert.equal(validateKey(ok), ok);
  for (const bad of ['', '/a', 'a/', 'a//b', './a', 'a/..', 'a\\b', 'a\u0001', 'a\u007f']) {
    assert.throws(() => validateKey(bad), InvalidInputError, JSON.stringify(bad));
  }
  assert.throws(() => validateKey('k'.repeat(1025)), /longer than 1024/);
  assert.throws(() => validateKey('a/../b'), /invalid object key "a\/..\/b": has a ".." segment/);
});
