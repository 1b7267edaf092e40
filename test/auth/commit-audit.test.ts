import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openCatalog } from '../../src/catalog/index.js';
import { openEngine } from '../../src/engine/index.js';
import { silentLogger } from '../../src/observe/index.js';
import { flushSystemTables } from '../../src/system/index.js';
import { localUser } from '../../src/util/index.js';
import { openTestProject } from '../orchestrator/helpers.js';

interface AuditPayload {
  actor: string;
  via: string;
  surface: string;
  action: string;
  resource: string | null;
  detail: string | null;
}

test('table commits and runs started by hand are audited with their actor: a pipeline task, the local user; platform tables are not', async () => {
  const p = await openTestProject(
    {
      'pipelines/build.yaml': `name: build
tasks:
  - { id: make, sql: "CREATE TABLE shop.t AS SELECT 1 AS id" }
  - { id: more, depends_on: [make], sql: "INSERT INTO shop.t VALUES (2)" }
`,
    },
    { sluiceYaml: 'orchestrator: { pollMs: 50 }\n' },
  );
  try {
    await openCatalog(p.runtime).createNamespace(['shop']);
    await p.orch.startWorker();
    const run = await p.orch.trigger('build');
    assert.equal((await p.orch.waitForRun(run.runId)).state, 'success');

    const engine = await openEngine(p.runtime);
    try {
      const session = await engine.openSession({ name: 'owner', readOnly: false });
      for (const sql of ['INSERT INTO shop.t VALUES (3)', 'DROP TABLE shop.t']) {
        const result = await session.run(sql);
        for await (const _ of result.batches());
      }
    } finally {
      await engine.close();
    }
    const audit = async () =>
      (
        await p.runtime.meta.query<{ payload: string }>(
          "SELECT payload FROM sluice_system_outbox WHERE table_name = 'audit' ORDER BY id",
        )
      ).map((r) => JSON.parse(r.payload) as AuditPayload);
    const rows = await audit();
    // The run itself was started by hand from this process: the local user's trigger.
    assert.deepEqual(
      rows.filter((r) => r.action === 'trigger').map((r) => [r.actor, r.surface, r.resource]),
      [[`local:${localUser()}`, 'cli', 'pipeline:build']],
    );
    const commits = rows.filter((r) => ['create', 'commit', 'drop'].includes(r.action));
    assert.deepEqual(
      commits.map((r) => [r.action, r.actor, r.via, r.surface, r.resource]),
      [
        // CREATE TABLE AS: the table and its first rows are one commit.
        ['create', 'pipeline:build', 'pipeline', 'pipeline', 'table:shop.t'],
        ['commit', 'pipeline:build', 'pipeline', 'pipeline', 'table:shop.t'],
        ['commit', `local:${localUser()}`, 'local', 'cli', 'table:shop.t'],
        ['drop', `local:${localUser()}`, 'local', 'cli', 'table:shop.t'],
      ],
    );
    const [create, insert] = commits.map((r) => JSON.parse(r.detail ?? '{}') as Record<string, unknown>);
    assert.equal(create?.run_id, run.runId);
    assert.equal(create?.task_id, 'make');
    assert.equal(create?.operation, 'append');
    assert.match(String(create?.snapshot_id), /^\d+$/);
    assert.equal(insert?.task_id, 'more');
    assert.equal(insert?.operation, 'append');
    assert.match(String(insert?.snapshot_id), /^\d+$/);

    // Flushing moves the rows to sluice_system.* tables by commits that are never audited
    // (they would audit themselves forever).
    await flushSystemTables({ meta: p.runtime.meta, store: p.runtime.store, log: silentLogger });
    assert.deepEqual(
      (await audit()).filter((r) => r.resource?.startsWith('table:sluice_system.')),
      [],
    );
  } finally {
    await p.close();
  }
});
