import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { ObjectInfo, ObjectStore } from '../../src/storage/index.js';
import { InvalidInputError, NotFoundError } from '../../src/util/index.js';

/** A store under test, and a way to see whatever exists outside its root. */
export interface ContractSubject {
  store: ObjectStore;
  /** Names of anything beside the store's root (must stay empty: nothing escapes the root). */
  outside(): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** Bodies of `n` bytes made of a pattern seeded by `seed`, delivered in `chunk`-byte pieces. */
export async function* patternBody(n: number, seed: number, chunk = 64 * 1024): AsyncIterable<Uint8Array> {
  for (let off = 0; off < n; off += chunk) yield patternBytes(off, Math.min(chunk, n - off), seed);
}

/** The bytes patternBody yields at [off, off + len). */
export function patternBytes(off: number, len: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = ((off + i) * 31 + seed * 7 + ((off + i) >> 12)) & 0xff;
  return b;
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

async function streamHash(stream: Readable): Promise<{ hash: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { hash: h.digest('hex'), size };
}

async function keysOf(it: AsyncIterable<ObjectInfo>): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of it) keys.push(info.key);
  return keys;
}

const BAD_KEYS = [
  '../x',
  'a/../../x',
  '..',
  '.',
  '/abs',
  'a//b',
  'a/./b',
  'a/b/',
  'a\\b',
  'a\0b',
  'a\nb',
  '',
  'x'.repeat(1025),
];

/** The behaviour every ObjectStore must have; `open` gives a fresh, empty store. */
export function objectStoreContract(name: string, open: () => Promise<ContractSubject>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: ObjectStore;
    before(async () => {
      subject = await open();
      store = subject.store;
    });
    after(async () => {
      await store.close();
      await subject.cleanup();
    });

    test('put and read back strings, bytes and streams', async () => {
      await store.put('rw/text.json', '{"a":1}');
      await store.put('rw/bytes.bin', new Uint8Array([1, 2, 3]));
      await store.put('rw/stream.bin', patternBody(100_000, 1, 7000));
      assert.equal((await store.getBytes('rw/text.json')).toString(), '{"a":1}');
      assert.deepEqual([...(await store.getBytes('rw/bytes.bin'))], [1, 2, 3]);
      const got = await streamHash(await store.get('rw/stream.bin'));
      assert.deepEqual(got, { hash: sha256(patternBytes(0, 100_000, 1)), size: 100_000 });
      await store.put('rw/text.json', 'replaced');
      assert.equal((await store.getBytes('rw/text.json')).toString(), 'replaced');
      await store.put('rw/empty', '');
      assert.equal((await store.getBytes('rw/empty')).length, 0);
    });

    test('byte ranges, end inclusive', async () => {
      await store.put('range/x', '0123456789');
      assert.equal((await store.getBytes('range/x', { range: { start: 2, end: 5 } })).toString(), '2345');
      assert.equal((await store.getBytes('range/x', { range: { start: 7 } })).toString(), '789');
      assert.equal((await store.getBytes('range/x', { range: { start: 8, end: 100 } })).toString(), '89');
      assert.equal((await store.getBytes('range/x', { range: { start: 10 } })).length, 0);
      const s = await streamHash(await store.get('range/x', { range: { start: 1, end: 1 } }));
      assert.equal(s.hash, sha256('1'));
      await assert.rejects(store.getBytes('range/x', { range: { start: 5, end: 2 } }), InvalidInputError);
      await assert.rejects(store.getBytes('range/x', { range: { start: -1 } }), InvalidInputError);
    });

    test('head reports size, time and etag; undefined when absent', async () => {
      const before = Date.now();
      await store.put('head/a', 'hello');
      const info = await store.head('head/a');
      assert.ok(info);
      assert.equal(info.key, 'head/a');
      assert.equal(info.size, 5);
      assert.ok(info.lastModified instanceof Date);
      assert.ok(Math.abs(info.lastModified.getTime() - before) < 60_000);
      assert.equal(typeof info.etag, 'string');
      assert.equal(await store.head('head/missing'), undefined);
      assert.equal(await store.head('head'), undefined, 'a folder of keys is not an object');
    });

    test('list by prefix in key order, paged, resumable', async () => {
      const keys = [
        'l/a',
        'l/b/1',
        'l/b/2',
        'l/c',
        'l/ca',
        'l/d/e/f',
        'l/o/a-',
        'l/o/a.txt',
        'l/o/a/b',
        'm/x',
      ];
      for (const k of [...keys].reverse()) await store.put(k, k);
      const inL = keys.filter((k) => k.startsWith('l/'));
      assert.deepEqual(await keysOf(store.list('l/')), inL);
      assert.deepEqual(await keysOf(store.list('l/', { pageSize: 2 })), inL);
      assert.deepEqual(await keysOf(store.list('l/', { pageSize: 1 })), inL);
      assert.deepEqual(await keysOf(store.list('l/b')), ['l/b/1', 'l/b/2']);
      assert.deepEqual(await keysOf(store.list('l/c')), ['l/c', 'l/ca']);
      assert.deepEqual(await keysOf(store.list('l/o/a')), ['l/o/a-', 'l/o/a.txt', 'l/o/a/b']);
      assert.deepEqual(await keysOf(store.list('l/', { startAfter: 'l/b/1', pageSize: 2 })), inL.slice(2));
      assert.deepEqual(await keysOf(store.list('l/', { startAfter: 'l/b' })), inL.slice(1));
      assert.deepEqual(await keysOf(store.list('l/', { startAfter: 'l/z' })), []);
      assert.deepEqual(await keysOf(store.list('nothing/')), []);
      const all = await keysOf(store.list(''));
      assert.deepEqual(
        all.filter((k) => k.startsWith('l/') || k.startsWith('m/')),
        keys,
      );
      assert.deepEqual(
        [...all].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
        all,
      );
      for await (const info of store.list('l/c')) assert.equal(info.size, info.key.length);
    });

    test('delete in batches; missing keys are fine', async () => {
      const keys = Array.from({ length: 25 }, (_, i) => `del/${String(i).padStart(2, '0')}`);
      await Promise.all(keys.map((k) => store.put(k, 'x')));
      await store.delete([...keys.slice(0, 20), 'del/missing']);
      assert.deepEqual(await keysOf(store.list('del/')), keys.slice(20));
      await store.delete(keys);
      await store.delete([]);
      assert.deepEqual(await keysOf(store.list('del/')), []);
      assert.equal(await store.head('del/00'), undefined);
    });

    test('putIfAbsent writes once', async () => {
      assert.equal(await store.putIfAbsent('once/a', 'first'), true);
      assert.equal(await store.putIfAbsent('once/a', 'second'), false);
      assert.equal((await store.getBytes('once/a')).toString(), 'first');
    });

    test('20 concurrent putIfAbsent on one key: exactly one wins, its content stays', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.putIfAbsent('race/key', `writer ${i} `.repeat(1000))),
      );
      const winners = results.flatMap((won, i) => (won ? [i] : []));
      assert.equal(winners.length, 1, `winners: ${winners.join(', ')}`);
      assert.equal((await store.getBytes('race/key')).toString(), `writer ${winners[0]} `.repeat(1000));
      assert.deepEqual(await keysOf(store.list('race/')), ['race/key']);
    });

    test('streams of several MB, plain and create-only', async () => {
      const size = 12 * 1024 * 1024 + 12345;
      const expected = sha256(patternBytes(0, size, 3));
      await store.put('big/a.bin', patternBody(size, 3));
      assert.deepEqual(await streamHash(await store.get('big/a.bin')), { hash: expected, size });
      assert.equal(sha256(await store.getBytes('big/a.bin')), expected);
      assert.equal((await store.head('big/a.bin'))?.size, size);
      const tail = await store.getBytes('big/a.bin', { range: { start: size - 100 } });
      assert.deepEqual(tail, patternBytes(size - 100, 100, 3));
      assert.equal(await store.putIfAbsent('big/b.bin', patternBody(size, 4)), true);
      assert.equal(await store.putIfAbsent('big/b.bin', patternBody(size, 5)), false);
      assert.equal(sha256(await store.getBytes('big/b.bin')), sha256(patternBytes(0, size, 4)));
    });

    test('localPath gives a file with the object bytes', async () => {
      await store.put('files/data.parquet', patternBody(300_000, 6));
      const path = await store.localPath('files/data.parquet');
      assert.equal(sha256(await readFile(path)), sha256(patternBytes(0, 300_000, 6)));
      assert.equal(await store.localPath('files/data.parquet'), path);
    });

    test('importFile moves a staged file into the store', async () => {
      const dir = await store.stagingDir();
      const path = join(dir, 'part-0.parquet');
      await writeFile(path, patternBytes(0, 200_000, 8));
      await store.importFile('imported/part-0.parquet', path);
      assert.equal(
        sha256(await store.getBytes('imported/part-0.parquet')),
        sha256(patternBytes(0, 200_000, 8)),
      );
      await assert.rejects(stat(path), /ENOENT/);
      const other = await store.stagingDir();
      assert.notEqual(other, dir);
      await rm(dir, { recursive: true, force: true });
      await rm(other, { recursive: true, force: true });
      assert.deepEqual(await keysOf(store.list('imported/')), ['imported/part-0.parquet']);
    });

    test('missing objects raise NotFoundError', async () => {
      await assert.rejects(store.get('nope/x'), NotFoundError);
      await assert.rejects(store.getBytes('nope/x'), NotFoundError);
      await assert.rejects(store.localPath('nope/x'), NotFoundError);
      await assert.rejects(store.getBytes('nope/x', { range: { start: 1 } }), NotFoundError);
    });

    test('invalid keys are rejected and nothing escapes the root', async () => {
      for (const key of BAD_KEYS) {
        const label = JSON.stringify(key);
        await assert.rejects(store.put(key, 'x'), InvalidInputError, `put ${label}`);
        await assert.rejects(store.putIfAbsent(key, 'x'), InvalidInputError, `putIfAbsent ${label}`);
        await assert.rejects(store.get(key), InvalidInputError, `get ${label}`);
        await assert.rejects(store.getBytes(key), InvalidInputError, `getBytes ${label}`);
        await assert.rejects(store.head(key), InvalidInputError, `head ${label}`);
        await assert.rejects(store.localPath(key), InvalidInputError, `localPath ${label}`);
        await assert.rejects(store.delete(['ok', key]), InvalidInputError, `delete ${label}`);
      }
      await assert.rejects(keysOf(store.list('../')), InvalidInputError);
      await assert.rejects(keysOf(store.list('/abs')), InvalidInputError);
      const err = await store.put('a/../b', 'x').catch((e: unknown) => e);
      assert.match(String((err as Error).message), /a\/\.\.\/b/);
      assert.deepEqual(await subject.outside(), []);
    });

    test('an aborted put writes nothing', async () => {
      const ac = new AbortController();
      async function* slow() {
        yield Buffer.alloc(1000, 1);
        ac.abort();
        yield Buffer.alloc(1000, 2);
      }
      await assert.rejects(store.put('abort/x', slow(), { signal: ac.signal }));
      assert.equal(await store.head('abort/x'), undefined);
      assert.deepEqual(await keysOf(store.list('abort/')), []);
    });

    test('health is ok', async () => {
      const h = await store.health();
      assert.equal(h.ok, true, h.detail);
    });
  });
}
