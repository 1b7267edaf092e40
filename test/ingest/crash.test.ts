import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openEngine } from '../../src/engine/index.js';
import { listRawObjects } from '../../src/ingest/index.js';
import { flushSystemTables } from '../../src/system/index.js';
import { query } from '../engine/helpers.js';
import { type IngestEnv, openIngestEnv, plainRows, tableRows, tableSnapshots } from './helpers.js';
import { type MockApi, makeRecords, startMockApi } from './mock-api.js';

const WORKER = fileURLToPath(new URL('./crash-worker.js', import.meta.url));
const KILLS = 30;

function runWorker(
  dir: string,
  spec: unknown,
  runId: string,
  killAfterMs?: number,
  killWhen?: () => Promise<boolean>,
): Promise<{ code: number | null; killed: boolean; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WORKER, dir, JSON.stringify(spec), runId], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    let killed = false;
    const timer =
      killAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            killed = child.kill('SIGKILL');
          }, killAfterMs);
    let polling = killWhen !== undefined;
    const poll = async () => {
      while (polling) {
        if (await killWhen?.().catch(() => false)) {
          killed = child.kill('SIGKILL');
          return;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    void poll();
    child.on('exit', (code) => {
      polling = false;
      clearTimeout(timer);
      resolve({ code, killed, out, err });
    });
  });
}

let env: IngestEnv;
let api: MockApi;
const records = makeRecords(300, { badEvery: 97 });

before(async () => {
  env = await openIngestEnv();
  api = await startMockApi({ records, delayMs: 30 });
});
after(async () => {
  await api.close();
  await env.close();
});

test(`SIGKILL at random moments over ${KILLS} runs, then resume: every row exactly once`, async () => {
  const spec = {
    source: {
      http: {
        url: `${api.url}/v1/page`,
        records: 'data.items',
        paginate: { style: 'page', size_param: 'per_page', size: 15 },
        retry: { max_attempts: 3, initial: 5, max: 50 },
      },
    },
    sink: { table: 'crash.items', schema: { amount: 'double' } },
    batch: { max_objects: 4 },
  };
  // Each run fetches the whole endpoint again (no incremental cursor): only the ledger and the
  // snapshot summaries keep rows from being loaded twice across interrupted runs.
  // One run to the end first: its duration scales the kill moments to this machine's speed.
  const started = Date.now();
  const warm = await runWorker(env.dir, spec, 'warm');
  assert.equal(warm.code, 0, warm.err);
  const full = Date.now() - started;
  let completed = 1;
  for (let i = 0; i < KILLS; i++) {
    // Kill moments spread over start-up, fetching and committing, with jitter.
    const at = full * (0.1 + (0.6 * i) / KILLS) + Math.random() * full * 0.05;
    const r = await runWorker(env.dir, spec, `run-${i}`, Math.round(at));
    if (!r.killed) {
      // Finished before the kill: the next run fetches the endpoint again, which the assertions count.
      assert.equal(r.code, 0, r.err);
      completed++;
    }
  }
  // On a loaded machine the runs can slow down after the warm one, so that every kill lands
  // before a commit: then kill a few runs right after their first commit.
  const commits = async () => (await tableSnapshots(env.runtime, 'crash.items')).length;
  const byKilled = async () =>
    (await tableSnapshots(env.runtime, 'crash.items')).some(
      (x) => !['final', 'warm'].includes(x.summary['sluice.ingest.run'] as string),
    );
  for (let i = 0; i < 5 && !(await byKilled()); i++) {
    const before = await commits();
    const r = await runWorker(env.dir, spec, `late-${i}`, undefined, async () => (await commits()) > before);
    if (!r.killed) {
      assert.equal(r.code, 0, r.err);
      completed++;
    }
  }
  const last = await runWorker(env.dir, spec, 'final');
  assert.equal(last.code, 0, last.err);
  const rows = plainRows(await tableRows(env.runtime, 'crash.items', 'id'));
  const good = records.filter((r) => typeof r.amount === 'number');
  const bad = records.filter((r) => typeof r.amount !== 'number');
  // A completed run re-fetches everything: with `append` and no cursor each complete fetch
  // appends once more, so count complete fetches from the ledger's closed epochs.
  const ledger = await listRawObjects(env.runtime.meta, { task: 'crash.fetch', limit: 100_000 });
  assert.ok(
    ledger.every((o) => o.status === 'committed'),
    'nothing is left pending',
  );
  const epochs = new Map<string, number>();
  for (const o of ledger) epochs.set(o.epoch, (epochs.get(o.epoch) ?? 0) + 1);
  const complete = [...epochs.values()].filter((n) => n === 21).length;
  assert.equal(epochs.size, complete, `every fetch finished after resuming (${completed} finished unkilled)`);
  const times = complete;
  const expected = good.flatMap((r) => Array.from({ length: times }, () => [r.id, r.amount]));
  assert.deepEqual(
    rows.map((r) => [r.id, r.amount]),
    expected.sort((a, b) => Number(a[0]) - Number(b[0])),
  );
  const q = plainRows(await tableRows(env.runtime, 'crash.items__quarantine', '__raw_object, __raw_row'));
  const sinkSnaps = await tableSnapshots(env.runtime, 'crash.items');
  const byKilledRuns = sinkSnaps.filter(
    (x) => !['final', 'warm'].includes(x.summary['sluice.ingest.run'] as string),
  ).length;
  assert.ok(byKilledRuns > 0, 'some batches were committed by runs that were killed later');
  const seen = new Map<string, number>();
  for (const r of q)
    seen.set(`${r.__raw_object}#${r.__raw_row}`, (seen.get(`${r.__raw_object}#${r.__raw_row}`) ?? 0) + 1);
  const dupes = [...seen].filter(([, n]) => n > 1);
  const snaps = (await tableSnapshots(env.runtime, 'crash.items__quarantine')).map((s) => s.summary);
  assert.equal(q.length, bad.length * times, JSON.stringify({ dupes, snaps }, null, 1));

  // The history in sluice_system holds every raw object, load and quarantine append once.
  await flushSystemTables(env.runtime);
  const engine = await openEngine(env.runtime);
  try {
    const sql = await engine.openSession({ name: 'check', readOnly: true });
    const fetched = await query(sql, 'SELECT object_id, count(*) FROM sluice_system.raw_objects GROUP BY 1');
    assert.equal(fetched.length, ledger.length);
    assert.ok(
      fetched.every(([, n]) => n === 1),
      'no raw object recorded twice',
    );
    assert.deepEqual(fetched.map(([id]) => id).sort(), ledger.map((o) => o.id).sort());
    const loads = await query(
      sql,
      'SELECT object_id, count(*), any_value(snapshot_id) FROM sluice_system.raw_object_loads GROUP BY 1',
    );
    assert.equal(loads.length, ledger.length, 'every raw object has its load');
    assert.ok(
      loads.every(([, n]) => n === 1),
      'no load recorded twice',
    );
    const ledgerSnap = new Map(ledger.map((o) => [o.id, o.snapshotId]));
    const sinkIds = new Set(sinkSnaps.map((x) => String(x['snapshot-id'])));
    for (const [id, , snap] of loads) {
      assert.equal(snap === null ? 'none' : String(snap), ledgerSnap.get(String(id)));
      if (snap !== null) assert.ok(sinkIds.has(String(snap)));
    }
    const [[records, appends]] = (await query(
      sql,
      'SELECT sum(records), count(DISTINCT snapshot_id) FROM sluice_system.quarantine',
    )) as [[number, number]];
    assert.equal(records, q.length);
    assert.equal(appends, snaps.length);
  } finally {
    await engine.close();
  }
});
