import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { cdcTaskSchema, resetCdc, runCdc, SlotLostError } from '../../src/ingest/cdc/index.js';
import { InvalidInputError, PermissionError } from '../../src/util/index.js';
import { startPostgres } from '../helpers/postgres.js';
import { cdcSuite, pgExec, testSpec } from './cdc-helpers.js';

describe('postgres_cdc: bad input', () => {
  const suffix = randomBytes(4).toString('hex');
  const plain = `cdc_plain_${suffix}`;
  const repl = `cdc_repl_${suffix}`;
  const s = cdcSuite(async (url) => {
    await pgExec(url, `CREATE TABLE nokey (a int, b text); INSERT INTO orders (id) VALUES (1)`);
    await pgExec(url, `CREATE ROLE ${plain} LOGIN PASSWORD 'secret-password-1'`);
    await pgExec(url, `CREATE ROLE ${repl} LOGIN REPLICATION PASSWORD 'secret-password-1'`);
  });
  after(async () => {
    const server = new URL(s.db.url);
    server.pathname = '/postgres';
    await pgExec(server.toString(), `DROP ROLE IF EXISTS ${plain}; DROP ROLE IF EXISTS ${repl}`);
  });
  const asUser = (user: string) => {
    const u = new URL(s.db.url);
    u.username = user;
    u.password = 'secret-password-1';
    return u.toString();
  };
  const run = (url: string, over = {}) =>
    runCdc(s.runtime, testSpec(url, over, 'shop_errors'), {
      signal: AbortSignal.timeout(30_000),
      untilCaughtUp: true,
    });

  test('a user without REPLICATION is refused with the grant to make', async () => {
    await assert.rejects(run(asUser(plain)), (err: Error) => {
      assert.ok(err instanceof PermissionError);
      assert.match(err.message, /may not use replication/);
      assert.match(err.message, new RegExp(`ALTER ROLE ${plain} REPLICATION`));
      return true;
    });
  });

  test('a table the user may not read is named', async () => {
    await assert.rejects(run(asUser(repl)), (err: Error) => {
      assert.ok(err instanceof PermissionError);
      assert.match(err.message, /may not read public\.orders/);
      assert.match(err.message, /GRANT SELECT/);
      return true;
    });
  });

  test('a table without a key is refused unless a key is declared', async () => {
    await assert.rejects(run(s.db.url, { tables: ['nokey'] }), (err: Error) => {
      assert.ok(err instanceof InvalidInputError);
      assert.match(err.message, /public\.nokey has no primary key/);
      assert.match(err.message, /keys: \{ nokey: \[column, \.\.\.\] \}/);
      return true;
    });
    await assert.rejects(
      run(s.db.url, { tables: ['nokey'], keys: { nokey: ['a'] } }),
      /REPLICA IDENTITY FULL/,
    );
    await assert.rejects(
      run(s.db.url, { tables: ['nokey'], keys: { nokey: ['zz'] } }),
      /declared key column "zz"/,
    );
    await assert.rejects(run(s.db.url, { tables: ['missing'] }), /public\.missing does not exist/);
  });

  test('a source without wal_level=logical is refused with how to change it', async () => {
    const server = await startPostgres({ walLevel: 'replica' });
    try {
      await pgExec(server.url, 'CREATE TABLE orders (id bigint PRIMARY KEY)');
      await assert.rejects(run(server.url, { tables: ['orders'] }), (err: Error) => {
        assert.ok(err instanceof InvalidInputError);
        assert.match(err.message, /wal_level=replica; logical replication needs wal_level=logical/);
        assert.match(String((err as InvalidInputError).hint), /ALTER SYSTEM SET wal_level = logical/);
        return true;
      });
      // Nothing was created on the refused server.
      const slots = await pgExec(server.url, 'SELECT count(*)::int AS n FROM pg_replication_slots');
      assert.equal(slots.rows[0].n, 0);
    } finally {
      await server.stop();
    }
  });

  test('malformed specs are rejected with the path of the problem', () => {
    const bad = cdcTaskSchema.safeParse({
      name: 'x',
      source: { postgres_cdc: { url: 'mysql://h/db', tables: [], batch: { interval: 'soon' }, extra: 1 } },
    });
    assert.equal(bad.success, false);
    const paths = bad.error?.issues.map((i) => i.path.join('.')) ?? [];
    for (const p of [
      'source.postgres_cdc.url',
      'source.postgres_cdc.tables',
      'source.postgres_cdc.batch.interval',
    ])
      assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
    assert.ok(bad.error?.issues.some((i) => i.code === 'unrecognized_keys'));
  });

  test('a dropped slot fails loudly with the way to re-snapshot', async () => {
    await run(s.db.url);
    await pgExec(s.db.url, `INSERT INTO orders (id) VALUES (2)`);
    await pgExec(s.db.url, `SELECT pg_drop_replication_slot('sluice_shop_errors')`);
    await assert.rejects(run(s.db.url), (err: Error) => {
      assert.ok(err instanceof SlotLostError);
      assert.match(
        err.message,
        /replication slot "sluice_shop_errors" of CDC "shop_errors" no longer exists/,
      );
      assert.match(err.message, /sluice cdc reset/);
      return true;
    });
    await resetCdc(s.runtime, testSpec(s.db.url, {}, 'shop_errors'));
    const again = await run(s.db.url);
    assert.equal(again.snapshotRows, 2);
  });
});
