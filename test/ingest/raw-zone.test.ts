import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { storeRaw } from '../../src/ingest/raw-zone.js';
import { type ObjectStore, openObjectStore } from '../../src/storage/index.js';
import { ConflictError } from '../../src/util/index.js';
import { type S3Fixture, useS3 } from '../helpers/s3.js';

/** A file of `mib` MiB whose bytes differ from block to block. */
async function patternFile(path: string, mib: number): Promise<Buffer> {
  const block = Buffer.alloc(1 << 20);
  const parts: Buffer[] = [];
  for (let i = 0; i < mib; i++) {
    block.fill(i % 251);
    block.writeUInt32LE(i, 0);
    parts.push(Buffer.from(block));
  }
  const all = Buffer.concat(parts);
  await writeFile(path, all);
  return all;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Files under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

describe('raw zone', () => {
  let dir: string;
  let s3: S3Fixture;
  const stores: ObjectStore[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-raw-'));
    s3 = await useS3();
  });
  after(async () => {
    for (const s of stores) await s.close();
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const open = async (kind: 'local' | 's3') => {
    const store = await openObjectStore(
      kind === 'local' ? { url: `file://${join(dir, 'lake')}` } : s3.storage(`raw-${Date.now()}`),
      { cacheDir: join(dir, 'cache') },
    );
    stores.push(store);
    return store;
  };

  for (const kind of ['local', 's3'] as const) {
    test(`${kind}: a file is stored byte for byte with its size and sha256`, async () => {
      const store = await open(kind);
      const src = join(dir, `${kind}-orders.csv`);
      const bytes = await patternFile(src, 9);
      const stored = await storeRaw(store, 'raw/t/2026-12-01/r-000001.csv', { file: src });
      assert.deepEqual(stored, {
        key: 'raw/t/2026-12-01/r-000001.csv',
        size: bytes.length,
        checksum: sha256(bytes),
      });
      assert.ok((await store.getBytes(stored.key)).equals(bytes));
      // The source is left as it was.
      assert.ok((await readFile(src)).equals(bytes));
    });

    test(`${kind}: bytes in memory are stored with their checksum`, async () => {
      const store = await open(kind);
      const body = Buffer.from('{"items":[1,2,3]}');
      const stored = await storeRaw(store, 'raw/t/2026-12-01/r-000002.json', body);
      assert.equal(stored.checksum, sha256(body));
      assert.equal(stored.size, body.length);
      assert.ok((await store.getBytes(stored.key)).equals(body));
    });
  }

  test('a file that changes while it is stored is refused, and nothing is left under the key', async () => {
    const store = await open('local');
    const src = join(dir, 'growing.csv');
    await patternFile(src, 96);
    const staging = join(dir, 'lake', '.sluice-tmp');
    const storing = storeRaw(store, 'raw/t/2026-12-01/r-000003.csv', { file: src });
    storing.catch(() => {});
    // Append once the copy has started (its staging file exists), i.e. after the first look.
    const deadline = Date.now() + 10_000;
    while (!(await filesUnder(staging)).includes('payload') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 1));
    await appendFile(src, 'late,row\n');
    await assert.rejects(storing, (err: unknown) => {
      assert.ok(err instanceof ConflictError, String(err));
      assert.match(err.message, /growing\.csv changed while it was being stored/);
      return true;
    });
    assert.equal(await store.head('raw/t/2026-12-01/r-000003.csv'), undefined);
    assert.deepEqual(await filesUnder(staging), []);
  });

  test('a missing file is a clear error', async () => {
    const store = await open('local');
    await assert.rejects(
      storeRaw(store, 'raw/t/2026-12-01/r-000004.csv', { file: join(dir, 'nope.csv') }),
      /nope\.csv/,
    );
  });
});
