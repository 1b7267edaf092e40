import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dueIntervals, intervalsBetween } from '../../src/orchestrator/index.js';
import { openTestProject } from './helpers.js';

const iso = (d: Date) => d.toISOString();
const spans = (xs: { start: Date; end: Date }[]) => xs.map((i) => `${iso(i.start)}/${iso(i.end)}`);

describe('cron arithmetic', () => {
  test('due intervals with and without catch-up', () => {
    const cursor = new Date('2026-03-01T00:00:00Z');
    const now = new Date('2026-03-04T10:00:00Z');
    assert.deepEqual(spans(dueIntervals('0 0 * * *', 'UTC', cursor, now, true)), [
      '2026-03-01T00:00:00.000Z/2026-03-02T00:00:00.000Z',
      '2026-03-02T00:00:00.000Z/2026-03-03T00:00:00.000Z',
      '2026-03-03T00:00:00.000Z/2026-03-04T00:00:00.000Z',
    ]);
    assert.deepEqual(spans(dueIntervals('0 0 * * *', 'UTC', cursor, now, false)), [
      '2026-03-03T00:00:00.000Z/2026-03-04T00:00:00.000Z',
    ]);
    assert.deepEqual(dueIntervals('0 0 * * *', 'UTC', new Date('2026-03-04T00:00:00Z'), now, true), []);
  });

  test('time zones: a daily 02:00 schedule in Berlin follows daylight saving time', () => {
    const intervals = intervalsBetween(
      '0 2 * * *',
      'Europe/Berlin',
      new Date('2026-03-27T00:00:00Z'),
      new Date('2026-03-30T00:00:00Z'),
    );
    assert.deepEqual(
      intervals.map((i) => iso(i.start)),
      // 02:00 CET is 01:00Z; 29 March has no 02:00 (clocks jump to 03:00 CEST = 01:00Z); then 02:00 CEST = 00:00Z.
      [
        '2026-03-27T01:00:00.000Z',
        '2026-03-28T01:00:00.000Z',
        '2026-03-29T01:00:00.000Z',
        '2026-03-30T00:00:00.000Z',
      ],
    );
  });
});

describe('scheduler with a fake clock', () => {
  test('catch-up schedules every missed interval once; max active runs holds the rest back', async () => {
    let now = Date.parse('2026-05-10T12:00:00Z');
    const p = await openTestProject(
      {
        'pipelines/hourly.yaml': `name: hourly
schedule: "0 * * * *"
start: "2026-05-10T06:00:00Z"
catchup: true
max_active_runs: 4
tasks: [{ id: a, noop: {} }]
`,
        'pipelines/latest.yaml': `name: latest
schedule: "0 * * * *"
start: "2026-05-10T06:00:00Z"
tasks: [{ id: a, noop: {} }]
`,
      },
      { options: { now: () => now } },
    );
    try {
      const scheduler = p.orch.scheduler();
      const created = await scheduler.tick();
      const runs = async (name: string) =>
        (await p.orch.listRuns({ pipeline: name, limit: 100 })).map((r) => iso(r.dataIntervalStart)).sort();
      assert.equal(created.length, 5, '4 catch-up runs (max_active_runs) + 1 latest');
      // Each scheduled run is audited with the scheduler as its actor.
      const audit = (
        await p.runtime.meta.query<{ payload: string }>(
          "SELECT payload FROM sluice_system_outbox WHERE table_name = 'audit'",
        )
      ).map((r) => JSON.parse(r.payload) as Record<string, string>);
      const triggers = audit.filter((r) => r.action === 'trigger');
      assert.deepEqual(
        triggers.map((r) => (JSON.parse(r.detail as string) as { run: string }).run).sort(),
        [...created].sort(),
      );
      for (const r of triggers) {
        assert.equal(r.actor, 'scheduler');
        assert.equal(r.surface, 'scheduler');
        assert.match(r.resource as string, /^pipeline:(hourly|latest)$/);
        assert.match(r.detail as string, /"trigger":"schedule"/);
      }
      assert.deepEqual(await runs('hourly'), [
        '2026-05-10T06:00:00.000Z',
        '2026-05-10T07:00:00.000Z',
        '2026-05-10T08:00:00.000Z',
        '2026-05-10T09:00:00.000Z',
      ]);
      assert.deepEqual(
        await runs('latest'),
        ['2026-05-10T11:00:00.000Z'],
        'without catch-up only the latest',
      );
      assert.deepEqual(await scheduler.tick(), [], 'nothing more while 4 runs are active');

      await p.orch.startWorker({ concurrency: 8 });
      for (const r of await p.orch.listRuns({ limit: 100 })) await p.orch.waitForRun(r.runId);
      await scheduler.tick();
      assert.deepEqual((await runs('hourly')).slice(4), [
        '2026-05-10T10:00:00.000Z',
        '2026-05-10T11:00:00.000Z',
      ]);
      assert.deepEqual(await scheduler.tick(), [], 'a tick at the same time schedules nothing twice');
      now = Date.parse('2026-05-10T13:00:00Z');
      const next = await scheduler.tick();
      assert.equal(next.length, 2);
      const run = await p.orch.getRun(next[0]!);
      assert.equal(iso(run.dataIntervalStart), '2026-05-10T12:00:00.000Z');
      assert.equal(iso(run.dataIntervalEnd), '2026-05-10T13:00:00.000Z');
      assert.equal(run.trigger, 'schedule');
    } finally {
      await p.close();
    }
  });

  test('backfill of 30 days with parallelism 4 runs each interval exactly once', async () => {
    const p = await openTestProject(
      {
        'pipelines/daily.yaml': `name: daily
schedule: "0 0 * * *"
tasks:
  - { id: extract, noop: {} }
  - { id: load, depends_on: [extract], run: { command: "echo {{ ds }} >> ../days.txt", cwd: pipelines } }
`,
      },
      { sluiceYaml: 'orchestrator: { pollMs: 50 }\n' },
    );
    try {
      await p.orch.startWorker({ concurrency: 8 });
      const from = new Date('2026-01-01T00:00:00Z');
      const to = new Date('2026-01-30T00:00:00Z');
      const plan = await p.orch.backfill('daily', { from, to, dryRun: true });
      assert.equal(plan.intervals.length, 30);
      assert.deepEqual(await p.orch.listRuns(), [], 'a dry run creates nothing');
      let active = 0;
      let maxActive = 0;
      const result = await p.orch.backfill('daily', {
        from,
        to,
        parallel: 4,
        onRun: async () => {
          active = (await p.orch.listRuns({ state: 'running', limit: 100 })).length;
          maxActive = Math.max(maxActive, active);
        },
      });
      assert.equal(result.intervals.length, 30);
      assert.ok(result.intervals.every((i) => i.state === 'success'));
      assert.ok(maxActive <= 4, `at most 4 runs active, saw ${maxActive}`);
      const days = (await import('node:fs'))
        .readFileSync(`${p.dir}/days.txt`, 'utf8')
        .trim()
        .split('\n')
        .sort();
      assert.equal(days.length, 30);
      assert.equal(new Set(days).size, 30);
      assert.equal(days[0], '2026-01-01');
      assert.equal(days[29], '2026-01-30');
      const again = await p.orch.backfill('daily', { from, to, parallel: 4 });
      assert.ok(
        again.intervals.every((i) => i.existing),
        'a second backfill finds every interval done',
      );
      assert.equal((await p.orch.listRuns({ limit: 100 })).length, 30);
    } finally {
      await p.close();
    }
  });
});
