import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crashProblems, crashSummary, runServeCrash } from './serve-crash.js';

// Each restart of `sluice serve` takes ~2–3 s on the 2-core machine, so the suite kills it 5
// times; `npm run bench -- bus-crash` runs the same check with the 20 kills the event bus asks
// for (SLUICE_CRASH_KILLS overrides the count here).
const KILLS = Number(process.env.SLUICE_CRASH_KILLS ?? 5);

test(`durability: sluice serve killed with SIGKILL ${KILLS} times while producers publish keeps every acknowledged event once, in the log and the lake table`, async () => {
  const r = await runServeCrash({ kills: KILLS });
  const summary = crashSummary(r);
  assert.deepEqual(crashProblems(r), [], summary);
  assert.ok(r.acked.size > 100, `too few events acknowledged to mean anything: ${summary}`);
  assert.ok(r.failedRequests > 0, `no publish was cut by a kill: ${summary}`);
  console.log(summary);
});
