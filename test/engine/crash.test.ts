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
