import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { cleanLocalTemp, type ObjectStore, openObjectStore } from '../../src/storage/index.js';
import { DirectorySyncs } from '../../src/storage/local-fs.js';
import { ConflictError, InvalidInputError } from '../../src/util/index.js';
import { objectStoreContract } from './contract.js';

async function tempRoot(): Promise<{ parent: string; root: string; url: string }> {
  const parent = await mkdtemp(join(tmpdir(), 'sluice-local-'));
  const root = join(parent, 'warehouse');
  return { parent, root, url: pathToFileURL(root).href };
}

objectStoreContract('local directory', async () => {
  const { parent, url } = await tempRoot();
  const store = await openObjectStore({ url });
  return {
    store,
    outside: async () => (await readdir(parent)).filter((n) => n !== 'warehouse'),
    cleanup: () => rm(parent, { recursive: true, force: true }),
  };
});

async function withStore(fn: (store: ObjectStore, root: string) => Promise<void>): Promise<void> {
  const { parent, root, url } = await tempRoot();
  const store = await openObjectStore({ url });
  try {
    await fn(store, root);
  } finally {
    await store.close();
    await rm(parent, { recursive: true, force: true });
  }
}

test('local: the store URL is the absolute file URL of the root', async () => {
  await withStore(async (store, root) => {
    assert.equal(store.url, pathToFileURL(root).href);
    await store.put('t/a.txt', 'x');
    assert.equal(await store.localPath('t/a.txt'), join(root, 't', 'a.txt'));
  });
});

test('local: leftovers of crashed writes are never listed and are cleaned', async () => {
  await withStore(async (store, root) => {
    await store.put('t/a', 'x');
    const tmp = join(root, '.sluice-tmp');
    await writeFile(join(tmp, 'old.tmp'), 'partial');
    await writeFile(join(tmp, 'new.tmp'), 'partial');
    const old = new Date(Date.now() - 2 * 24 * 3600_000);
    await utimes(join(tmp, 'old.tmp'), old, old);
    const keys: string[] = [];
    for await (const info of store.list('')) keys.push(info.key);
    assert.deepEqual(keys, ['t/a']);
    await assert.rejects(store.get('.sluice-tmp/new.tmp'), InvalidInputError);
    const none: string[] = [];
    for await (const info of store.list('.sluice-tmp/')) none.push(info.key);
    assert.deepEqual(none, []);
    assert.equal(await cleanLocalTemp(store.url), 1);
    assert.deepEqual(await readdir(tmp), ['new.tmp']);
  });
});

test('local: deleting the last key of a folder removes the empty folders', async () => {
  await withStore(async (store, root) => {
    await store.put('tables/t1/data/part-0.parquet', 'x');
    await store.put('tables/t2/x', 'y');
    await store.delete(['tables/t1/data/part-0.parquet']);
    assert.deepEqual(await readdir(join(root, 'tables')), ['t2']);
    await store.put('tables/t1/data/part-1.parquet', 'z');
    assert.equal((await store.getBytes('tables/t1/data/part-1.parquet')).toString(), 'z');
  });
});

test('local: a key cannot be both an object and a folder', async () => {
  await withStore(async (store) => {
    await store.put('shape/a', 'x');
    await assert.rejects(store.put('shape/a/b', 'y'), ConflictError);
    await store.put('shape/d/e', 'y');
    await assert.rejects(store.put('shape/d', 'z'), ConflictError);
    await assert.rejects(store.putIfAbsent('shape/d', 'z'), ConflictError);
    assert.equal((await store.getBytes('shape/a')).toString(), 'x');
  });
});

test('local: symlinks and foreign files in the root are not objects', async () => {
  await withStore(async (store, root) => {
    await mkdir(join(root, 'f'), { recursive: true });
    await writeFile(join(root, 'f', 'plain'), 'ok');
    const keys: string[] = [];
    for await (const info of store.list('f/')) keys.push(info.key);
    assert.deepEqual(keys, ['f/plain']);
  });
});

test('local: relative or malformed file URLs are rejected', async () => {
  await assert.rejects(openObjectStore({ url: 'file://./warehouse' }), InvalidInputError);
  await assert.rejects(openObjectStore({ url: 'file://server/share' }), InvalidInputError);
});

test('directory fsyncs of concurrent writes are shared, and never start before a write they cover', async () => {
  const calls: { dir: string; done: () => void; fail: (e: Error) => void }[] = [];
  const syncs = new DirectorySyncs(
    (dir) =>
      new Promise<void>((done, fail) => {
        calls.push({ dir, done, fail });
      }),
  );
  const tick = () => new Promise((r) => setImmediate(r));
  const settled = (p: Promise<void>) => {
    let state = 'pending';
    p.then(
      () => {
        state = 'done';
      },
      () => {
        state = 'failed';
      },
    );
    return () => state;
  };
  // Three writes done at once: one fsync.
  const first = [syncs.sync('/d'), syncs.sync('/d'), syncs.sync('/d')].map(settled);
  await tick();
  assert.equal(calls.length, 1);
  // Writes done while that fsync runs need another one, shared, started after the first ends.
  const second = [syncs.sync('/d'), syncs.sync('/d')].map(settled);
  const other = settled(syncs.sync('/other'));
  await tick();
  assert.deepEqual(
    calls.map((c) => c.dir),
    ['/d', '/other'],
  );
  calls[0]?.done();
  await tick();
  assert.deepEqual(
    first.map((s) => s()),
    ['done', 'done', 'done'],
  );
  assert.deepEqual(
    second.map((s) => s()),
    ['pending', 'pending'],
  );
  assert.equal(calls.length, 3);
  assert.equal(calls[2]?.dir, '/d');
  // A failed fsync fails every write it covered; the next write gets a fresh one.
  calls[2]?.fail(new Error('EIO'));
  calls[1]?.done();
  await tick();
  assert.deepEqual(
    second.map((s) => s()),
    ['failed', 'failed'],
  );
  assert.equal(other(), 'done');
  const third = settled(syncs.sync('/d'));
  await tick();
  assert.equal(calls.length, 4);
  calls[3]?.done();
  await tick();
  assert.equal(third(), 'done');
});
