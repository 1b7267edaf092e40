import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, test } from 'node:test';
import { publishTriggerEvent } from '../../src/orchestrator/index.js';
import { runCli } from '../helpers/cli.js';
import { openTestProject, projectDir } from './helpers.js';

describe('event triggers', () => {
  test('a table snapshot, an event batch or a landed file starts the matching pipelines once', async () => {
    const p = await openTestProject({
      'pipelines/on-table.yaml': 'name: on_table\non: { table: shop.orders }\ntasks: [{ id: a, noop: {} }]\n',
      'pipelines/on-files.yaml':
        'name: on_files\non: { files: landing/orders/ }\ntasks: [{ id: a, noop: {} }]\n',
      'pipelines/on-events.yaml':
        'name: on_events\non: { events: order.created }\ntasks: [{ id: a, noop: {} }]\n',
    });
    try {
      const scheduler = p.orch.scheduler();
      assert.equal((await scheduler.onEvent({ kind: 'table', name: 'shop.orders', id: 'snap-1' })).length, 1);
      assert.deepEqual(
        await scheduler.onEvent({ kind: 'table', name: 'shop.orders', id: 'snap-1' }),
        [],
        'same id: no second run',
      );
      assert.deepEqual(await scheduler.onEvent({ kind: 'table', name: 'shop.other', id: 'snap-2' }), []);
      assert.equal(
        (await scheduler.onEvent({ kind: 'files', name: 'landing/orders/2026/a.csv', id: 'a.csv@1' })).length,
        1,
      );
      assert.deepEqual(
        await scheduler.onEvent({ kind: 'files', name: 'landing/customers/b.csv', id: 'b.csv@1' }),
        [],
      );

      await scheduler.start();
      await publishTriggerEvent(p.runtime.meta, { kind: 'events', name: 'order.created', id: 'batch-7' });
      const deadline = Date.now() + 10_000;
      while ((await p.orch.listRuns({ pipeline: 'on_events' })).length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const [run] = await p.orch.listRuns({ pipeline: 'on_events' });
      assert.equal(run?.trigger, 'event');
      assert.deepEqual(run?.params, {
        trigger_kind: 'events',
        trigger_name: 'order.created',
        trigger_id: 'batch-7',
        trigger_count: '1',
      });
    } finally {
      await p.close();
    }
  });
});

describe('sluice run / runs / why', () => {
  test('exit codes, JSON output, logs, resume and bad input', async () => {
    const dir = projectDir({
      'pipelines/cli.yaml': `name: cli
tasks:
  - { id: say, run: { command: "echo said {{ params.word }}" } }
  - { id: check, depends_on: [say], run: { command: "test -f ok" } }
`,
    });
    try {
      const cli = (...args: string[]) => runCli(['--project', dir, ...args]);
      const failed = await cli('run', 'cli', '--param', 'word=hi');
      assert.equal(failed.code, 1, failed.stderr);
      assert.match(failed.stdout, /run \S+ failed/);
      const list = await cli('--json', 'runs', 'list');
      const runs = JSON.parse(list.stdout) as { runId: string; state: string }[];
      assert.deepEqual(
        runs.map((r) => r.state),
        ['failed'],
      );
      const runId = runs[0]!.runId;
      const logs = await cli('runs', 'logs', runId, '--task', 'say');
      assert.match(logs.stdout, /say#1 stdout said hi/);
      const why = await cli('why', 'cli', '--task', 'check');
      assert.match(why.stdout, /check: failed after 1 attempt\(s\)/);
      const plan = await cli('run', 'cli', '--resume', runId, '--dry-run');
      assert.match(plan.stdout, /would re-run 1 task\(s\): check/);
      (await import('node:fs')).writeFileSync(`${dir}/ok`, '');
      const resumed = await cli('--json', 'run', 'cli', '--resume', runId);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal((JSON.parse(resumed.stdout) as { state: string }).state, 'success');

      const bad = await cli('run', 'cli', '--from', '2026-01-01');
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /--from goes with --backfill or --reprocess/);
      const badTo = await cli('run', 'cli', '--to', '2026-01-01');
      assert.match(badTo.stderr, /--to and --parallel go with --backfill/);
      const mixed = await cli(
        'run',
        'cli',
        '--reprocess',
        '--backfill',
        '--from',
        '2026-01-01',
        '--to',
        '2026-01-02',
      );
      assert.match(mixed.stderr, /--reprocess starts a new run/);
      const unknown = await cli('run', 'clj');
      assert.match(unknown.stderr, /no pipeline "clj".*\n.*did you mean "cli"/);
      const date = await cli('run', 'cli', '--backfill', '--from', 'yesterday', '--to', '2026-01-02');
      assert.match(date.stderr, /--from expects a date such as 2026-01-31, got "yesterday"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
