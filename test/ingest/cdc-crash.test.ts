import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { readState, runCdc } from '../../src/ingest/cdc/index.js';
import { assertLakeEqualsSource, cdcSuite, pgExec, testSpec } from './cdc-helpers.js';

const worker = new URL('./cdc-worker.js', import.meta.url).pathname;
// 20 kills by default; SLUICE_CRASH_KILLS changes the count (more for a longer soak).
const KILLS = Number(process.env.SLUICE_CRASH_KILLS ?? 20);

/** One random transaction of the workload (inserts, updates incl. key changes, deletes, truncates). */
function randomTransaction(i: number): string {
  const id = 1 + Math.floor(Math.random() * 3000);
  const pick = Math.random();
  if (pick < 0.3)
    return `INSERT INTO orders VALUES (${10_000 + i}, ${i}.5, now(), '{"i":${i}}', ARRAY['t${i}'], ${i % 7 === 0 ? "repeat('y', 9000)" : 'NULL'}, ${i})
            ON CONFLICT (id) DO UPDATE SET qty = EXCLUDED.qty;
            INSERT INTO line_items VALUES (${i % 50}, ${1000 + i}, 's', 1.25, ARRAY[${i}]) ON CONFLICT DO NOTHING;`;
  if (pick < 0.6)
    return `UPDATE orders SET qty = qty + 1, amount = amount + 1 WHERE id BETWEEN ${id} AND ${id + 20};`;
  if (pick < 0.75)
    return `DELETE FROM orders WHERE id BETWEEN ${id} AND ${id + 5}; DELETE FROM line_items WHERE line = ${id};`;
  if (pick < 0.85) return `UPDATE orders SET id = id + 100000 WHERE id = ${id};`;
  if (pick < 0.97)
    return `INSERT INTO events VALUES ('w${i}', 'k', now(), NULL); UPDATE events SET kind = 'u' WHERE event_id = 'w${i - 3}';`;
  return 'TRUNCATE events;';
}

describe('postgres_cdc: crash and restart', () => {
  const s = cdcSuite(async (url) => {
    await pgExec(
      url,
      `INSERT INTO orders SELECT g, g, now(), '{}', ARRAY['a'], CASE WHEN g % 50 = 0 THEN repeat('z', 9000) END, g
         FROM generate_series(1, 3000) g`,
    );
    await pgExec(
      url,
      `INSERT INTO line_items SELECT g % 50, g, 's', 2.5, ARRAY[g] FROM generate_series(1, 1500) g`,
    );
  });

  test(`killed with SIGKILL at least ${KILLS} times during the workload, the lake still equals the source`, async () => {
    let stop = false;
    let txs = 0;
    const workload = (async () => {
      while (!stop) {
        await pgExec(s.db.url, `BEGIN; ${randomTransaction(txs++)} COMMIT;`);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    let child: ChildProcess | undefined;
    try {
      // At least KILLS kills, and on until the killed processes have finished the initial
      // snapshot between them, so kills land in both phases whatever the machine's speed.
      const streaming = async () => (await readState(s.runtime.meta, 'shop_crash'))?.phase === 'streaming';
      for (let k = 0; k < KILLS || (k < 4 * KILLS && !(await streaming())); k++) {
        child = spawn(process.execPath, [worker, s.dir, s.db.url], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr?.on('data', (d) => {
          stderr += d;
        });
        const exited = new Promise((resolve) => child?.once('exit', resolve));
        // Kill at a random moment of its work, not of its start-up (module loading varies by machine).
        await new Promise((r) => {
          child?.stdout?.once('data', r);
          child?.once('exit', r);
        });
        // Past KILLS, each process gets longer before its kill: on a slow machine the snapshot
        // still completes in a few more kills instead of never.
        const patience = 1 + Math.max(0, k + 1 - KILLS);
        await new Promise((r) => setTimeout(r, (300 + Math.random() * 1700) * patience));
        assert.equal(child.exitCode, null, `the CDC process died on its own: ${stderr.slice(-2000)}`);
        child.kill('SIGKILL');
        await exited;
      }
    } finally {
      stop = true;
      child?.kill('SIGKILL');
      await workload;
    }
    assert.ok(txs > 50, `workload ran ${txs} transactions`);
    const state = await readState(s.runtime.meta, 'shop_crash');
    assert.equal(
      state?.phase,
      'streaming',
      'the killed processes finished the initial snapshot between them',
    );
    const last = await runCdc(s.runtime, testSpec(s.db.url, { change_stream: true }, 'shop_crash'), {
      signal: AbortSignal.timeout(60_000),
      untilCaughtUp: true,
    });
    assert.equal(last.snapshotRows, 0);
    await assertLakeEqualsSource(s.runtime, s.db.url);
  });
});
