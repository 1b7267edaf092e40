import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CachedObject, ReadCache } from '../../src/storage/cache.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-cache-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function obj(key: string, size: number, version = 'v1'): CachedObject {
  return { id: `s3://b/p\0${key}\0${version}\0${size}`, key, size };
}

/** A download that writes `size` bytes of `fill` and counts its calls. */
function downloader(size: number, fill: number, calls: { n: number }, delayMs = 0) {
  return async (tmp: string) => {
    calls.n++;
    if (delayMs) await sleep(delayMs);
    await writeFile(tmp, Buffer.alloc(size, fill));
  };
}

test('cache: eviction under maxBytes keeps the most recently used', async () => {
  await withDir(async (dir) => {
    const cache = new ReadCache({ dir, maxBytes: 300 });
    const calls = { n: 0 };
    const a = await cache.localPath(obj('a.parquet', 100), downloader(100, 1, calls));
    const b = await cache.localPath(obj('b.parquet', 100), downloader(100, 2, calls));
    const c = await cache.localPath(obj('c.parquet', 100), downloader(100, 3, calls));
    assert.equal(await cache.localPath(obj('a.parquet', 100), downloader(100, 1, calls)), a);
    await cache.localPath(obj('d.parquet', 100), downloader(100, 4, calls));
    assert.equal(calls.n, 4);
    const s = cache.stats();
    assert.equal(s.evictions, 1);
    assert.equal(s.bytes, 300);
    await assert.rejects(readFile(b), { code: 'ENOENT' }, 'b was least recently used');
    assert.deepEqual(await readFile(a), Buffer.alloc(100, 1));
    assert.deepEqual(await readFile(c), Buffer.alloc(100, 3));
    // A restarted process rebuilds the index from the directory, recency included.
    await sleep(20);
    await cache.localPath(obj('c.parquet', 100), downloader(100, 3, calls));
    const again = new ReadCache({ dir, maxBytes: 200 });
    await again.localPath(obj('c.parquet', 100), downloader(100, 3, calls));
    assert.equal(calls.n, 4, 'hit after restart');
    assert.deepEqual(
      { entries: again.stats().entries, bytes: again.stats().bytes },
      { entries: 2, bytes: 200 },
    );
    await assert.rejects(readFile(a), { code: 'ENOENT' }, 'a was the oldest after the restart');
  });
});

test('cache: concurrent requests for one object download once', async () => {
  await withDir(async (dir) => {
    const cache = new ReadCache({ dir });
    const calls = { n: 0 };
    const o = obj('x/data.parquet', 500_000);
    const paths = await Promise.all(
      Array.from({ length: 10 }, () => cache.localPath(o, downloader(500_000, 9, calls, 50))),
    );
    assert.equal(calls.n, 1);
    assert.equal(new Set(paths).size, 1);
    assert.ok(paths[0]!.endsWith('.parquet'));
    assert.deepEqual(await readFile(paths[0]!), Buffer.alloc(500_000, 9));
    assert.equal(cache.stats().downloads, 1);
  });
});

test('cache: a changed etag or size is a different entry', async () => {
  await withDir(async (dir) => {
    const cache = new ReadCache({ dir });
    const calls = { n: 0 };
    const p1 = await cache.localPath(obj('k', 10, 'v1'), downloader(10, 1, calls));
    const p2 = await cache.localPath(obj('k', 10, 'v2'), downloader(10, 2, calls));
    assert.notEqual(p1, p2);
    assert.deepEqual(await readFile(p2), Buffer.alloc(10, 2));
  });
});

test('cache: failed or short downloads leave no file behind', async () => {
  await withDir(async (dir) => {
    const cache = new ReadCache({ dir });
    await assert.rejects(
      cache.localPath(obj('bad', 100), async (tmp) => {
        await writeFile(tmp, 'partial');
        throw new Error('connection reset');
      }),
      /connection reset/,
    );
    await assert.rejects(
      cache.localPath(obj('short', 100), async (tmp) => writeFile(tmp, 'only a few bytes')),
      /expected 100/,
    );
    const leftovers = (await readdir(dir, { recursive: true })).filter((n) => !['.tmp'].includes(n));
    assert.deepEqual(leftovers, []);
    const calls = { n: 0 };
    const p = await cache.localPath(obj('bad', 100), downloader(100, 5, calls));
    assert.deepEqual(await readFile(p), Buffer.alloc(100, 5));
  });
});
