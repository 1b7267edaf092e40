import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startServe, stopAll } from './cluster.js';
import { alive, openTestProject, projectDir } from './helpers.js';

const PACKAGES = fileURLToPath(new URL('../../../test/fixtures/orchestrator/packages/', import.meta.url));

const STEP = (expected: string) => `import { greet, version } from 'greet';
import type { RunModuleContext } from 'sluice';
export default async function (ctx: RunModuleContext) {
  if (version !== '${expected}') throw new Error('expected greet ${expected}, got ' + version);
  ctx.progress({ message: greet(ctx.params.who) });
  console.log(greet(ctx.params.who), process.cwd());
  return { version, ds: ctx.ds };
}
`;

describe('isolated run tasks', () => {
  test('two tasks needing different versions of one npm package both succeed; a crash and an OOM stay contained', async () => {
    const p = await openTestProject(
      {
        'tasks/a/step.ts': STEP('1.0.0'),
        'tasks/b/step.ts': STEP('2.0.0'),
        'tasks/crash.ts': "export default async () => { process.kill(process.pid, 'SIGKILL'); };\n",
        'tasks/hog.ts':
          'export default async () => { const keep = []; for (;;) keep.push(new Array(1e6).fill(1)); };\n',
        'pipelines/iso.yaml': `name: iso
params: { who: world }
tasks:
  - { id: one, run: { ts: tasks/a/step.ts } }
  - { id: two, run: { ts: tasks/b/step.ts } }
  - { id: crash, run: { ts: tasks/crash.ts } }
  - { id: hog, run: { ts: tasks/hog.ts, memory: 64MiB } }
  - { id: after_crash, depends_on: [crash], noop: {} }
`,
      },
      { sluiceYaml: 'orchestrator: { pollMs: 50 }\n' },
    );
    try {
      cpSync(join(PACKAGES, 'greet-1.0.0'), join(p.dir, 'tasks/a/node_modules/greet'), { recursive: true });
      cpSync(join(PACKAGES, 'greet-2.0.0'), join(p.dir, 'tasks/b/node_modules/greet'), { recursive: true });
      await p.orch.startWorker();
      const run = await p.orch.trigger('iso');
      assert.equal((await p.orch.waitForRun(run.runId)).state, 'failed');
      const tasks = new Map((await p.orch.taskRuns(run.runId)).map((t) => [t.taskId, t]));
      assert.equal(tasks.get('one')?.state, 'success');
      assert.equal(tasks.get('two')?.state, 'success');
      assert.equal(tasks.get('one')?.summary?.version, '1.0.0');
      assert.equal(tasks.get('two')?.summary?.version, '2.0.0');
      assert.deepEqual(tasks.get('two')?.progress, { message: 'hello 2.0.0 world' });
      const out = await p.orch.logs(run.runId, { taskId: 'one' });
      assert.ok(
        out.some((l) => l.stream === 'stdout' && l.text === `hello 1.0.0 world ${join(p.dir, 'tasks/a')}`),
      );
      assert.equal(tasks.get('crash')?.state, 'failed');
      assert.match(tasks.get('crash')?.error ?? '', /^crash: the task process was killed by SIGKILL/);
      assert.equal(tasks.get('after_crash')?.state, 'upstream_failed');
      assert.equal(tasks.get('hog')?.state, 'failed', 'the memory limit stopped the task');

      const again = await p.orch.trigger('iso', { params: { who: 'again' } });
      await p.orch.waitForRun(again.runId);
      assert.equal(
        (await p.orch.taskRuns(again.runId)).find((t) => t.taskId === 'two')?.state,
        'success',
        'the worker lives on',
      );
    } finally {
      await p.close();
    }
  });
});

async function waitFor(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    assert.ok(Date.now() < deadline, what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a worker killed with SIGKILL takes its running task processes with it', async () => {
  const dir = projectDir(
    {
      'tasks/forever.ts': `import { writeFileSync } from 'node:fs';
export default async () => {
  writeFileSync('ts.pid', String(process.pid));
  await new Promise(() => setInterval(() => undefined, 1000));
};
`,
      'pipelines/long.yaml': `name: long
tasks:
  - { id: shell, run: { command: "echo $$ > sh.pid; exec sleep 600", kill_grace: 1s } }
  - { id: module, run: { ts: tasks/forever.ts, kill_grace: 1s } }
`,
    },
    'orchestrator: { leaseMs: 60000, pollMs: 100 }\n',
  );
  const p = await openTestProject({}, { dir });
  const worker = startServe(dir, 'worker');
  try {
    await worker.ready;
    await p.orch.trigger('long');
    const shPid = join(dir, 'sh.pid');
    const tsPid = join(dir, 'tasks/ts.pid');
    await waitFor('both tasks started', () => existsSync(shPid) && existsSync(tsPid));
    const pids = [shPid, tsPid].map((f) => Number(readFileSync(f, 'utf8').trim()));
    assert.ok(pids.every(alive), 'the task processes run');
    worker.child.kill('SIGKILL');
    await worker.exited;
    await waitFor('the task processes ended with their worker', () => !pids.some(alive), 10_000);
  } finally {
    await stopAll([worker]);
    await p.close();
  }
});
