import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, tempDir } from '../helpers/cli.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { useS3 } from '../helpers/s3.js';

/** A `${NAME}` reference as written in sluice.yaml. */
const envRef = (name: string) => `\${${name}}`;

describe('sluice CLI', () => {
  const tmp = tempDir();
  after(() => tmp.remove());

  test('--help lists the commands and exits 0', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const cmd of ['init', 'status', 'demo', 'version', '--project', '--json', '--log-level']) {
      assert.ok(r.stdout.includes(cmd), `--help should mention ${cmd}`);
    }
  });

  test('version --json reports the package version', async () => {
    const r = await runCli(['version', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    assert.equal(JSON.parse(r.stdout).sluice, pkg.version);
  });

  test('an unknown command is a usage error (exit 2)', async () => {
    const r = await runCli(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command/);
  });

  test('init scaffolds a project whose backends are healthy', async () => {
    const dir = join(tmp.dir, 'shop');
    const init = await runCli(['init', dir]);
    assert.equal(init.code, 0, init.stderr);
    for (const f of ['sluice.yaml', 'pipelines', 'models', 'events', '.gitignore']) {
      assert.ok(existsSync(join(dir, f)), `${f} created`);
    }
    assert.match(readFileSync(join(dir, '.gitignore'), 'utf8'), /^\.sluice\/$/m);

    const status = await runCli(['status', '--json'], { cwd: dir });
    assert.equal(status.code, 0, status.stderr + status.stdout);
    const report = JSON.parse(status.stdout);
    assert.equal(report.project.name, 'shop');
    assert.equal(report.healthy, true);
    const byName = Object.fromEntries(report.backends.map((b: { name: string }) => [b.name, b]));
    assert.equal(byName.metastore.ok, true);
    assert.match(byName.metastore.detail, /schema version \d+/);
    assert.equal(byName.storage.ok, true);
    assert.ok(existsSync(join(dir, '.sluice', 'meta.db')), 'the SQLite metastore was created');

    const again = await runCli(['init', dir]);
    assert.equal(again.code, 1, 'init refuses to overwrite an existing project');
    assert.match(again.stderr, /sluice\.yaml/);
  });

  test('a config error names file, line and the closest key', async () => {
    const dir = join(tmp.dir, 'typo');
    assert.equal((await runCli(['init', dir])).code, 0);
    writeFileSync(join(dir, 'sluice.yaml'), 'name: typo\nmetastor:\n  url: sqlite://./x.db\n');
    const r = await runCli(['status', '--project', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /sluice\.yaml:2:1/);
    assert.match(r.stderr, /metastore/);
  });

  describe('on PostgreSQL and S3', () => {
    let pg: Awaited<ReturnType<typeof createTestDatabase>>;
    let s3: Awaited<ReturnType<typeof useS3>>;
    before(async () => {
      pg = await createTestDatabase();
      s3 = await useS3();
    });
    after(async () => {
      await pg?.drop();
      await s3?.stop();
    });

    test('status reports both remote backends healthy, with secrets from the environment', async () => {
      const dir = join(tmp.dir, 'remote');
      assert.equal((await runCli(['init', dir])).code, 0);
      writeFileSync(
        join(dir, 'sluice.yaml'),
        [
          'name: remote',
          'storage:',
          `  url: s3://${s3.bucket}/${s3.prefix}/cli`,
          `  endpoint: ${s3.endpoint}`,
          '  forcePathStyle: true',
          `  accessKeyId: ${envRef('TEST_S3_KEY')}`,
          `  secretAccessKey: ${envRef('TEST_S3_SECRET')}`,
          'metastore:',
          `  url: ${envRef('TEST_PG_URL')}`,
          '',
        ].join('\n'),
      );
      const env = { TEST_PG_URL: pg.url, TEST_S3_KEY: s3.accessKeyId, TEST_S3_SECRET: s3.secretAccessKey };
      const r = await runCli(['status', '--json', '--project', dir], { env });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const report = JSON.parse(r.stdout);
      assert.equal(report.healthy, true, r.stdout);
      assert.ok(!r.stdout.includes(s3.secretAccessKey), 'the S3 secret is not printed');
    });

    test('an unreachable PostgreSQL fails within 5 s and masks the password', async () => {
      const dir = join(tmp.dir, 'down');
      assert.equal((await runCli(['init', dir])).code, 0);
      writeFileSync(
        join(dir, 'sluice.yaml'),
        'metastore:\n  url: postgres://app:topsecret@127.0.0.1:1/lake\n',
      );
      const r = await runCli(['status', '--project', dir]);
      assert.equal(r.code, 1);
      assert.ok(r.ms < 8000, `took ${r.ms} ms`);
      assert.match(r.stdout, /metastore\s+FAILED/);
      assert.ok(!(r.stdout + r.stderr).includes('topsecret'), 'password masked');
      assert.match(r.stdout, /127\.0\.0\.1:1/);
    });
  });
});
