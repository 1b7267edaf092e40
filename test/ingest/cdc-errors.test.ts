import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { cdcTaskSchema, resetCdc, runCdc, SlotLostError } from '../../src/ingest/cdc/index.js';
import type { Runtime } from '../../src/runtime/index.js';
import { InvalidInputError, PermissionError } from '../../src/util/index.js';
import { tempDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { openTestRuntime, pgExec, SOURCE_DDL, testSpec } from './cdc-helpers.js';

describe('postgres_cdc: bad input', () => {
  const tmp = tempDir();
  const suffix = randomBytes(4).toString('hex');
  const plain = `cdc_plain_${suffix}`;
  const repl = `cdc_repl_${suffix}`;
  let db: TestDatabase;
  let runtime: Runtime;
  const asUser = (user: string) => {
    const u = new URL(db.url);
    u.username = user;
    u.password = 'secret-password-1';
    return u.toString();
  };
  const run = (url: string, over = {}) =>
    runCdc(runtime, testSpec(url, over), { signal: AbortSignal.timeout(30_000), untilCaughtUp: true });

  before(async () => {
    db = await createTestDatabase();
    runtime = await openTestRuntime(tmp.dir);
    await pgExec(db.url, SOURCE_DDL);
    await pgExec(db.url, `CREATE TABLE nokey (a int, b text); INSERT INTO orders (id) VALUES (1)`);
    await pgExec(db.url, `CREATE ROLE ${plain} LOGIN PASSWORD 'secret-password-1'`);
    await pgExec(db.url, `CREATE ROLE ${repl} LOGIN REPLICATION PASSWORD 'secret-password-1'`);
  });
  after(async () => {
    await runtime?.close();
    await db?.drop();
    await pgExec(
      db.url.replace(/\/[^/]+$/, '/postgres'),
      `DROP ROLE IF EXISTS ${plain}; DROP ROLE IF EXISTS ${repl}`,
    );
    tmp.remove();
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
    await assert.rejects(run(db.url, { tables: ['nokey'] }), (err: Error) => {
      assert.ok(err instanceof InvalidInputError);
      assert.match(err.message, /public\.nokey has no primary key/);
      assert.match(err.message, /keys: \{ nokey: \[column, \.\.\.\] \}/);
      return true;
    });
    await assert.rejects(run(db.url, { tables: ['nokey'], keys: { nokey: ['a'] } }), /REPLICA IDENTITY FULL/);
    await assert.rejects(
      run(db.url, { tables: ['nokey'], keys: { nokey: ['zz'] } }),
      /declared key column "zz"/,
    );
    await assert.rejects(run(db.url, { tables: ['missing'] }), /public\.missing does not exist/);
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
    await run(db.url);
    await pgExec(db.url, `INSERT INTO orders (id) VALUES (2)`);
    await pgExec(db.url, `SELECT pg_drop_replication_slot('sluice_shop')`);
    await assert.rejects(run(db.url), (err: Error) => {
      assert.ok(err instanceof SlotLostError);
      assert.match(err.message, /replication slot "sluice_shop" of CDC "shop" no longer exists/);
      assert.match(err.message, /sluice cdc reset/);
      return true;
    });
    await resetCdc(runtime, testSpec(db.url));
    const again = await run(db.url);
    assert.equal(again.snapshotRows, 2);
  });
});
