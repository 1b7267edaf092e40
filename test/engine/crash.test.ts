import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { killWhileWriting, testProject } from './helpers.js';

test('an INSERT killed with SIGKILL commits all of its rows or none, and the table stays usable', async () => {
  const p = await testProject();
  try {
    const sql = (q: string) => runCli(['--project', p.dir, 'sql', '--format', 'csv', q]);
    const created = await sql('CREATE TABLE crash.t AS SELECT range AS id FROM range(1000)');
    assert.equal(created.code, 0, created.stderr);
    await killWhileWriting(p.dir, 'INSERT INTO crash.t SELECT 1000 + range FROM range(20000000)');
    const after = await sql('SELECT count(*) AS n FROM crash.t');
    assert.equal(after.code, 0, after.stderr);
    const n = Number(after.stdout.split('\n')[1]);
    assert.ok(n === 1000 || n === 20_001_000, `partial commit: ${n} rows`);
    const again = await sql('INSERT INTO crash.t VALUES (-1)');
    assert.equal(again.code, 0, again.stderr);
    const final = await sql('SELECT count(*) AS n FROM crash.t');
    assert.equal(Number(final.stdout.split('\n')[1]), n + 1);
  } finally {
    await p.remove();
  }
});

test('CREATE TABLE AS is one commit; killed with SIGKILL it leaves no table or the whole one', async () => {
  const p = await testProject();
  try {
    const sql = (q: string) => runCli(['--project', p.dir, 'sql', '--format', 'csv', q]);
    const small = await sql('CREATE TABLE crash.one AS SELECT range AS id FROM range(10)');
    assert.equal(small.code, 0, small.stderr);
    // The table and its rows arrive together: its first metadata file already holds the snapshot.
    const loaded = await p.catalog.loadTable({ namespace: ['crash'], name: 'one' });
    assert.equal(loaded.metadata['metadata-log'].length, 0);
    assert.equal(loaded.metadata.snapshots.length, 1);
    assert.equal(loaded.metadata.snapshots[0]?.summary['added-records'], '10');
    await killWhileWriting(p.dir, 'CREATE TABLE crash.t AS SELECT range AS id FROM range(20000000)');
    const exists = await p.catalog.tableExists({ namespace: ['crash'], name: 't' });
    if (exists) {
      const count = await sql('SELECT count(*) AS n FROM crash.t');
      assert.equal(Number(count.stdout.split('\n')[1]), 20_000_000, 'a table that exists holds every row');
    } else {
      const again = await sql('CREATE TABLE crash.t AS SELECT 1 AS id');
      assert.equal(again.code, 0, again.stderr);
      const final = await sql('SELECT * FROM crash.t');
      assert.equal(final.stdout.trim(), 'id\n1');
    }
  } finally {
    await p.remove();
  }
});
