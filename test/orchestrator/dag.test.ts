import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { alive, openTestProject, statesOf, type TestProject } from './helpers.js';

const PIPELINES = {
  'pipelines/fan.yaml': `
name: fan
tasks:
  - { id: a, noop: {} }
  - { id: b, depends_on: [a], noop: {} }
  - { id: c, depends_on: [a], noop: {} }
  - { id: d, depends_on: [b, c], noop: {} }
`,
  'pipelines/partial.yaml': `
name: partial
tasks:
  - { id: a, noop: {} }
  - id: b
    depends_on: [a]
    run: { command: "test -f fixed || { echo broken >&2; exit 3; }" }
  - { id: c, depends_on: [b], noop: {} }
  - { id: d, depends_on: [a], noop: {} }
`,
  'pipelines/flaky.yaml': `
name: flaky
tasks:
  - id: flaky
    retries: { max: 3, initial: 100ms, jitter: false }
    run:
      command: 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; echo "try $n {{ ds }} {{ params.who }}"; [ $n -ge 3 ]'
      cwd: work
`,
  'pipelines/slow.yaml': `
name: slow
tasks:
  - id: hang
    timeout: 500ms
    retries: { max: 2, on: [error], initial: 10ms }
    run: { command: "sleep 30 & echo $! > hang.pid; sleep 30", kill_grace: 1s }
  - { id: after_hang, depends_on: [hang], noop: {} }
`,
  'pipelines/pooled.yaml': `
name: pooled
tasks:
  - { id: p1, pool: single, noop: { sleep: 300ms } }
  - { id: p2, pool: single, noop: { sleep: 300ms } }
  - { id: p3, pool: single, priority: 5, noop: { sleep: 300ms } }
`,
  'work/.keep': '',
};

describe('DAG runs (embedded metastore, in-process worker)', () => {
  let p: TestProject;
  before(async () => {
    p = await openTestProject(PIPELINES, {
      sluiceYaml: 'orchestrator: { pollMs: 50, pools: { single: 1 } }\n',
    });
    await p.orch.startWorker({ concurrency: 4 });
  });
  after(() => p?.close());

  test('fan-out and fan-in: each task once, the join after both branches', async () => {
    const run = await p.orch.trigger('fan');
    const done = await p.orch.waitForRun(run.runId);
    assert.equal(done.state, 'success');
    const tasks = new Map((await p.orch.taskRuns(run.runId)).map((t) => [t.taskId, t]));
    assert.deepEqual(await statesOf(p.orch, run.runId), {
      a: 'success',
      b: 'success',
      c: 'success',
      d: 'success',
    });
    for (const t of tasks.values()) assert.equal(t.tries, 1);
    const d = tasks.get('d')!;
    for (const dep of ['b', 'c'])
      assert.ok(d.startedAt! >= tasks.get(dep)!.endedAt!, `d started after ${dep} ended`);
    assert.ok(tasks.get('b')!.startedAt! >= tasks.get('a')!.endedAt!);
  });

  test('a failure stops its downstream only; resume and from-task re-run exactly the right set', async () => {
    const run = await p.orch.trigger('partial');
    assert.equal((await p.orch.waitForRun(run.runId)).state, 'failed');
    assert.deepEqual(await statesOf(p.orch, run.runId), {
      a: 'success',
      b: 'failed',
      c: 'upstream_failed',
      d: 'success',
    });
    const logs = await p.orch.logs(run.runId, { taskId: 'b' });
    assert.ok(
      logs.some((l) => l.stream === 'stderr' && l.text === 'broken'),
      'stderr of the task is kept',
    );

    const plan = await p.orch.resume(run.runId, { dryRun: true });
    assert.deepEqual(
      [plan.rerun, plan.kept],
      [
        ['b', 'c'],
        ['a', 'd'],
      ],
    );
    assert.equal((await p.orch.getRun(run.runId)).state, 'failed', 'a dry run changes nothing');

    p.write('fixed', '');
    await p.orch.resume(run.runId);
    assert.equal((await p.orch.waitForRun(run.runId)).state, 'success');
    const tries = async () =>
      Object.fromEntries((await p.orch.taskRuns(run.runId)).map((t) => [t.taskId, t.tries]));
    assert.deepEqual(await tries(), { a: 1, b: 2, c: 1, d: 1 });

    const from = await p.orch.resume(run.runId, { fromTask: 'b' });
    assert.deepEqual(from.rerun, ['b', 'c']);
    assert.equal((await p.orch.waitForRun(run.runId)).state, 'success');
    assert.deepEqual(await tries(), { a: 1, b: 3, c: 2, d: 1 });
    const attempts = await p.orch.attempts(run.runId, 'b');
    assert.deepEqual(
      attempts.map((a) => a.state),
      ['failed', 'success', 'success'],
    );
  });

  test('resume after editing the pipeline runs the new tasks and re-pins the run', async () => {
    p.write('fixed', '');
    const run = await p.orch.trigger('partial');
    await p.orch.waitForRun(run.runId);
    await p.orch.cancel(run.runId).catch(() => undefined);
    const before = await p.orch.getRun(run.runId);
    p.write(
      'pipelines/partial.yaml',
      `${PIPELINES['pipelines/partial.yaml']}  - { id: e, depends_on: [c], noop: {} }\n`,
    );
    await p.orch.reload();
    const plan = await p.orch.resume(run.runId, { fromTask: 'c' });
    assert.deepEqual([plan.rerun, plan.added], [['c'], ['e']]);
    const done = await p.orch.waitForRun(run.runId);
    assert.equal(done.state, 'success');
    assert.notEqual(done.versionHash, before.versionHash);
    assert.equal((await statesOf(p.orch, run.runId)).e, 'success');
    p.write('pipelines/partial.yaml', PIPELINES['pipelines/partial.yaml']);
    await p.orch.reload();
  });

  test('retries with backoff until success; templates and params reach the command', async () => {
    const run = await p.orch.trigger('flaky', { params: { who: 'ops' } });
    assert.equal((await p.orch.waitForRun(run.runId)).state, 'success');
    const attempts = await p.orch.attempts(run.runId, 'flaky');
    assert.deepEqual(
      attempts.map((a) => a.state),
      ['failed', 'failed', 'success'],
    );
    const gap = (i: number) => attempts[i + 1]!.startedAt.getTime() - attempts[i]!.endedAt!.getTime();
    assert.ok(gap(0) >= 100, `first retry waited ${gap(0)} ms, expected ≥ 100`);
    assert.ok(gap(1) >= 200, `second retry waited ${gap(1)} ms, expected ≥ 200 (exponential)`);
    const out = await p.orch.logs(run.runId, { taskId: 'flaky', attempt: 3 });
    const ds = run.dataIntervalStart.toISOString().slice(0, 10);
    assert.ok(
      out.some((l) => l.text === `try 3 ${ds} ops`),
      JSON.stringify(out),
    );
  });

  test('a timeout kills the whole process tree and is not retried when retries.on excludes it', async () => {
    const run = await p.orch.trigger('slow');
    assert.equal((await p.orch.waitForRun(run.runId)).state, 'failed');
    const states = await statesOf(p.orch, run.runId);
    assert.deepEqual(states, { hang: 'failed', after_hang: 'upstream_failed' });
    const [attempt, ...more] = await p.orch.attempts(run.runId, 'hang');
    assert.equal(attempt?.state, 'timeout');
    assert.equal(more.length, 0);
    const pidFile = join(p.dir, 'hang.pid');
    assert.ok(existsSync(pidFile));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const deadline = Date.now() + 5000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(alive(pid), false, 'the background grandchild was killed too');
  });

  test('a pool of one slot runs its tasks one at a time, by priority; why names the full pool', async () => {
    const run = await p.orch.trigger('pooled');
    let why: string[] = [];
    while (why.length === 0) {
      const tasks = await p.orch.taskRuns(run.runId);
      if (tasks.some((t) => t.state === 'waiting')) why = (await p.orch.why('pooled')).reasons;
      else if (tasks.every((t) => t.state === 'success')) break;
      else await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(
      why.some((r) => /ready, but pool "single" is full \(1 slots\)/.test(r)),
      why.join('\n'),
    );
    assert.equal((await p.orch.waitForRun(run.runId)).state, 'success');
    const attempts = (await p.orch.attempts(run.runId)).sort(
      (a, b) => a.startedAt.getTime() - b.startedAt.getTime(),
    );
    assert.equal(attempts[0]?.taskId, 'p3', 'the higher priority first');
    for (let i = 1; i < attempts.length; i++) {
      assert.ok(attempts[i]!.startedAt >= attempts[i - 1]!.endedAt!, 'never two at once in the pool');
    }
  });

  test('cancel stops a running run and its tasks', async () => {
    p.write(
      'pipelines/long.yaml',
      'name: long\ntasks:\n  - { id: wait, noop: { sleep: 60s } }\n  - { id: next, depends_on: [wait], noop: {} }\n',
    );
    await p.orch.reload();
    const run = await p.orch.trigger('long');
    while ((await statesOf(p.orch, run.runId)).wait !== 'running')
      await new Promise((r) => setTimeout(r, 20));
    assert.equal((await p.orch.cancel(run.runId)).state, 'cancelled');
    assert.equal((await p.orch.waitForRun(run.runId)).state, 'cancelled');
    assert.deepEqual(await statesOf(p.orch, run.runId), { wait: 'cancelled', next: 'cancelled' });
  });
});
