import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { scaffoldProject } from '../../src/config/index.js';
import { runCli, tempDir } from '../helpers/cli.js';

const tmp = tempDir();
const dir = join(tmp.dir, 'proj');
before(() => scaffoldProject(dir, { name: 'auth-proj' }));
after(() => tmp.remove());

async function sluice(args: string[], input?: string) {
  const r = await runCli(['--project', dir, ...args], { input });
  return {
    ...r,
    json:
      r.stdout.trim().startsWith('[') || r.stdout.trim().startsWith('{') ? JSON.parse(r.stdout) : undefined,
  };
}

test('users, roles, tokens and grants from the CLI', { timeout: 60_000 }, async () => {
  assert.equal((await sluice(['roles', 'create', 'analyst', '--description', 'reads marts'])).code, 0);
  const created = await sluice(
    ['users', 'create', 'ann', '--password-stdin', '--role', 'analyst'],
    'a long password\n',
  );
  assert.equal(created.code, 0, created.stderr);
  const users = await sluice(['--json', 'users', 'list']);
  assert.deepEqual(
    users.json.map((u: { name: string; roles: string[]; hasPassword: boolean }) => [
      u.name,
      u.roles,
      u.hasPassword,
    ]),
    [['ann', ['analyst'], true]],
  );

  const grant = await sluice(['grants', 'add', 'analyst', 'read', 'namespace:marts']);
  assert.equal(grant.code, 0, grant.stderr);
  assert.match(grant.stdout, /granted read on namespace:marts to analyst/);
  const grants = await sluice(['--json', 'grants', 'list']);
  assert.deepEqual(grants.json, [{ role: 'analyst', kind: 'namespace', name: 'marts', privilege: 'read' }]);

  const token = await sluice(['--json', 'tokens', 'create', 'ann', '--scope', 'read', '--expires', '30d']);
  assert.equal(token.code, 0, token.stderr);
  assert.match(token.json.token, /^sluice_/);
  const listed = await sluice(['tokens', 'list']);
  assert.match(listed.stdout, new RegExp(`${token.json.id}.*ann.*read.*active`));
  assert.doesNotMatch(listed.stdout, new RegExp(token.json.token.slice(-16)));
  assert.equal((await sluice(['tokens', 'revoke', token.json.id])).code, 0);
  assert.match((await sluice(['tokens', 'list'])).stdout, /revoked/);

  const revoke = await sluice(['grants', 'revoke', 'analyst', 'read', 'namespace:marts']);
  assert.match(revoke.stdout, /revoked read/);
});

test('bad input is refused with a clear message', { timeout: 60_000 }, async () => {
  const badResource = await sluice(['grants', 'add', 'analyst', 'read', 'tabel:x']);
  assert.equal(badResource.code, 1);
  assert.match(badResource.stderr, /invalid resource "tabel:x"/);
  const badPrivilege = await sluice(['grants', 'add', 'analyst', 'run', 'table:x.y']);
  assert.match(badPrivilege.stderr, /privilege "run" does not apply to a table/);
  const weak = await sluice(['users', 'create', 'bob', '--password-stdin'], 'short\n');
  assert.match(weak.stderr, /too short/);
  const noStdin = await sluice(['users', 'create', 'bob', '--password-stdin'], '');
  assert.match(noStdin.stderr, /no password on stdin/);
  const badExpiry = await sluice(['tokens', 'create', 'ann', '--expires', 'soon']);
  assert.match(badExpiry.stderr, /invalid --expires/);
});
