import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIGRATIONS } from '../../src/metastore/index.js';
import { migrationSql } from '../../src/metastore/migrate.js';
import { assertChannel, assertIdentifier, casStatement, toPgPlaceholders } from '../../src/metastore/sql.js';
import { InvalidInputError } from '../../src/util/index.js';

test('placeholders are numbered outside literals, quoted names and comments', () => {
  assert.equal(toPgPlaceholders('SELECT ? , ?'), 'SELECT $1 , $2');
  assert.equal(toPgPlaceholders("SELECT '?', 'it''s ?', ?"), "SELECT '?', 'it''s ?', $1");
  assert.equal(toPgPlaceholders("SELECT E'\\'?', ?"), "SELECT E'\\'?', $1");
  assert.equal(toPgPlaceholders('SELECT "a?" FROM t WHERE x = ?'), 'SELECT "a?" FROM t WHERE x = $1');
  assert.equal(toPgPlaceholders('SELECT $$ ? $$, $tag$ ? $tag$, ?'), 'SELECT $$ ? $$, $tag$ ? $tag$, $1');
  assert.equal(
    toPgPlaceholders('SELECT ? -- ?\n, ? /* ? /* ? */ ? */ , ?'),
    'SELECT $1 -- ?\n, $2 /* ? /* ? */ ? */ , $3',
  );
  assert.equal(toPgPlaceholders('SELECT 1'), 'SELECT 1');
  assert.equal(toPgPlaceholders("SELECT 'unterminated ?"), "SELECT 'unterminated ?");
});

test('compare-and-swap SQL compares NULL with IS NULL and binds everything else', () => {
  const { sql, params } = casStatement({
    table: 'iceberg_tables',
    key: { catalog_name: 'c', table_namespace: 'ns', table_name: 't' },
    expected: { metadata_location: 'm1', previous_metadata_location: null },
    set: { metadata_location: 'm2', previous_metadata_location: 'm1' },
  });
  assert.equal(
    sql,
    'UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ? AND previous_metadata_location IS NULL',
  );
  assert.deepEqual(params, ['m2', 'm1', 'c', 'ns', 't', 'm1']);
});

test('identifiers and channels are validated strictly', () => {
  assert.equal(assertIdentifier('sluice_jobs'), 'sluice_jobs');
  for (const bad of ['', '1abc', 'a b', 'a;b', 'Table', 'a"', 'x'.repeat(64), 42]) {
    assert.throws(() => assertIdentifier(bad), InvalidInputError, String(bad));
  }
  assert.equal(assertChannel('runs.done'), 'runs.done');
  for (const bad of ['', 'a b', 'a"b', 'Runs', '.x'])
    assert.throws(() => assertChannel(bad), InvalidInputError);
});

test('migrations are numbered 1..n with SQL for both backends', () => {
  MIGRATIONS.forEach((m, i) => {
    assert.equal(m.version, i + 1);
    assert.ok(m.name.length > 0);
    assert.ok(migrationSql(m, 'sqlite').trim().length > 0);
    assert.ok(migrationSql(m, 'postgres').trim().length > 0);
  });
});
