import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMetrics } from '../../src/observe/index.js';
import { sharedOrchestrator } from '../../src/orchestrator/index.js';
import { createApp } from '../../src/serve/index.js';
import { openTestProject, type TestProject } from '../orchestrator/helpers.js';

const FILES = {
  'pipelines/ok.yaml': `name: ok
schedule: "0 * * * *"
tasks:
  - { id: a, noop: {} }
  - { id: b, depends_on: [a], noop: {} }
`,
  'pipelines/bad.yaml': `name: bad
tasks:
  - { id: boom, run: { command: "exit 3" } }
`,
};

type Counts = Record<'queued' | 'running' | 'success' | 'failed' | 'cancelled', number>;
interface Summary {
  bucket: string;
  since: string;
  buckets: ({ start: string } & Counts)[];
  pipelines: ({ pipeline: string } & Counts)[];
}

describe('GET /api/v1/runs/summary and the pipeline list for the web UI', () => {
  let p: TestProject;
  let app: ReturnType<typeof createApp>;
  before(async () => {
    p = await openTestProject(FILES, { sluiceYaml: 'orchestrator: { pollMs: 50 }\n' });
    app = createApp({ runtime: p.runtime, metrics: createMetrics(), startedAt: new Date() });
    await (await sharedOrchestrator(p.runtime)).startWorker();
    for (const name of ['ok', 'ok', 'bad']) await p.orch.waitForRun((await p.orch.trigger(name)).runId);
  });
  after(async () => {
    await (await sharedOrchestrator(p.runtime)).close({ abort: true });
    await p?.close();
  });

  const get = async <T>(path: string): Promise<T> => {
    const res = await app.request(path);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as T;
  };

  test('the list has each pipeline with its last run and next scheduled run', async () => {
    const { pipelines } = await get<{
      pipelines: { name: string; nextRunAt: string | null; lastRun: { state: string } | null }[];
    }>('/api/v1/pipelines');
    const byName = Object.fromEntries(pipelines.map((x) => [x.name, x]));
    assert.equal(byName.ok?.lastRun?.state, 'success');
    assert.equal(byName.bad?.lastRun?.state, 'failed');
    assert.equal(byName.bad?.nextRunAt, null, 'no schedule, no next run');
    const next = Date.parse(byName.ok?.nextRunAt ?? '');
    assert.ok(next > Date.now() && next <= Date.now() + 3_600_000, `next run ${byName.ok?.nextRunAt}`);
    assert.equal(new Date(next).getUTCMinutes(), 0);
    const one = await get<{ nextRunAt: string }>('/api/v1/pipelines/ok');
    assert.equal(one.nextRunAt, byName.ok?.nextRunAt);
  });

  test('runs are counted per hour and state, and per pipeline', async () => {
    // Move one successful run three hours back: it lands in an older bucket.
    const [old] = await p.orch.listRuns({ pipeline: 'ok', limit: 1 });
    await p.runtime.meta.execute('UPDATE sluice_runs SET created_at = created_at - ? WHERE run_id = ?', [
      3 * 3_600_000,
      old?.runId ?? '',
    ]);
    const s = await get<Summary>('/api/v1/runs/summary?bucket=hour&buckets=6');
    assert.equal(s.bucket, 'hour');
    assert.equal(s.buckets.length, 6);
    assert.equal(Date.parse(s.since) % 3_600_000, 0, 'buckets start on the hour');
    const last = s.buckets[5];
    assert.deepEqual([last?.success, last?.failed], [1, 1]);
    assert.equal(s.buckets[2]?.success, 1, 'the moved run is three buckets back');
    assert.equal(
      s.buckets.reduce((n, b) => n + b.success + b.failed + b.queued + b.running + b.cancelled, 0),
      3,
    );
    assert.deepEqual(
      s.pipelines.map((x) => [x.pipeline, x.success, x.failed]),
      [
        ['bad', 0, 1],
        ['ok', 2, 0],
      ],
    );
    // A window that ends before the moved run leaves it out.
    const recent = await get<Summary>('/api/v1/runs/summary?bucket=hour&buckets=2');
    assert.equal(recent.pipelines.find((x) => x.pipeline === 'ok')?.success, 1);
    const days = await get<Summary>('/api/v1/runs/summary?bucket=day');
    assert.equal(days.buckets.length, 14);
    assert.equal(Date.parse(days.since) % 86_400_000, 0, 'days start at midnight UTC');
  });

  test('bad parameters are a 400 naming the parameter', async () => {
    for (const [query, word] of [
      ['bucket=week', 'bucket'],
      ['buckets=0', 'buckets'],
      ['buckets=5000', 'buckets'],
    ]) {
      const res = await app.request(`/api/v1/runs/summary?${query}`);
      assert.equal(res.status, 400, query);
      assert.match(
        ((await res.json()) as { error: { message: string } }).error.message,
        new RegExp(word ?? ''),
      );
    }
  });
});
