import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMetrics } from '../../src/observe/index.js';
import { sharedOrchestrator } from '../../src/orchestrator/index.js';
import { createApp } from '../../src/serve/index.js';
import { startServe, stopAll } from './cluster.js';
import { openTestProject, projectDir, type TestProject } from './helpers.js';

const FILES = {
  'pipelines/api.yaml': `name: api
tasks:
  - { id: hello, run: { command: "echo hello {{ params.who }}" } }
  - { id: done, depends_on: [hello], noop: {} }
`,
};

describe('HTTP API /api/v1 pipelines and runs', () => {
  let p: TestProject;
  let app: ReturnType<typeof createApp>;
  const metrics = createMetrics();
  before(async () => {
    p = await openTestProject(FILES, { sluiceYaml: 'orchestrator: { pollMs: 50 }\n' });
    app = createApp({ runtime: p.runtime, metrics, startedAt: new Date() });
    await (await sharedOrchestrator(p.runtime)).startWorker();
  });
  after(async () => {
    await (await sharedOrchestrator(p.runtime)).close({ abort: true });
    await p?.close();
  });

  const post = (path: string, body?: unknown) =>
    app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });

  test('list pipelines, trigger a run, follow it, read its logs', async () => {
    const list = (await (await app.request('/api/v1/pipelines')).json()) as {
      pipelines: { name: string; tasks: unknown[] }[];
    };
    assert.deepEqual(
      list.pipelines.map((x) => [x.name, x.tasks.length]),
      [['api', 2]],
    );
    const res = await post('/api/v1/runs', { pipeline: 'api', params: { who: 'api' } });
    assert.equal(res.status, 201);
    const run = (await res.json()) as { runId: string; versionHash: string };
    assert.equal(run.versionHash, p.orch.pipeline('api').hash);
    await p.orch.waitForRun(run.runId);
    const got = (await (await app.request(`/api/v1/runs/${run.runId}`)).json()) as {
      state: string;
      tasks: { taskId: string; state: string }[];
    };
    assert.equal(got.state, 'success');
    assert.deepEqual(
      got.tasks.map((t) => t.state),
      ['success', 'success'],
    );
    const logs = (await (await app.request(`/api/v1/runs/${run.runId}/logs?task=hello`)).json()) as {
      lines: { stream: string; text: string }[];
    };
    assert.ok(logs.lines.some((l) => l.stream === 'stdout' && l.text === 'hello api'));
    const runs = (await (await app.request('/api/v1/runs?pipeline=api&state=success')).json()) as {
      runs: unknown[];
    };
    assert.equal(runs.runs.length, 1);
    const why = (await (await app.request('/api/v1/pipelines/api/why')).json()) as { reasons: string[] };
    assert.ok(why.reasons.some((r) => r.includes('no schedule')));
    const text = await (await app.request('/metrics')).text();
    assert.match(text, /sluice_task_duration_seconds_count\{pipeline="api",kind="run",state="success"\} 1/);
  });

  test('resume, cancel and mark answer with clear errors on the wrong state', async () => {
    const run = await p.orch.trigger('api');
    await p.orch.waitForRun(run.runId);
    const resume = await post(`/api/v1/runs/${run.runId}/resume`, {});
    assert.equal(resume.status, 409);
    assert.match(
      ((await resume.json()) as { error: { message: string } }).error.message,
      /succeeded: nothing to resume/,
    );
    const plan = await post(`/api/v1/runs/${run.runId}/resume`, { fromTask: 'done', dryRun: true });
    assert.deepEqual(((await plan.json()) as { rerun: string[] }).rerun, ['done']);
    assert.equal((await post(`/api/v1/runs/${run.runId}/cancel`)).status, 409);
    const mark = await post(`/api/v1/runs/${run.runId}/mark`, { state: 'failed', task: 'done' });
    assert.equal(mark.status, 200);
    assert.equal((await p.orch.taskRuns(run.runId)).find((t) => t.taskId === 'done')?.state, 'failed');
  });

  test('bad requests: unknown pipeline or run, bad JSON, bad fields', async () => {
    const unknown = await post('/api/v1/runs', { pipeline: 'apx' });
    assert.equal(unknown.status, 404);
    assert.match(
      ((await unknown.json()) as { error: { message: string } }).error.message,
      /did you mean "api"/,
    );
    assert.equal((await app.request('/api/v1/runs/nope')).status, 404);
    assert.equal((await post('/api/v1/runs', '{not json')).status, 400);
    assert.equal((await post('/api/v1/runs', { pipeline: 'api', extra: 1 })).status, 400);
    assert.equal((await post('/api/v1/runs', { pipeline: 'api', params: { n: 1 } })).status, 400);
    assert.equal((await app.request('/api/v1/runs?state=bogus')).status, 400);
    assert.equal((await app.request('/api/v1/runs?limit=-1')).status, 400);
    assert.equal((await post('/api/v1/runs/nope/mark', { state: 'maybe' })).status, 400);
  });
});

describe('sluice serve --role all', () => {
  test('serves the API, schedules and works, and stops cleanly on SIGTERM', async () => {
    const dir = projectDir(FILES);
    const serve = startServe(dir, 'all');
    try {
      await serve.ready;
      const url = /web UI\s+(http:\/\/\S+)\//.exec(serve.output())?.[1];
      assert.ok(url, serve.output());
      const res = await fetch(`${url}/api/v1/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pipeline: 'api' }),
      });
      assert.equal(res.status, 201);
      const { runId } = (await res.json()) as { runId: string };
      let state = '';
      const deadline = Date.now() + 20_000;
      while (state !== 'success' && Date.now() < deadline) {
        state = ((await (await fetch(`${url}/api/v1/runs/${runId}`)).json()) as { state: string }).state;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(state, 'success');
    } finally {
      serve.child.kill('SIGTERM');
      assert.equal(await serve.exited, 0, serve.output());
      await stopAll([serve]);
    }
  });
});
