import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { openEngine } from '../../src/engine/index.js';
import { silentLogger } from '../../src/observe/index.js';
import { flushSystemTables } from '../../src/system/index.js';
import { query } from '../engine/helpers.js';
import { startServe, stopAll } from './cluster.js';
import { openTestProject, projectDir } from './helpers.js';
import { historySuite } from './history-suite.js';

historySuite('SQLite + local storage', async () => ({ sluiceYaml: '', close: async () => undefined }));

test('kill -9 of a worker mid-task: one history row per attempt, one per run', async () => {
  const dir = projectDir({}, 'orchestrator: { leaseMs: 1500, pollMs: 100, schedulerIntervalMs: 200 }\n');
  const flag = `${dir}/second`;

  mkdirSync(`${dir}/pipelines`);
  writeFileSync(
    `${dir}/pipelines/slow.yaml`,
    `name: slow
tasks:
  - { id: a, run: { command: "if [ -f ${flag} ]; then echo second; else touch ${flag}; echo started; sleep 15; fi" } }
`,
  );
  const p = await openTestProject({}, { dir });
  const victim = startServe(dir, 'worker');
  const flush = () => flushSystemTables({ meta: p.runtime.meta, store: p.runtime.store, log: silentLogger });
  try {
    await victim.ready;
    const run = await p.orch.trigger('slow');
    const deadline = Date.now() + 20_000;
    while ((await p.orch.logs(run.runId)).every((l) => l.text !== 'started')) {
      assert.ok(Date.now() < deadline, 'the worker process started the task');
      await new Promise((r) => setTimeout(r, 50));
    }
    victim.child.kill('SIGKILL');
    await victim.exited;
    await flush(); // nothing of the run is final yet
    await p.orch.startWorker();
    assert.equal((await p.orch.waitForRun(run.runId)).state, 'success');
    await flush();
    await flush();
    const engine = await openEngine(p.runtime);
    try {
      const sql = await engine.openSession({ name: 'q', readOnly: true });
      assert.deepEqual(
        await query(sql, 'SELECT task_id, attempt, state FROM sluice_system.task_runs ORDER BY attempt'),
        [
          ['a', 1, 'lost'],
          ['a', 2, 'success'],
        ],
      );
      assert.deepEqual(await query(sql, 'SELECT run_id, state FROM sluice_system.runs'), [
        [run.runId, 'success'],
      ]);
      assert.deepEqual(
        await query(sql, 'SELECT attempt, text FROM sluice_system.task_logs ORDER BY attempt, seq'),
        [
          [1, 'started'],
          [2, 'second'],
        ],
      );
    } finally {
      await engine.close();
    }
  } finally {
    await stopAll([victim]);
    await p.close();
  }
});
