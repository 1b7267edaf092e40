/** Run history in sluice_system.runs / task_runs / task_logs, on a given metastore and storage. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Engine, type EngineSession, openEngine } from '../../src/engine/index.js';
import { silentLogger } from '../../src/observe/index.js';
import { flushSystemTables } from '../../src/system/index.js';
import { query } from '../engine/helpers.js';
import { openTestProject, projectDir, type TestProject } from './helpers.js';

/** Pipelines: one that succeeds (with logs over the caps), one that fails once and retries, one to resume. */
function pipelines(dir: string): Record<string, string> {
  return {
    'pipelines/ok.yaml': `name: ok
tasks:
  - { id: a, run: { command: "echo hello; echo oops >&2" } }
  - { id: b, depends_on: [a], noop: {} }
  - { id: c, run: { command: "seq 1 1500; head -c 5000 /dev/zero | tr '\\\\0' x; echo" } }
`,
    'pipelines/flaky.yaml': `name: flaky
retries: { max: 1, initial: 100ms, jitter: false }
tasks:
  - { id: a, run: { command: "test -f ${dir}/flaky.flag || { touch ${dir}/flaky.flag; echo first try; exit 3; }" } }
`,
    'pipelines/resumable.yaml': `name: resumable
tasks:
  - { id: a, noop: {} }
  - { id: b, depends_on: [a], run: { command: "test -f ${dir}/fixed" } }
`,
  };
}

/** The suite over a project whose sluice.yaml gets `sluiceYaml` (metastore and storage). */
export function historySuite(
  label: string,
  setup: () => Promise<{ sluiceYaml: string; close(): Promise<void> }>,
): void {
  describe(`run history as system tables (${label})`, () => {
    let env: { sluiceYaml: string; close(): Promise<void> };
    let p: TestProject;
    let engine: Engine;
    let sql: EngineSession;
    const ids: Record<string, string> = {};

    before(async () => {
      env = await setup();
      const dir = projectDir({}, env.sluiceYaml);
      mkdirSync(join(dir, 'pipelines'), { recursive: true });
      for (const [path, text] of Object.entries(pipelines(dir))) writeFileSync(join(dir, path), text);
      p = await openTestProject({}, { dir });
      await p.orch.startWorker({ concurrency: 4 });
      for (const name of ['ok', 'flaky', 'resumable']) {
        const run = await p.orch.trigger(name);
        ids[name] = run.runId;
        await p.orch.waitForRun(run.runId);
      }
      writeFileSync(join(dir, 'fixed'), '');
      await p.orch.resume(ids.resumable as string);
      assert.equal((await p.orch.waitForRun(ids.resumable as string)).state, 'success');
      await flushSystemTables({ meta: p.runtime.meta, store: p.runtime.store, log: silentLogger });
      engine = await openEngine(p.runtime);
      sql = await engine.openSession({ name: 'history', readOnly: true });
    });
    after(async () => {
      await engine?.close();
      await p?.close();
      await env?.close();
    });

    test('runs: one row per final state reached, with counts, error and resumes', async () => {
      const rows = await query(
        sql,
        `SELECT pipeline, run_id, state, "trigger", tasks, tasks_failed, error, resumes,
                json_extract_string(params, '$') IS NOT NULL, duration_ms >= 0, queued_ms >= 0,
                ended_at >= started_at, logical_date <= ended_at
         FROM sluice_system.runs ORDER BY pipeline, ended_at`,
      );
      const err = (rows[2]?.[6] as string) ?? '';
      assert.match(err, /^b: error: .*exit/);
      assert.deepEqual(rows, [
        ['flaky', ids.flaky, 'success', 'manual', 1, 0, null, 0, true, true, true, true, true],
        ['ok', ids.ok, 'success', 'manual', 3, 0, null, 0, true, true, true, true, true],
        ['resumable', ids.resumable, 'failed', 'manual', 2, 1, err, 0, true, true, true, true, true],
        ['resumable', ids.resumable, 'success', 'manual', 2, 0, null, 1, true, true, true, true, true],
      ]);
      const [types] = await query(
        sql,
        'SELECT typeof(ended_at), typeof(logical_date), typeof(duration_ms) FROM sluice_system.runs LIMIT 1',
      );
      assert.deepEqual(types, ['TIMESTAMP WITH TIME ZONE', 'TIMESTAMP WITH TIME ZONE', 'BIGINT']);
    });

    test('task_runs: one row per finished attempt, the retry and the resume included', async () => {
      const rows = await query(
        sql,
        `SELECT pipeline, task_id, attempt, state, error, duration_ms >= 0 FROM sluice_system.task_runs
         ORDER BY pipeline, task_id, attempt`,
      );
      const flakyError = rows[0]?.[4] as string;
      const resumeError = rows[6]?.[4] as string;
      assert.match(flakyError, /exited with code 3/);
      assert.match(resumeError, /exited with code 1/);
      assert.deepEqual(rows, [
        ['flaky', 'a', 1, 'failed', flakyError, true],
        ['flaky', 'a', 2, 'success', null, true],
        ['ok', 'a', 1, 'success', null, true],
        ['ok', 'b', 1, 'success', null, true],
        ['ok', 'c', 1, 'success', null, true],
        ['resumable', 'a', 1, 'success', null, true],
        ['resumable', 'b', 1, 'failed', resumeError, true],
        ['resumable', 'b', 2, 'success', null, true],
      ]);
    });

    test('task_logs: the lines of each attempt, capped per line and per attempt', async () => {
      assert.deepEqual(
        await query(
          sql,
          `SELECT stream, text FROM sluice_system.task_logs WHERE pipeline = 'ok' AND task_id = 'a' ORDER BY seq`,
        ),
        [
          ['stdout', 'hello'],
          ['stderr', 'oops'],
        ],
      );
      assert.deepEqual(
        await query(
          sql,
          `SELECT attempt, text FROM sluice_system.task_logs WHERE pipeline = 'flaky' AND text = 'first try'`,
        ),
        [[1, 'first try']],
      );
      // 1,501 lines: the first 500 and the last 500 are copied, the long line cut to 2,000 characters.
      assert.deepEqual(
        await query(
          sql,
          `SELECT count(*), min(seq), max(seq), max(length(text)), count(*) FILTER (WHERE seq BETWEEN 500 AND 1000)
           FROM sluice_system.task_logs WHERE pipeline = 'ok' AND task_id = 'c'`,
        ),
        [[1000, 0, 1500, 2000, 0]],
      );
    });

    test('a second flush adds nothing; the documented failure-rate query runs', async () => {
      await flushSystemTables({ meta: p.runtime.meta, store: p.runtime.store, log: silentLogger });
      const counts = await query(
        sql,
        `SELECT (SELECT count(*) FROM sluice_system.runs), (SELECT count(*) FROM sluice_system.task_runs),
                (SELECT count(*) FROM sluice_system.task_logs)`,
      );
      assert.deepEqual(counts, [[4, 8, 1005]]);
      const rate = await query(
        sql,
        `SELECT pipeline, date_trunc('day', ended_at) AS day, count(*) AS runs,
                round(avg(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 2) AS failure_rate
         FROM sluice_system.runs GROUP BY ALL ORDER BY pipeline, day`,
      );
      assert.deepEqual(
        rate.map((r) => [r[0], r[2], r[3]]),
        [
          ['flaky', 1, 0],
          ['ok', 1, 0],
          ['resumable', 2, 0.5],
        ],
      );
      const latest = await query(
        sql,
        `SELECT pipeline, state FROM sluice_system.runs
         QUALIFY row_number() OVER (PARTITION BY run_id ORDER BY ended_at DESC) = 1 ORDER BY pipeline`,
      );
      assert.deepEqual(latest, [
        ['flaky', 'success'],
        ['ok', 'success'],
        ['resumable', 'success'],
      ]);
      const attempts = await query(
        sql,
        `SELECT t.task_id, t.attempt, t.state,
           (SELECT string_agg(text, chr(10) ORDER BY seq) FROM sluice_system.task_logs l
            WHERE l.run_id = t.run_id AND l.task_id = t.task_id AND l.attempt = t.attempt) AS log
         FROM sluice_system.task_runs t WHERE t.run_id = '${ids.flaky}' ORDER BY t.task_id, t.attempt`,
      );
      assert.equal(attempts.length, 2);
      assert.match(String(attempts[0]?.[3]), /^first try\n/);
      assert.equal(attempts[1]?.[3], null);
    });
  });
}
