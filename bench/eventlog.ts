// Event log: durable appends of 1 KB events in batches of 100 and 1,000 (one and four appenders
// on one partition), and append→read latency at a paced 10,000 events/s, for the embedded log and
// for Redis Streams (XADD/XREAD, AOF with appendfsync always and everysec) in the same run on the
// same disk. Targets: ≥ 50,000 events/s durable; p99 append→read ≤ 50 ms at 10k events/s.
// Redis is skipped with a message when redis-server is missing and cannot be installed.
// Scale with BENCH_EVENTS (events per throughput case), BENCH_CASE_SECONDS (time limit of a
// throughput case) and BENCH_LATENCY_SECONDS.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { openEmbeddedLog } from '../src/bus/log/embedded.js';
import type { EventLog } from '../src/bus/log/index.js';
import { silentLogger } from '../src/observe/index.js';
import { haveRedis, redisTarget, type Target } from './redis.js';
import { printTable, saveResult } from './util.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 5);
/** A throughput case stops early after this long (slow baselines). */
const CASE_SECONDS = Number(process.env.BENCH_CASE_SECONDS ?? 15);
const EVENT_BYTES = 1024;
const RATE = 10_000;
const LATENCY_BATCH = 100;

/** A 1 KB event whose first 8 bytes carry a number (batch index or send time). */
function eventBytes(tag: number): Buffer {
  const b = Buffer.alloc(EVENT_BYTES, 0x61);
  b.writeDoubleLE(tag, 0);
  return b;
}

async function embeddedTarget(dir: string): Promise<Target> {
  const log: EventLog = await openEmbeddedLog({ dir, log: silentLogger, retentionCheckMs: 0 });
  const topic = 'bench';
  await log.createTopic(topic, { partitions: 1, retentionMs: 86_400_000, cleanupPolicy: 'delete' });
  return {
    name: 'sluice embedded (fdatasync per group commit)',
    append: async (batch) => {
      await log.append(
        topic,
        0,
        batch.map((value) => ({ value })),
      );
    },
    follow: async (onEvent, stop) => {
      let at = (await log.bounds(topic))[0]!.end;
      while (!stop.aborted) {
        const records = await log.read(topic, 0, at, { maxRecords: 1000, waitMs: 1000, signal: stop });
        for (const r of records) onEvent(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength));
        if (records.length) at = records[records.length - 1]!.offset + 1n;
      }
    },
    close: () => log.close(),
  };
}

/**
 * Events per second appending `EVENTS` events (or as many as fit in CASE_SECONDS) in batches
 * of `batch` from `appenders` callers.
 */
async function throughput(t: Target, batch: number, appenders: number): Promise<number> {
  const batches = Math.ceil(EVENTS / batch);
  const payload = Array.from({ length: batch }, (_, i) => eventBytes(i));
  let next = 0;
  let done = 0;
  const started = performance.now();
  const deadline = started + CASE_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      while (next++ < batches && performance.now() < deadline) {
        await t.append(payload);
        done++;
      }
    }),
  );
  return Math.round((done * batch) / ((performance.now() - started) / 1000));
}

/** p50/p99 ms from the start of an append until a follower has the event, at RATE events/s. */
async function latency(t: Target): Promise<{ p50: number; p99: number; events: number }> {
  const sentAt: number[] = [];
  const latencies: number[] = [];
  const stop = new AbortController();
  const following = t.follow((value) => {
    latencies.push(performance.now() - sentAt[value.readDoubleLE(0)]!);
  }, stop.signal);
  await sleep(200);
  const batches = Math.round((RATE * LATENCY_SECONDS) / LATENCY_BATCH);
  const intervalMs = (1000 * LATENCY_BATCH) / RATE;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let b = 0; b < batches; b++) {
    const due = started + b * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    sentAt[b] = performance.now();
    inFlight.push(t.append(Array.from({ length: LATENCY_BATCH }, () => eventBytes(b))));
  }
  await Promise.all(inFlight);
  for (let i = 0; i < 100 && latencies.length < batches * LATENCY_BATCH; i++) await sleep(20);
  stop.abort();
  await following.catch(() => undefined);
  const sorted = latencies.sort((a, b) => a - b);
  const pick = (q: number) =>
    Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
  return { p50: pick(0.5), p99: pick(0.99), events: sorted.length };
}

interface Row {
  target: string;
  case: string;
  value: number;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'sluice-bench-eventlog-'));
  const makers: { name: string; open: (dir: string) => Promise<Target> }[] = [
    { name: 'embedded', open: embeddedTarget },
  ];
  if (haveRedis()) {
    makers.push({ name: 'redis-always', open: (d) => redisTarget(d, 'always') });
    makers.push({ name: 'redis-everysec', open: (d) => redisTarget(d, 'everysec') });
  } else {
    console.log('skipping Redis Streams: redis-server is not available');
  }
  const rows: Row[] = [];
  const cases = [
    { batch: 100, appenders: 1 },
    { batch: 100, appenders: 4 },
    { batch: 100, appenders: 16 },
    { batch: 1000, appenders: 1 },
    { batch: 1000, appenders: 4 },
  ];
  try {
    for (const [i, m] of makers.entries()) {
      const dir = join(root, `${i}-${m.name}`);
      await mkdir(dir);
      const t = await m.open(dir);
      try {
        // Latency first, on a fresh log, before the throughput runs leave dirty pages to write back.
        const l = await latency(t);
        rows.push({ target: t.name, case: `append→read p50 ms at ${RATE}/s`, value: l.p50 });
        rows.push({ target: t.name, case: `append→read p99 ms at ${RATE}/s`, value: l.p99 });
        for (const c of cases) {
          const rate = await throughput(t, c.batch, c.appenders);
          rows.push({
            target: t.name,
            case: `append batch ${c.batch} × ${c.appenders} appenders (events/s)`,
            value: rate,
          });
        }
      } finally {
        await t.close();
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const names = [...new Set(rows.map((r) => r.target))];
  const caseNames = [...new Set(rows.map((r) => r.case))];
  const ours = names[0]!;
  const table = caseNames.map((c) => {
    const v = (n: string) => rows.find((r) => r.target === n && r.case === c)?.value;
    const mine = v(ours)!;
    return [
      c,
      mine,
      ...names.slice(1).flatMap((n) => [v(n) ?? '-', v(n) ? `${(mine / v(n)!).toFixed(2)}×` : '-']),
    ];
  });
  printTable(['case', ours, ...names.slice(1).flatMap((n) => [n, 'ratio'])], table);
  console.log(`saved ${saveResult('eventlog', { events: EVENTS, eventBytes: EVENT_BYTES, rows })}`);
}

await main();
