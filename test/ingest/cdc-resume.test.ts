import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readState, runCdc } from '../../src/ingest/cdc/index.js';
import { assertLakeEqualsSource, cdcSuite, pgExec, testSpec } from './cdc-helpers.js';

const BIG = 'z'.repeat(9_000);

// After a crash during the initial copy the exported snapshot is gone: the rest of each table is
// copied as it is now, and the stream then replays changes the copy already holds. An update
// that left a TOASTed value unchanged carries no value for it, so the replay must not invent one.
describe('postgres_cdc: an initial copy resumed without its exported snapshot', () => {
  const s = cdcSuite(async (url) => {
    await pgExec(
      url,
      `INSERT INTO orders SELECT g, g, now(), '{}', ARRAY['a'], CASE WHEN g % 10 = 0 THEN $1 END, g
         FROM generate_series(1, 200) g`,
      [BIG],
    );
  });

  test('replayed updates of TOASTed rows that moved or went keep the source values', async () => {
    // Replication slots are per server: a name of its own keeps clear of the other CDC suites.
    const spec = testSpec(
      s.db.url,
      { snapshot: { chunk_rows: 50, parallel: 1 }, batch: { interval: 200, max_changes: 1 } },
      'shop_resume',
    );
    // Stop after the first chunk commits, as a crash would.
    const stop = new AbortController();
    await assert.rejects(
      runCdc(s.runtime, spec, {
        signal: stop.signal,
        progress: (p) => {
          if (p.phase === 'snapshot' && (p.rows ?? 0) > 0) stop.abort();
        },
      }),
    );
    assert.equal((await readState(s.runtime.meta, 'shop_resume'))?.phase, 'snapshot');
    // Row 150 (not copied yet) is updated with its note untouched, then moves to a new key.
    await pgExec(s.db.url, 'UPDATE orders SET qty = qty + 1 WHERE id = 150');
    await pgExec(s.db.url, 'UPDATE orders SET id = 100150 WHERE id = 150');
    // Row 180 moves below the keys already copied: neither of its keys is in the copy.
    await pgExec(s.db.url, 'UPDATE orders SET qty = qty + 1 WHERE id = 180');
    await pgExec(s.db.url, 'UPDATE orders SET id = -180 WHERE id = 180');
    // Row 170 is updated, then deleted.
    await pgExec(s.db.url, 'UPDATE orders SET qty = 0 WHERE id = 170');
    await pgExec(s.db.url, 'DELETE FROM orders WHERE id = 170');
    await pgExec(s.db.url, 'UPDATE orders SET amount = 0 WHERE id IN (10, 160)');
    await runCdc(s.runtime, spec, { signal: AbortSignal.timeout(60_000), untilCaughtUp: true });
    await assertLakeEqualsSource(s.runtime, s.db.url);
  });
});
