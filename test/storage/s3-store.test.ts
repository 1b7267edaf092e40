import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type ObjectStore, openObjectStore } from '../../src/storage/index.js';
import { BackendError } from '../../src/util/index.js';
import { type S3Fixture, useS3 } from '../helpers/s3.js';
import { objectStoreContract, patternBody, patternBytes, sha256 } from './contract.js';

let s3: S3Fixture;
let cacheDir: string;
before(async () => {
  s3 = await useS3();
  cacheDir = await mkdtemp(join(tmpdir(), 'sluice-s3-cache-'));
});
after(async () => {
  await s3.stop();
  await rm(cacheDir, { recursive: true, force: true });
});

objectStoreContract('S3', async () => {
  const root = `contract-${Date.now()}`;
  const store = await openObjectStore(s3.storage(root), { cacheDir });
  // A store at the test prefix sees whatever a bad key could have written beside the root.
  const parent = await openObjectStore(s3.storage(), { cacheDir });
  return {
    store,
    async outside() {
      const names: string[] = [];
      for await (const info of parent.list('')) if (!info.key.startsWith(`${root}/`)) names.push(info.key);
      return names;
    },
    async cleanup() {
      await parent.close();
    },
  };
});

async function withStore(
  fn: (store: ObjectStore) => Promise<void>,
  sub = `misc-${Date.now()}`,
): Promise<void> {
  const store = await openObjectStore(s3.storage(sub), { cacheDir });
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

test('s3: the store URL names the bucket and prefix', async () => {
  await withStore(async (store) => {
    assert.equal(store.url, `s3://${s3.bucket}/${s3.prefix}/u`);
  }, 'u');
});

test('s3: delete of more than 1000 keys goes in batches', async () => {
  await withStore(async (store) => {
    const keys = Array.from({ length: 1010 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50)
      await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, 'x')));
    let listed = 0;
    for await (const _ of store.list('many/', { pageSize: 400 })) listed++;
    assert.equal(listed, keys.length);
    await store.delete(keys);
    for await (const info of store.list('many/')) assert.fail(`still there: ${info.key}`);
  });
});

test('s3: nothing listening at the endpoint gives a quick, clear BackendError without secrets', async () => {
  const secret = 'sEcReT/very+private';
  const store = await openObjectStore(
    {
      url: 's3://bucket/p',
      endpoint: 'http://127.0.0.1:9',
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: secret,
    },
    { cacheDir, maxAttempts: 1, connectTimeoutMs: 1000 },
  );
  try {
    const started = Date.now();
    const err = await store.getBytes('x').catch((e: unknown) => e);
    assert.ok(err instanceof BackendError, String(err));
    assert.ok(Date.now() - started < 5000);
    assert.match(err.message, /cannot reach the S3 endpoint http:\/\/127\.0\.0\.1:9/);
    assert.match(err.message, /hint: check storage\.endpoint/);
    assert.ok(!err.message.includes(secret));
    const h = await store.health();
    assert.equal(h.ok, false);
    assert.ok(!h.detail.includes(secret));
  } finally {
    await store.close();
  }
});

test('s3: unknown credentials are denied with a clear error without secrets', async () => {
  const secret = 'another-Secret-value';
  const store = await openObjectStore(
    { ...s3.storage('denied'), accessKeyId: 'NOBODY', secretAccessKey: secret },
    { cacheDir },
  );
  try {
    const err = await store.put('x', 'y').catch((e: unknown) => e);
    assert.ok(err instanceof BackendError, String(err));
    assert.match(err.message, /denied \(InvalidAccessKeyId\)/);
    assert.match(err.message, /check the credentials/);
    assert.ok(!err.message.includes(secret));
  } finally {
    await store.close();
  }
});

test('s3: localPath downloads once for concurrent callers, into the cache directory', async () => {
  await withStore(async (store) => {
    await store.put('c/data.csv.gz', Buffer.alloc(2_000_000, 7));
    const paths = await Promise.all(Array.from({ length: 8 }, () => store.localPath('c/data.csv.gz')));
    assert.equal(new Set(paths).size, 1);
    assert.ok(paths[0]!.startsWith(cacheDir));
    assert.ok(paths[0]!.endsWith('.csv.gz'));
    await store.put('c/data.csv.gz', Buffer.alloc(1000, 8));
    const fresh = await store.localPath('c/data.csv.gz');
    assert.notEqual(fresh, paths[0], 'a changed object is a new cache entry');
  });
});

test('s3: racing create-only multipart uploads: one completes, the others see 412', async () => {
  await withStore(async (store) => {
    const size = 9 * 1024 * 1024;
    const results = await Promise.all(
      [1, 2, 3].map((seed) => store.putIfAbsent('mp/race.bin', patternBody(size, seed))),
    );
    assert.equal(results.filter(Boolean).length, 1);
    const winner = results.indexOf(true) + 1;
    assert.equal(sha256(await store.getBytes('mp/race.bin')), sha256(patternBytes(0, size, winner)));
  });
});

test('s3: many concurrent requests under one signal keep one abort listener on it, and still abort', async () => {
  await withStore(async (store) => {
    const keys = Array.from({ length: 24 }, (_, i) => `fan/${i}`);
    await Promise.all(keys.map((k) => store.put(k, k)));
    const warnings: Error[] = [];
    const onWarning = (w: Error) => {
      if (w.name === 'MaxListenersExceededWarning') warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      const signal = new AbortController().signal;
      let most = 0;
      let done = false;
      const sample = async () => {
        while (!done) {
          most = Math.max(most, getEventListeners(signal, 'abort').length);
          await new Promise((r) => setImmediate(r));
        }
      };
      const sampling = sample();
      const bodies = await Promise.all([
        ...keys.map((k) => store.head(k, { signal })),
        ...keys.map((k) => store.getBytes(k, { signal }).then(String)),
      ]);
      done = true;
      await sampling;
      assert.deepEqual(bodies.slice(keys.length), keys);
      assert.ok(most >= 1, 'the requests follow the signal');
      assert.equal(most, 1, `${most} abort listeners on one signal`);
      assert.equal(
        getEventListeners(signal, 'abort').length,
        0,
        'the listener is removed when no request is left',
      );
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', onWarning);
    }

    const ac = new AbortController();
    const pending = keys.map((k) => store.head(k, { signal: ac.signal }));
    ac.abort(new Error('stop'));
    const settled = await Promise.allSettled(pending);
    assert.ok(
      settled.every((s) => s.status === 'rejected'),
      'aborting the caller signal aborts every request',
    );
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  });
});
