import assert from 'node:assert/strict';
import { appendFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openEngine } from '../../src/engine/index.js';
import { query } from '../engine/helpers.js';
import { openTestProject, type TestProject } from '../orchestrator/helpers.js';
import { SHOP } from './helpers.js';

describe('the model task kind in a pipeline', () => {
  let p: TestProject;
  before(async () => {
    p = await openTestProject(
      {
        'pipelines/marts.yaml': `
name: marts
tasks:
  - id: customers
    model: { select: "+customers", dir: dbt, threads: 2 }
  - id: orders
    depends_on: [customers]
    model: { select: "orders", dir: dbt }
`,
      },
      { sluiceYaml: 'orchestrator: { pollMs: 50 }\n' },
    );
    cpSync(SHOP, join(p.dir, 'dbt'), { recursive: true });
    await p.orch.startWorker({ concurrency: 2 });
  });
  after(() => p?.close());

  test('builds the selected models and runs their tests; an error-severity failure fails the task', async () => {
    const run = await p.orch.trigger('marts');
    const done = await p.orch.waitForRun(run.runId);
    const tasks = await p.orch.taskRuns(run.runId);
    assert.equal(done.state, 'success', JSON.stringify(tasks));
    const customers = tasks.find((t) => t.taskId === 'customers');
    assert.equal((customers?.summary as { built?: number } | undefined)?.built, 7);
    const engine = await openEngine(p.runtime);
    try {
      const session = await engine.openSession({ name: 't', readOnly: true });
      assert.deepEqual(await query(session, 'SELECT count(*) FROM shop.orders'), [[10]]);
      await session.close();
    } finally {
      await engine.close();
    }

    appendFileSync(join(p.dir, 'dbt/seeds/raw_customers.csv'), '1,Duplicate,Id\n');
    const second = await p.orch.trigger('marts');
    const failed = await p.orch.waitForRun(second.runId);
    assert.equal(failed.state, 'failed');
    const task = (await p.orch.taskRuns(second.runId)).find((t) => t.taskId === 'customers');
    assert.equal(task?.state, 'failed');
    assert.match(String(task?.error), /unique_stg_customers_customer_id/);
  });
});
