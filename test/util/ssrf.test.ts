import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertReachableUrl, isForbiddenAddress } from '../../src/util/ssrf.js';

test('link-local and metadata addresses are forbidden; ordinary ones are not', () => {
  for (const ip of [
    '169.254.169.254',
    '169.254.0.1',
    '::ffff:169.254.169.254',
    'fe80::1',
    'fd00:ec2::254',
    '0.0.0.0',
  ])
    assert.equal(isForbiddenAddress(ip), true, ip);
  for (const ip of ['127.0.0.1', '10.0.0.1', '192.168.1.1', '8.8.8.8', '::1', '2001:db8::1'])
    assert.equal(isForbiddenAddress(ip), false, ip);
});

test('URLs to metadata services are refused with a clear error, unless allowed', async () => {
  await assert.rejects(
    assertReachableUrl('http://169.254.169.254/latest/meta-data/'),
    /refusing to request http:\/\/169\.254\.169\.254/,
  );
  await assert.rejects(assertReachableUrl('http://[fe80::1]:8080/'), /link-local/);
  await assert.rejects(assertReachableUrl('http://metadata.google.internal/computeMetadata/v1/'), /metadata/);
  await assertReachableUrl('http://169.254.169.254/', { allowLinkLocal: true });
  await assertReachableUrl('http://127.0.0.1:8080/v1/orders');
  await assertReachableUrl('http://localhost:8080/');
});
