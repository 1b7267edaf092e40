import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type MetaStore, openMetaStore } from '../../src/metastore/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { concurrencyContract } from './concurrency.js';
import { type ContractTarget, metaStoreContract } from './contract.js';
import { waitFor } from './wait.js';

async function postgresTarget(): Promise<ContractTarget> {
  const databases: TestDatabase[] = [await createTestDatabase()];
  return {
    url: databases[0]!.url,
    fresh: async () => {
      const db = await createTestDatabase();
      databases.push(db);
      return db.url;
    },
    dispose: async () => {
      for (const db of databases) await db.drop();
    },
  };
}

metaStoreContract('postgres', postgresTarget);
concurrencyContract('postgres', postgresTarget);

describe('PostgreSQL metastore specifics', () => {
  let db: TestDatabase;
  let store: MetaStore;
  before(async () => {
    db = await createTestDatabase();
    store = await openMetaStore(db.url, { poolMax: 4 });
  });
  after(async () => {
    await store?.close();
    await db?.drop();
  });

  test('the URL is reported with its password masked', async () => {
    const password = new URL(db.url).password;
    assert.ok(password.length > 0, 'the test server uses password authentication');
    assert.ok(!store.url.includes(password));
    assert.match(store.url, /:\*\*\*@/);
    assert.ok(!(await store.health()).detail.includes(password));
  });

  test('`?` inside literals, quoted names and comments is not a placeholder', async () => {
    const rows = await store.query(
      `SELECT 'it''s ?' AS a, E'\\'?' AS b, $$?$$ AS c, "?col" , ? AS d -- trailing ?
       FROM (SELECT 1 AS "?col") t /* ? */`,
      ['bound'],
    );
    assert.deepEqual(rows, [{ a: "it's ?", b: "'?", c: '?', '?col': 1, d: 'bound' }]);
  });

  test('a dropped listener connection is re-established', async () => {
    const got: string[] = [];
    const stop = await store.listen('reconnect', (p) => got.push(p));
    const killed = await store.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = 'sluice-listener'`,
    );
    assert.equal(killed.length, 1);
    let n = 0;
    await waitFor(() => {
      if (got.length === 0 && n % 10 === 0) void store.notify('reconnect', `try-${n}`);
      n += 1;
      return got.length > 0;
    }, 5000);
    await stop();
  });
});
