import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openMetaStore } from '../../src/metastore/index.js';
import { sqlitePath } from '../../src/metastore/sqlite-store.js';
import { concurrencyContract } from './concurrency.js';
import { type ContractTarget, metaStoreContract } from './contract.js';

function sqliteTarget(): Promise<ContractTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-meta-'));
  let n = 0;
  return Promise.resolve({
    url: `sqlite://${join(dir, 'meta.db')}`,
    fresh: async () => `sqlite://${join(dir, `fresh-${++n}`, 'meta.db')}`,
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  });
}

metaStoreContract('sqlite', sqliteTarget);
concurrencyContract('sqlite', sqliteTarget);

describe('SQLite metastore specifics', () => {
  test('URLs name files relative to the working directory or absolute', () => {
    assert.equal(sqlitePath('sqlite:///abs/dir/meta.db'), '/abs/dir/meta.db');
    assert.equal(sqlitePath('sqlite://./rel/meta.db'), join(process.cwd(), 'rel/meta.db'));
    assert.equal(sqlitePath('sqlite://rel.db'), join(process.cwd(), 'rel.db'));
    assert.equal(sqlitePath('sqlite:///a%20b/meta.db?mode=x'), '/a b/meta.db');
    assert.equal(sqlitePath('sqlite::memory:'), ':memory:');
    assert.throws(() => sqlitePath('sqlite://'), /names no database file/);
  });

  test('a relative URL creates the parent directory and uses WAL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-meta-rel-'));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const store = await openMetaStore('sqlite://./.sluice/nested/meta.db');
      const health = await store.health();
      await store.close();
      assert.ok(existsSync(join(dir, '.sluice/nested/meta.db')));
      assert.match(health.detail, /\(wal\)$/);
    } finally {
      process.chdir(cwd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a write lock held beyond busyTimeoutMs fails with a clear BackendError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-meta-busy-'));
    const url = `sqlite://${join(dir, 'meta.db')}`;
    const holder = await openMetaStore(url);
    const waiter = await openMetaStore(url, { busyTimeoutMs: 100 });
    try {
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      const tx = holder.transaction(async (t) => {
        await t.execute("INSERT INTO sluice_state (scope, key) VALUES ('busy', 'k')");
        await held;
      });
      await new Promise((r) => setImmediate(r));
      await assert.rejects(
        waiter.execute("INSERT INTO sluice_state (scope, key) VALUES ('busy', 'j')"),
        (err: Error) => {
          assert.equal(err.name, 'BackendError');
          assert.match(err.message, /locked by another process for more than 100 ms/);
          return true;
        },
      );
      release();
      await tx;
      assert.equal(
        (await waiter.query("SELECT COUNT(*) AS n FROM sluice_state WHERE scope = 'busy'"))[0]?.n,
        1,
      );
    } finally {
      await holder.close();
      await waiter.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('transactions of one process run one at a time, in call order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-meta-order-'));
    const store = await openMetaStore(`sqlite://${join(dir, 'meta.db')}`);
    try {
      const order: number[] = [];
      await Promise.all(
        [0, 1, 2, 3].map((i) =>
          store.transaction(async (tx) => {
            order.push(i);
            await new Promise((r) => setTimeout(r, 5 * (4 - i)));
            await tx.execute('INSERT INTO sluice_state (scope, key, value) VALUES (?, ?, ?)', [
              'order',
              String(i),
              'v',
            ]);
            order.push(i);
          }),
        ),
      );
      assert.deepEqual(order, [0, 0, 1, 1, 2, 2, 3, 3]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
