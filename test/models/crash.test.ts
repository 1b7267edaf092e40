import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { scaffoldProject } from '../../src/config/index.js';
import { runCli, sluiceBin, tempDir } from '../helpers/cli.js';
import { SHOP } from './helpers.js';

/** Start `sluice models build` and SIGKILL it once `after` models have started building. */
function killDuringBuild(dir: string, after: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        sluiceBin,
        '--project',
        dir,
        'models',
        'build',
        '--dir',
        'shop',
        '--threads',
        '1',
        '-s',
        '+customers +orders',
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let started = 0;
    child.stderr.on('data', (d: Buffer) => {
      started += (String(d).match(/^building /gm) ?? []).length;
      if (started >= after) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', () => resolve());
  });
}

describe('a model build killed mid-way', () => {
  const tmp = tempDir('sluice-models-crash-');
  const dir = join(tmp.dir, 'proj');
  before(async () => {
    await scaffoldProject(dir, { name: 'proj' });
    cpSync(SHOP, join(dir, 'shop'), { recursive: true });
  });
  after(() => tmp.remove());

  test('leaves every table whole, and the next build completes', async () => {
    await killDuringBuild(dir, 6);
    // Whatever was committed before the kill is readable and complete.
    const tables = await runCli([
      '--project',
      dir,
      '--json',
      'sql',
      "SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema LIKE 'shop%' ORDER BY 1",
    ]);
    assert.equal(tables.code, 0, tables.stderr);
    const built = (JSON.parse(tables.stdout) as { t: string }[]).map((r) => r.t);
    assert.ok(built.length >= 1 && built.length < 9, `built before the kill: ${built.join(', ')}`);
    if (built.includes('shop_raw.raw_orders')) {
      const n = await runCli([
        '--project',
        dir,
        '--json',
        'sql',
        'SELECT count(*) AS n FROM shop_raw.raw_orders',
      ]);
      assert.deepEqual(JSON.parse(n.stdout), [{ n: 10 }]);
    }
    const again = await runCli(
      ['--project', dir, '--json', 'models', 'build', '--dir', 'shop', '-s', '+customers +orders'],
      { timeoutMs: 120_000 },
    );
    assert.equal(again.code, 0, again.stderr);
    const result = JSON.parse(again.stdout) as { models: { status: string }[]; tests: { status: string }[] };
    assert.ok(result.models.every((m) => m.status === 'success'));
    assert.ok(result.tests.every((t) => t.status === 'pass'));
    const check = await runCli([
      '--project',
      dir,
      '--json',
      'sql',
      'SELECT count(*) AS n, sum(number_of_orders) AS o FROM shop.customers',
    ]);
    assert.deepEqual(JSON.parse(check.stdout), [{ n: 6, o: 10 }]);
  });
});
