import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openTable, parseJson } from '../../src/table/index.js';
import { runCli } from '../helpers/cli.js';
import { type CatalogEnv, openCatalogEnv, schemaOf } from './table-helpers.js';

describe('sluice tables compact | expire | remove-orphans', () => {
  let env: CatalogEnv;
  let project: string;
  const id = { namespace: ['ops'], name: 'events' };

  before(async () => {
    env = await openCatalogEnv();
    project = join(env.dir, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'sluice.yaml'),
      `name: cli-test\nstorage: { url: "${env.storage.url}" }\nmetastore: { url: "${env.metaUrl}" }\n`,
    );
    await env.catalog.createNamespace(['ops']);
    await env.catalog.createTable(id, { schema: { ...schemaOf([['id', 'long', true]]), 'schema-id': 0 } });
    const table = await openTable(env.catalog, env.store, env.duck, id);
    for (let i = 0; i < 3; i++) await table.append(`SELECT ${i * 10} + i AS id FROM range(10) t(i)`);
  });
  after(() => env.close());

  const sluice = async (...args: string[]) => {
    const r = await runCli([...args, '--project', project, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return parseJson(r.stdout) as Record<string, unknown>;
  };

  test('compact merges the small files into one snapshot', async () => {
    const out = await sluice('tables', 'compact', 'ops.events');
    assert.equal(out.rewrittenFiles, 3);
    assert.equal(out.addedFiles, 1);
    const table = await openTable(env.catalog, env.store, env.duck, id);
    assert.equal(table.currentSnapshot()?.summary.operation, 'replace');
    assert.equal(table.currentSnapshot()?.summary['total-records'], '30');
  });

  test('expire and remove-orphans', async () => {
    const out = await sluice('tables', 'expire', 'ops.events', '--older-than', '0', '--retain-last', '1');
    assert.equal((out.expiredSnapshotIds as unknown[]).length, 3);
    assert.ok(Number(out.deletedFiles) >= 3);
    const dry = await sluice('tables', 'remove-orphans', 'ops.events', '--older-than', '0', '--dry-run');
    assert.equal(dry.dryRun, true);
    const bad = await runCli([
      'tables',
      'expire',
      'ops.events',
      '--older-than',
      'soon',
      '--project',
      project,
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--older-than "soon" is not a duration/);
  });
});
