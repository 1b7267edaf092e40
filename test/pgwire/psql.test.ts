import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../helpers/cli.js';
import { findPsql, runProgram, startTestServer, type TestServer } from './harness.js';

const psql = findPsql();

describe('psql against the wire server', { skip: psql ? false : 'psql is not installed' }, () => {
  let t: TestServer;
  const tmp = tempDir();
  before(async () => {
    t = await startTestServer();
  });
  after(async () => {
    await t?.close();
    tmp.remove();
  });

  const run = (args: string[], env: NodeJS.ProcessEnv = {}, onStart?: (child: ChildProcess) => void) =>
    runProgram(
      psql as string,
      ['-X', '-v', 'VERBOSITY=verbose', '-h', '127.0.0.1', '-p', String(t.port), '-d', 'sluice', ...args],
      {
        env: { PGUSER: 'sluice', PGPASSWORD: '', PGCONNECT_TIMEOUT: '10', ...env },
        onStart,
      },
    );

  test('lists tables and schemas and describes a table', async () => {
    const dt = await run(['-c', '\\dt']);
    assert.equal(dt.code, 0, dt.stderr);
    assert.match(dt.stdout, /shop\s+\|\s+orders\s+\|\s+table/);
    assert.match(dt.stdout, /clicks\s+\|\s+events\s+\|\s+table/);
    assert.match(
      dt.stdout,
      /shop\s+\|\s+big_orders\s+\|\s+table/,
      'views over lake tables are listed as tables',
    );

    const dn = await run(['-c', '\\dn']);
    assert.equal(dn.code, 0, dn.stderr);
    assert.match(dn.stdout, /^\s*shop\s+\|/m);

    const d = await run(['-c', '\\d shop.orders']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /Table "shop\.orders"/);
    assert.match(d.stdout, /id\s+\|\s+integer\s+\|\s+\|\s+not null/);
    assert.match(d.stdout, /amount\s+\|\s+numeric\(10,2\)/);
    assert.match(d.stdout, /placed_at\s+\|\s+timestamp without time zone/);

    const verbose = await run(['-c', '\\d+ shop.orders']);
    assert.equal(verbose.code, 0, verbose.stderr);
    assert.match(verbose.stdout, /customer\s+\|\s+text\s+\|.*\|\s+extended\s+\|/);

    const databases = await run(['-c', '\\l']);
    assert.equal(databases.code, 0, databases.stderr);
    assert.match(databases.stdout, /sluice\s+\|\s+sluice\s+\|\s+UTF8/);

    const view = await run(['-c', '\\d shop.big_orders']);
    assert.equal(view.code, 0, view.stderr);
    assert.match(view.stdout, /Table "shop\.big_orders"/);
    assert.match(view.stdout, /customer\s+\|\s+text/);
  });

  test('runs queries, SET and SHOW in one session', async () => {
    const r = await run([
      '-A',
      '-t',
      '-c',
      'SET search_path TO shop',
      '-c',
      'SELECT id, customer, amount, paid FROM orders ORDER BY id',
      '-c',
      'SHOW search_path',
      '-c',
      'SHOW server_version',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'SET',
      '1|ada|12.50|t',
      '2|bob|7.25|f',
      '3||100.00|',
      'shop',
      '15.0',
    ]);
  });

  test('prints the text form of the common types', async () => {
    const r = await run(['-A', '-t', '-c', 'SELECT * FROM clicks.events']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout.trim(),
      '6f1c1e3a-1b2c-4d5e-8f90-123456789abc|2024-03-04 05:06:07+00|2024-03-04|{"k": 1}|{a,"b c"}|\\x00ff6162',
    );
  });

  test('\\copy writes query results to a file in text and CSV', async () => {
    const tsv = join(tmp.dir, 'orders.tsv');
    const csv = join(tmp.dir, 'orders.csv');
    const r = await run([
      '-c',
      `\\copy (SELECT id, customer, placed_at FROM shop.orders ORDER BY id) to '${tsv}'`,
      '-c',
      `\\copy shop.orders (id, customer) to '${csv}' with (format csv, header)`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /COPY 3/);
    assert.equal(
      readFileSync(tsv, 'utf8'),
      '1\tada\t2024-01-02 03:04:05\n2\tbob\t2024-02-03 04:05:06.123456\n3\t\\N\t\\N\n',
    );
    assert.equal(readFileSync(csv, 'utf8'), 'id,customer\n1,ada\n2,bob\n3,\n');
  });

  test('errors carry SQLSTATE codes and the session continues', async () => {
    const r = await run(['-c', 'SELECT * FROM shop.nope', '-c', 'SELEC 1', '-c', "SELECT 'x'::int"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ERROR:\s+42P01: .*nope/);
    const more = await run(['-v', 'ON_ERROR_STOP=0', '-c', 'SELEC 1', '-c', 'SELECT 41 + 1']);
    assert.match(more.stderr, /ERROR:\s+42601: syntax error/);
    assert.match(more.stdout, /42/);
  });

  test('Ctrl-C cancels a long query with a CancelRequest', async () => {
    const r = await run(
      ['-c', 'SELECT count(*) FROM range(100000000) a, range(100000000) b'],
      {},
      (child) => {
        setTimeout(() => child.kill('SIGINT'), 700);
      },
    );
    assert.match(r.stderr, /57014: canceling statement due to user request/);
  });

  test('a user other than "sluice" needs a password', async () => {
    const bad = await run(['-c', 'SELECT 1'], { PGUSER: 'writer', PGPASSWORD: 'wrong' });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /password authentication failed for user "writer"/);
    const good = await run(['-A', '-t', '-c', 'SELECT current_user'], {
      PGUSER: 'writer',
      PGPASSWORD: 'w-secret',
    });
    assert.equal(good.code, 0, good.stderr);
    assert.equal(good.stdout.trim(), 'writer');
  });
});
