import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isSecretKey, redactText, redactUrl, redactValue } from '../../src/util/index.js';

describe('redaction', () => {
  test('masks the password of a URL and keeps the rest', () => {
    assert.equal(
      redactUrl('postgres://app:s3cr%40t@db.local:5432/lake'),
      'postgres://app:***@db.local:5432/lake',
    );
    assert.equal(redactUrl('sqlite:///tmp/meta.db'), 'sqlite:///tmp/meta.db');
    assert.equal(redactUrl('postgres://app@db/lake'), 'postgres://app@db/lake');
  });

  test('masks secrets inside free text', () => {
    const text =
      'connect postgres://u:hunter2@h:5/db failed; Authorization: Bearer abcdef123456 password=pw1 AWS_SECRET_ACCESS_KEY=xyz';
    const out = redactText(text);
    for (const secret of ['hunter2', 'abcdef123456', 'pw1', 'xyz'])
      assert.ok(!out.includes(secret), `${secret} in ${out}`);
    assert.match(out, /postgres:\/\/u:\*\*\*@h:5\/db/);
  });

  test('recognises credential-like key names', () => {
    for (const k of [
      'password',
      'DB_PASSWORD',
      'token',
      'apiKey',
      'api_key',
      'AWS_SECRET_ACCESS_KEY',
      'STRIPE_KEY',
      'secret',
    ]) {
      assert.ok(isSecretKey(k), k);
    }
    for (const k of ['url', 'keyspace', 'monkey_count', 'name', 'primary']) assert.ok(!isSecretKey(k), k);
  });

  test('masks secret-named fields deeply without touching others', () => {
    const value = {
      url: 'postgres://a:b@h/d',
      nested: { token: 'tkn', list: [{ secretAccessKey: 'k' }] },
      rows: 3,
    };
    assert.deepEqual(redactValue(value), {
      url: 'postgres://a:***@h/d',
      nested: { token: '***', list: [{ secretAccessKey: '***' }] },
      rows: 3,
    });
  });
});
