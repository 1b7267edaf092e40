import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpClient } from '../../src/ingest/http/client.js';

const options = { timeoutMs: 2000, maxAttempts: 3, backoff: { initialMs: 10, maxMs: 20 } };

test('HTTP sources refuse cloud metadata addresses at once, without retrying', async () => {
  let retries = 0;
  const client = new HttpClient({ ...options, onRetry: () => retries++ });
  await assert.rejects(
    client.send({ method: 'GET', url: 'http://169.254.169.254/latest/meta-data/iam/', headers: {} }),
    /refusing to request http:\/\/169\.254\.169\.254: 169\.254\.169\.254 is a link-local or cloud metadata address/,
  );
  assert.equal(retries, 0);
});
