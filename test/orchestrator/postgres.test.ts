import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { type ServeProcess, startServe, stopAll } from './cluster.js';
import { openTestProject, projectDir, type TestProject } from './helpers.js';

/** A layered DAG: `layers` × `width` noop tasks, each depending on one task of the layer before. */
function layered(name: string, layers: number, width: number, task = 'noop: {}'): string {
  const lines = [`name: ${name}`, 'tasks:'];
  for (let l = 0; l < layers; l++) {
    for (let w = 0; w < width; w++) {
      const dep = l > 0 ? `, depends_on: [t${l - 1}_${(w * 7) % width}]` : '';
      lines.push(`  - { id: t${l}_${w}${dep}, ${task} }`);
    }
  }
  return `${lines.join('\n')}\n`;
}

describe('scale-out on PostgreSQL', () => {
  let db: TestDatabase;
  let dir: string;
  let p: TestProject;
  const procs: ServeProcess[] = [];
  before(async () => {
    db = await createTestDatabase();
    dir = projectDir(
      {
        'pipelines/wide.yaml': layered('wide', 20, 100),
        'pipelines/slow.yaml': layered('slow', 1, 6, 'noop: { sleep: 2s }'),
      },
      `metastore: { url: "${db.url}", poolMax: 4 }\norchestrator: { leaseMs: 5000, pollMs: 200, concurrency: 8 }\n`,
    );
    p = await openTestProject({}, { dir });
    procs.push(startServe(dir, 'scheduler'));
    for (let i = 0; i < 4; i++) procs.push(startServe(dir, 'worker'));
    await Promise.all(procs.map((s) => s.ready));
  });
  after(async () => {
    await stopAll(procs);
    await p?.close();
    await db?.drop();
  });

  test('1 scheduler + 4 worker processes run 2,000 tasks, each exactly once', async () => {
    const run = await p.orch.trigger('wide');
    const done = await p.orch.waitForRun(run.runId);
    assert.equal(done.state, 'success');
    const [counts] = await p.runtime.meta.query<{ attempts: number; tasks: number; workers: number }>(
      `SELECT COUNT(*) AS attempts, COUNT(DISTINCT task_id) AS tasks, COUNT(DISTINCT worker_id) AS workers
       FROM sluice_task_attempts WHERE run_id = ?`,
      [run.runId],
    );
    assert.equal(counts?.tasks, 2000);
    const twice = await p.runtime.meta.query(
      `SELECT task_id, attempt, state, worker_id, error FROM sluice_task_attempts
       WHERE run_id = ? AND task_id IN (SELECT task_id FROM sluice_task_attempts WHERE run_id = ? AND attempt > 1)`,
      [run.runId, run.runId],
    );
    assert.equal(counts?.attempts, 2000, `no task ran twice: ${JSON.stringify(twice)}`);
    assert.ok(Number(counts?.workers) > 1, `work was shared (${counts?.workers} workers)`);
    const tasks = await p.orch.taskRuns(run.runId);
    assert.ok(tasks.every((t) => t.state === 'success' && t.tries === 1));
  });

  test('kill -9 of a worker mid-task: the task is retried elsewhere, one success each', async () => {
    const run = await p.orch.trigger('slow');
    let victim: ServeProcess | undefined;
    const deadline = Date.now() + 20_000;
    while (!victim && Date.now() < deadline) {
      const running = (await p.orch.taskRuns(run.runId)).find((t) => t.state === 'running');
      const pid = running?.workerId?.split(':')[1];
      victim = procs.find((s) => String(s.child.pid) === pid);
      if (!victim) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(victim, 'a worker process picked up a task');
    victim.child.kill('SIGKILL');
    await victim.exited;
    const done = await p.orch.waitForRun(run.runId);
    assert.equal(done.state, 'success');
    const attempts = await p.orch.attempts(run.runId);
    const success = new Map<string, number>();
    for (const a of attempts)
      if (a.state === 'success') success.set(a.taskId, (success.get(a.taskId) ?? 0) + 1);
    assert.equal(success.size, 6);
    assert.ok(
      [...success.values()].every((n) => n === 1),
      'exactly one success per task',
    );
    const lost = attempts.filter((a) => a.state === 'lost');
    assert.ok(lost.length >= 1, 'the killed worker left a lost attempt');
    assert.ok(lost.every((a) => a.workerId.split(':')[1] === String(victim.child.pid)));
  });
});

describe('two schedulers on PostgreSQL', () => {
  test('no logical date is scheduled twice', async () => {
    const db = await createTestDatabase();
    const now = Date.parse('2026-06-03T00:30:00Z');
    const files = {
      'pipelines/hourly.yaml': `name: hourly
schedule: "0 * * * *"
start: "2026-06-01T00:00:00Z"
catchup: true
max_active_runs: 1000
tasks: [{ id: a, noop: {} }]
`,
    };
    const yaml = `metastore: { url: "${db.url}", poolMax: 4 }\n`;
    const dir = projectDir(files, yaml);
    const a = await openTestProject({}, { dir, options: { now: () => now } });
    const b = await openTestProject({}, { dir, options: { now: () => now } });
    try {
      const [sa, sb] = [a.orch.scheduler(), b.orch.scheduler()];
      const created = await Promise.all([sa.tick(), sb.tick(), sa.tick(), sb.tick()]);
      const rows = await a.runtime.meta.query<{ run_key: string; n: number }>(
        'SELECT run_key, COUNT(*) AS n FROM sluice_runs GROUP BY run_key',
      );
      assert.equal(rows.length, 48, '48 hourly intervals in two days');
      assert.ok(
        rows.every((r) => Number(r.n) === 1),
        'one run per logical date',
      );
      assert.equal(created.flat().length, 48);
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });
});
