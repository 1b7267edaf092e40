import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AuthStore } from '../../src/auth/index.js';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import { silentLogger } from '../../src/observe/index.js';
import { openRuntime } from '../../src/runtime/index.js';
import { runCli, tempDir } from '../helpers/cli.js';

describe('embedded sluice sql: the owner, audited as local:<OS user>; --user and SLUICE_TOKEN apply a policy', () => {
  const tmp = tempDir();
  const dir = join(tmp.dir, 'proj');
  let token: string;
  const env = { SLUICE_TOKEN: '' };

  before(async () => {
    await scaffoldProject(dir, { name: 'embedded' });
    const made = await runCli(
      ['sql', "CREATE TABLE shop.c AS SELECT 1 AS id, 'ann@example.com' AS email; SELECT 1"],
      { cwd: dir, env },
    );
    assert.equal(made.code, 0, made.stderr);
    const tagged = await runCli(['tables', 'set-pii', 'shop.c', 'email'], { cwd: dir, env });
    assert.equal(tagged.code, 0, tagged.stderr);
    const runtime = await openRuntime(await loadProject(dir), silentLogger);
    try {
      const store = new AuthStore(runtime.meta);
      await store.createRole('readers');
      await store.createUser('reader', { roles: ['readers'] });
      await store.grant({ role: 'readers', kind: 'namespace', name: 'shop', privilege: 'read' });
      token = (await store.createToken('reader')).token;
    } finally {
      await runtime.close();
    }
  });
  after(() => tmp.remove());

  const emails = async (args: string[], e: Record<string, string> = env) => {
    const r = await runCli(['sql', '--format', 'json', ...args, 'SELECT email FROM shop.c'], {
      cwd: dir,
      env: e,
    });
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { email: string }[]).map((row) => row.email);
  };

  test('the owner sees the data; --user and SLUICE_TOKEN see it masked; unknown users are refused', async () => {
    assert.deepEqual(await emails([]), ['ann@example.com']);
    const asUser = await emails(['--user', 'reader']);
    assert.equal(asUser.length, 1);
    assert.notEqual(asUser[0], 'ann@example.com');
    assert.deepEqual(await emails([], { SLUICE_TOKEN: token }), asUser);
    const write = await runCli(['sql', '--user', 'reader', 'INSERT INTO shop.c SELECT 2, NULL'], {
      cwd: dir,
      env,
    });
    assert.notEqual(write.code, 0);
    assert.match(write.stderr, /permission denied|read-only/i);
    const nobody = await runCli(['sql', '--user', 'nobody', 'SELECT 1'], { cwd: dir, env });
    assert.notEqual(nobody.code, 0);
    assert.match(nobody.stderr, /--user: no user "nobody"/);
  });

  test("statements are audited: the owner as local:<OS user>, a user's session as that user", async () => {
    const runtime = await openRuntime(await loadProject(dir), silentLogger);
    try {
      const rows = (
        await runtime.meta.query<{ payload: string }>(
          "SELECT payload FROM sluice_system_outbox WHERE table_name = 'audit' ORDER BY id",
        )
      ).map((r) => JSON.parse(r.payload) as Record<string, string>);
      const queries = rows.filter((r) => r.action === 'query' && r.surface === 'cli');
      const owner = queries.filter((r) => r.actor === `local:${userInfo().username}`);
      assert.ok(owner.length >= 3, `owner statements audited: ${JSON.stringify(queries)}`);
      assert.ok(owner.every((r) => r.via === 'local' && /"statement":"[0-9a-f]{32}"/.test(r.detail ?? '')));
      assert.ok(queries.some((r) => r.actor === 'reader' && r.outcome === 'ok'));
      assert.ok(queries.some((r) => r.actor === 'reader' && r.outcome === 'denied'));
    } finally {
      await runtime.close();
    }
  });
});
