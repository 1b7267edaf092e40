// Durability soak of the event bus over HTTP: `sluice serve` killed with SIGKILL 20 times
// (BENCH_CRASH_KILLS) while producers publish; every acknowledged event must be in the log
// exactly once and the lake sink's table must hold every logged event once. The suite runs
// the same check with 5 kills (test/bus/serve-crash.test.ts). BENCH_CRASH_SEED replays a run.
import { crashProblems, crashSummary, runServeCrash } from '../test/bus/serve-crash.js';
import { saveResult } from './util.js';

const kills = Number(process.env.BENCH_CRASH_KILLS ?? 20);
const seed = process.env.BENCH_CRASH_SEED ? Number(process.env.BENCH_CRASH_SEED) : undefined;
const r = await runServeCrash({ kills, ...(seed === undefined ? {} : { seed }) });
const problems = crashProblems(r);
console.log(crashSummary(r));
for (const p of problems) console.log(`PROBLEM ${p}`);
console.log(
  `saved ${saveResult('bus-crash', {
    seed: r.seed,
    kills: r.kills,
    sent: r.sent,
    acked: r.acked.size,
    inLog: r.logCounts.size,
    inTable: r.tableCounts.size,
    failedRequests: r.failedRequests,
    ms: r.ms,
    problems,
  })}`,
);
if (problems.length) process.exitCode = 1;
