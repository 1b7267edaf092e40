import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, test } from 'node:test';
import { openMetaStore } from '../../src/metastore/index.js';
import { defaultTaskKinds, loadPipelines } from '../../src/orchestrator/index.js';
import { openTestProject, projectDir } from './helpers.js';

/** The ConfigError message of loading `files` as a project's pipelines. */
async function loadError(files: Record<string, string>): Promise<string> {
  const dir = projectDir(files);
  try {
    await loadPipelines(dir, defaultTaskKinds(), {});
    assert.fail('expected the pipelines to be rejected');
  } catch (err) {
    assert.equal((err as Error).name, 'ConfigError');
    return (err as Error).message;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('pipeline definitions', () => {
  test('a cycle is named, with file and line', async () => {
    const msg = await loadError({
      'pipelines/loop.yaml': `name: loop
tasks:
  - { id: a, noop: {} }
  - id: b
    depends_on: [a, d]
    noop: {}
  - { id: c, depends_on: [b], noop: {} }
  - { id: d, depends_on: [c], noop: {} }
`,
    });
    assert.match(
      msg,
      /^pipelines\/loop\.yaml:\d+:\d+: .*dependency cycle: (b → c → d → b|c → d → b → c|d → b → c → d)/,
    );
  });

  test('missing dependency, unknown kind, bad cron and duplicate id are all reported', async () => {
    const msg = await loadError({
      'pipelines/bad.yaml': `name: bad
schedule: "61 * * * *"
tasks:
  - { id: a, noop: {} }
  - { id: b, depends_on: [nope], noop: {} }
  - { id: c, frobnicate: { x: 1 } }
  - { id: a, noop: {} }
`,
    });
    assert.match(msg, /pipelines\/bad\.yaml:2:\d+: schedule: invalid cron expression "61 \* \* \* \*"/);
    assert.match(msg, /pipelines\/bad\.yaml:5:\d+: .*task "b" depends on "nope", which is not a task/);
    assert.match(
      msg,
      /pipelines\/bad\.yaml:6:\d+: .*unknown task kind "frobnicate"; known kinds: [a-z, ]*noop, publish, run/,
    );
    assert.match(msg, /pipelines\/bad\.yaml:7:\d+: .*duplicate task id "a"/);
  });

  test('a task kind spec is validated by its kind, with position', async () => {
    const msg = await loadError({
      'pipelines/run.yaml': `name: run
tasks:
  - id: r
    run: { command: "true", ts: x.ts }
  - id: s
    run: { command: "true", timeot: 3 }
`,
    });
    assert.match(msg, /pipelines\/run\.yaml:4:\d+: .*run needs exactly one of command or ts/);
    assert.match(msg, /pipelines\/run\.yaml:6:\d+: .*unknown key "timeot"/);
  });

  test('two files defining the same pipeline are rejected', async () => {
    const msg = await loadError({
      'pipelines/a.yaml': 'name: same\ntasks: [{ id: a, noop: {} }]\n',
      'pipelines/b.yml': 'name: same\ntasks: [{ id: a, noop: {} }]\n',
    });
    assert.match(msg, /pipelines\/b\.yml: pipeline "same" is already defined in pipelines\/a\.yaml/);
  });

  test('bad pipelines stop the orchestrator before anything is scheduled', async () => {
    const dir = projectDir({
      'pipelines/good.yaml': 'name: good\nschedule: "* * * * *"\ntasks: [{ id: a, noop: {} }]\n',
      'pipelines/bad.yaml': 'name: bad\nschedule: "every day"\ntasks: [{ id: a, noop: {} }]\n',
    });
    try {
      await assert.rejects(openTestProject({}, { dir }), /bad\.yaml:2:\d+: schedule: invalid cron/);
      const meta = await openMetaStore(`sqlite://${dir}/.sluice/meta.db`);
      assert.deepEqual(await meta.query('SELECT run_id FROM sluice_runs'), []);
      await meta.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a TypeScript pipeline (definePipeline from "sluice") loads and runs like YAML', async () => {
    const p = await openTestProject({
      'pipelines/typed.ts': `import { definePipeline } from 'sluice';
const steps: string[] = ['one', 'two'];
export default definePipeline({
  name: 'typed',
  schedule: '0 6 * * *',
  timezone: 'Europe/Berlin',
  tasks: [
    ...steps.map((id) => ({ id, noop: {} })),
    { id: 'join', depends_on: steps, run: { command: 'echo joined' } },
  ],
});
`,
    });
    try {
      const typed = p.orch.pipeline('typed');
      assert.equal(typed.file, 'pipelines/typed.ts');
      assert.equal(typed.def.timezone, 'Europe/Berlin');
      const run = await p.orch.trigger('typed');
      await p.orch.startWorker();
      assert.equal((await p.orch.waitForRun(run.runId)).state, 'success');
    } finally {
      await p.close();
    }
  });

  test('errors in a TypeScript pipeline point at the task', async () => {
    const msg = await loadError({
      'pipelines/typed.ts': `import { definePipeline } from 'sluice';
export default definePipeline({
  name: 'typed',
  tasks: [
    { id: 'first', noop: {} },
    { id: 'second', depends_on: ['missing'], noop: {} },
  ],
});
`,
    });
    assert.match(msg, /pipelines\/typed\.ts:6: .*task "second" depends on "missing"/);
  });

  test('hot reload: an edit applies to new runs, a running run keeps its version', async () => {
    const v1 =
      'name: hot\ntasks:\n  - { id: wait, noop: { sleep: 600ms } }\n  - { id: say, depends_on: [wait], run: { command: "echo v1" } }\n';
    const p = await openTestProject(
      { 'pipelines/hot.yaml': v1 },
      { sluiceYaml: 'orchestrator: { pollMs: 50 }\n' },
    );
    try {
      p.orch.watch();
      await p.orch.startWorker();
      const first = await p.orch.trigger('hot');
      const hash1 = p.orch.pipeline('hot').hash;
      p.write('pipelines/hot.yaml', v1.replace('echo v1', 'echo v2'));
      const deadline = Date.now() + 10_000;
      while (p.orch.pipeline('hot').hash === hash1 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      assert.notEqual(p.orch.pipeline('hot').hash, hash1, 'the edit was picked up');
      const second = await p.orch.trigger('hot');
      assert.equal((await p.orch.waitForRun(first.runId)).versionHash, hash1);
      await p.orch.waitForRun(second.runId);
      const said = async (runId: string) =>
        (await p.orch.logs(runId, { taskId: 'say' })).find((l) => l.stream === 'stdout')?.text;
      assert.equal(await said(first.runId), 'v1');
      assert.equal(await said(second.runId), 'v2');

      p.write('pipelines/hot.yaml', 'name: hot\ntasks: [{ id: a, depends_on: [a], noop: {} }]\n');
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(
        p.orch.pipeline('hot').hash,
        (await p.orch.getRun(second.runId)).versionHash,
        'a broken edit keeps the last good version',
      );
    } finally {
      await p.close();
    }
  });
});
