import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { splitStatements } from '../../src/engine/lexer.js';
import { rewriteForDuckDb } from '../../src/serve/pgwire/catalog.js';
import { startTestServer, type TestServer } from './harness.js';

describe('catalog compatibility', () => {
  test('rewrites leave string literals alone', () => {
    const sql = rewriteForDuckDb(
      "SELECT 'OPERATOR(pg_catalog.~) version()' AS s, version() AS v WHERE x OPERATOR(pg_catalog.~) '^a' COLLATE pg_catalog.default",
      () => undefined,
    );
    assert.match(sql, /^SELECT 'OPERATOR\(pg_catalog\.~\) version\(\)' AS s, 'PostgreSQL 15\.0 /);
    assert.match(sql, /WHERE x\s+~\s+'\^a'$/);
  });

  test('statements split on top-level semicolons only', () => {
    assert.deepEqual(splitStatements('SELECT \';\'; SELECT $$a;b$$ -- c;\n; /* ; */ SELECT "x;"'), [
      "SELECT ';'",
      'SELECT $$a;b$$ -- c;',
      '/* ; */ SELECT "x;"',
    ]);
    // E'' strings with backslash escapes, tags with digits, nested comments, empty statements.
    assert.deepEqual(splitStatements("SELECT E'it\\'s;'; SELECT $q1$;$q1$;; /* a /* ; */ ; */ SELECT 2;"), [
      "SELECT E'it\\'s;'",
      'SELECT $q1$;$q1$',
      '/* a /* ; */ ; */ SELECT 2',
    ]);
  });

  describe('introspection queries of drivers and BI tools', () => {
    let t: TestServer;
    let c: pg.Client;
    before(async () => {
      t = await startTestServer();
      c = new pg.Client({ connectionString: t.url() });
      await c.connect();
    });
    after(async () => {
      await c?.end();
      await t?.close();
    });

    test('version, settings and the current user and schema', async () => {
      const r = await c.query(
        "SELECT version() AS v, current_setting('server_version_num') AS num, current_user AS u, current_schema() AS s",
      );
      assert.match(r.rows[0].v, /^PostgreSQL 15\.0 /);
      assert.equal(r.rows[0].num, '150000');
      assert.equal(r.rows[0].u, 'sluice');
      assert.equal(typeof r.rows[0].s, 'string');
      const show = await c.query('SHOW TimeZone');
      assert.deepEqual(show.rows, [{ timezone: 'UTC' }]);
      const set = await c.query("SET application_name = 'report'");
      assert.equal(set.command, 'SET');
      assert.deepEqual((await c.query('SHOW application_name')).rows, [{ application_name: 'report' }]);
      await assert.rejects(
        c.query("SET client_encoding = 'LATIN1'"),
        (e: { code?: string }) => e.code === '22023',
      );
      await assert.rejects(c.query('SHOW no_such_setting'), (e: { code?: string }) => e.code === '42704');
    });

    test('tables and columns through information_schema and pg_catalog', async () => {
      const tables = await c.query(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('shop', 'clicks') ORDER BY 1, 2",
      );
      assert.deepEqual(
        tables.rows.map((r) => `${r.table_schema}.${r.table_name}`),
        ['clicks.events', 'shop.big_orders', 'shop.orders'],
      );
      const rel = await c.query(`SELECT c.relname, c.relkind FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'shop' ORDER BY 1`);
      assert.deepEqual(rel.rows, [
        { relname: 'big_orders', relkind: 'r' },
        { relname: 'orders', relkind: 'r' },
      ]);
      const byRegclass = await c.query(
        "SELECT count(*)::INTEGER AS n FROM pg_catalog.pg_attribute WHERE attrelid = 'shop.orders'::regclass AND attnum > 0",
      );
      assert.equal(byRegclass.rows[0].n, 5);
    });

    test('transaction control is acknowledged', async () => {
      assert.equal((await c.query('BEGIN')).command, 'BEGIN');
      assert.equal((await c.query('SELECT 1 AS x')).rows[0].x, 1);
      assert.equal((await c.query('COMMIT')).command, 'COMMIT');
      assert.equal((await c.query('ROLLBACK')).command, 'ROLLBACK');
    });

    test('COPY FROM STDIN is refused with a hint', async () => {
      await assert.rejects(c.query('COPY shop.orders FROM STDIN'), (e: { code?: string; hint?: string }) => {
        return e.code === '0A000' && /COPY \(query\) TO STDOUT/.test(e.hint ?? '');
      });
    });
  });
});
