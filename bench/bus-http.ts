// Event bus over HTTP, `sluice serve` in its own process as users run it (embedded log, fsync
// on), 1 KB business events with metadata_enrichment:
// 1. Publish throughput: 4 producers POST batches of 100 and 1,000 as fast as the server
//    acknowledges them; events/s and the server's CPU time per 1,000 events (from
//    /proc/<pid>/stat). With BENCH_BEFORE_BIN=/path/to/older/bin/sluice.js the same cases run
//    on that build too, interleaved in the same run, and the table prints after ÷ before.
//    The peer, interleaved in the same run: Redis Streams (redis-server, AOF appendfsync always
//    and everysec), 4 producers each XADDing the same events in pipelines of the batch size;
//    the table prints Sluice ÷ Redis (skipped with a message without redis-server).
// 2. Publish→delivery latency at paced rates (BENCH_RATES, default 1000,5000,10000 events/s,
//    POST batches of 100) to a low-level stream (batch_limit 1 and 100) and to a subscription
//    stream (batch_limit 100, committing as it goes). Latency of an event: from the start of
//    the POST that carries it until the consumer has parsed its batch. Target: p99 ≤ 50 ms.
// 3. Catch-up: reading stored events from BEGIN.
// Scale with BENCH_LATENCY_SECONDS (default 5 per case) and BENCH_PUBLISH_SECONDS (default 5);
// BENCH_PRODUCERS (default 4) sets the concurrent producers of the throughput cases, both sides;
// BENCH_RATES=none runs only the publish throughput cases (1).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { scaffoldProject } from '../src/config/index.js';
import { type Server, startServe } from '../test/bus/serve-crash.js';
import { sluiceBin, tempDir } from '../test/helpers/cli.js';
import { haveRedis, redisTarget, type Target } from './redis.js';
import { printTable, saveResult } from './util.js';

const SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 5);
/** 0 skips the throughput cases. */
const PUBLISH_SECONDS = Number(process.env.BENCH_PUBLISH_SECONDS ?? 5);
const RATES =
  process.env.BENCH_RATES === 'none'
    ? []
    : (process.env.BENCH_RATES ?? '1000,5000,10000').split(',').map(Number);
const BEFORE_BIN = process.env.BENCH_BEFORE_BIN;
const BATCH = 100;
const PRODUCERS = Number(process.env.BENCH_PRODUCERS ?? 4);
const EVENT_TYPE = 'bench.orders';
const PAD = 'x'.repeat(900);

const EVENT_TYPE_FILE = `name: ${EVENT_TYPE}
owning_application: bench
category: business
enrichment_strategies: [metadata_enrichment]
partition_strategy: random
default_statistic: { messages_per_minute: 1, message_size: 1, read_parallelism: 1, write_parallelism: 1 }
schema:
  type: json_schema
  schema:
    properties:
      order_number: { type: string }
      sent: { type: number }
      pad: { type: string }
    required: [order_number]
`;

interface Latency {
  /** p50 and p99 of the publish round trip (POST until its 200). */
  ack50: number;
  ack99: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  events: number;
  failed: number;
}

/** Lines of a JSON stream, parsed, as they arrive. */
async function readLines(res: Response, onLine: (line: unknown) => void, stop: AbortSignal): Promise<void> {
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        onLine(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
      }
    }
  } catch (err) {
    if (!stop.aborted) throw err;
  }
}

type Batch = { cursor: Record<string, string>; events?: { sent: number }[] };

/** Follow the low-level stream from its end; calls `onEvent` with the `sent` field of each event. */
async function followLowLevel(
  url: string,
  batchLimit: number,
  onEvent: (sent: number) => void,
  stop: AbortSignal,
): Promise<void> {
  const res = await fetch(
    `${url}/event-types/${EVENT_TYPE}/events?batch_limit=${batchLimit}&batch_flush_timeout=1`,
    { signal: stop },
  );
  if (res.status !== 200) throw new Error(`stream answered ${res.status}: ${await res.text()}`);
  await readLines(
    res,
    (line) => {
      for (const e of (line as Batch).events ?? []) onEvent(e.sent);
    },
    stop,
  );
}

/** Follow a new subscription from the end, committing the newest cursor whenever no commit is in flight. */
async function followSubscription(
  url: string,
  batchLimit: number,
  onEvent: (sent: number) => void,
  stop: AbortSignal,
): Promise<void> {
  const created = await fetch(`${url}/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      owning_application: 'bench',
      event_types: [EVENT_TYPE],
      consumer_group: randomUUID(),
      read_from: 'end',
    }),
  });
  const { id } = (await created.json()) as { id: string };
  const res = await fetch(
    `${url}/subscriptions/${id}/events?batch_limit=${batchLimit}&batch_flush_timeout=1&max_uncommitted_events=20000`,
    { signal: stop },
  );
  if (res.status !== 200) throw new Error(`subscription stream answered ${res.status}: ${await res.text()}`);
  const streamId = res.headers.get('x-nakadi-streamid') as string;
  let pending: Record<string, string> | undefined;
  let committing = false;
  const commit = async () => {
    while (pending && !stop.aborted) {
      const cursor = pending;
      pending = undefined;
      committing = true;
      const r = await fetch(`${url}/subscriptions/${id}/cursors`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-nakadi-streamid': streamId },
        body: JSON.stringify({ items: [cursor] }),
      }).catch(() => undefined);
      await r?.arrayBuffer();
      committing = false;
    }
  };
  await readLines(
    res,
    (line) => {
      const batch = line as Batch;
      if (!batch.events) return;
      for (const e of batch.events) onEvent(e.sent);
      pending = batch.cursor;
      if (!committing) void commit();
    },
    stop,
  );
}

type Follow = typeof followLowLevel;

async function latency(url: string, rate: number, follow: Follow, batchLimit: number): Promise<Latency> {
  const latencies: number[] = [];
  const acks: number[] = [];
  let failed = 0;
  const stop = new AbortController();
  const following = follow(url, batchLimit, (sent) => latencies.push(performance.now() - sent), stop.signal);
  await sleep(500);
  const batches = Math.round((rate * SECONDS) / BATCH);
  const intervalMs = (1000 * BATCH) / rate;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let b = 0; b < batches; b++) {
    const wait = started + b * intervalMs - performance.now();
    if (wait > 0) await sleep(wait);
    const sent = performance.now();
    const events = Array.from({ length: BATCH }, (_, i) => ({
      order_number: `o-${b}-${i}`,
      sent,
      pad: PAD,
      metadata: { eid: randomUUID(), occurred_at: new Date().toISOString() },
    }));
    inFlight.push(
      fetch(`${url}/event-types/${EVENT_TYPE}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(events),
      }).then(
        async (res) => {
          if (res.status !== 200) throw new Error(`publish answered ${res.status}: ${await res.text()}`);
          await res.arrayBuffer();
          acks.push(performance.now() - sent);
        },
        (err: Error) => {
          // A connection the server closed as idle while the request was sent (keep-alive race).
          failed++;
          if (failed === 1)
            console.log(`a publish failed: ${String((err.cause as Error | undefined)?.message ?? err)}`);
        },
      ),
    );
  }
  await Promise.all(inFlight);
  for (let i = 0; i < 200 && latencies.length < (batches - failed) * BATCH; i++) await sleep(20);
  stop.abort();
  await following;
  const quantile = (values: number[], q: number) => {
    const sorted = values.sort((a, b) => a - b);
    return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
  };
  const pick = (q: number) => quantile(latencies, q);
  return {
    ack50: quantile(acks, 0.5),
    ack99: quantile(acks, 0.99),
    p50: pick(0.5),
    p95: pick(0.95),
    p99: pick(0.99),
    max: pick(1),
    events: latencies.length,
    failed,
  };
}

/** User + system CPU time of a process so far (ms), from /proc. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat (11 and 12 after the command name), in clock ticks.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Publish as fast as the server acknowledges for PUBLISH_SECONDS: events/s and server CPU ms per 1,000 events. */
async function publishRate(server: Server, batch: number): Promise<{ rate: number; cpuPer1k: number }> {
  // One body per producer, built and encoded once: the producers' own CPU stays small.
  const bodies = Array.from({ length: PRODUCERS }, (_, p) => encodeJson(producerEvents(p, batch)));
  const pid = server.child.pid as number;
  const cpuBefore = cpuMs(pid);
  const started = performance.now();
  const endAt = started + PUBLISH_SECONDS * 1000;
  let events = 0;
  await Promise.all(
    bodies.map(async (body) => {
      while (performance.now() < endAt) {
        const res = await fetch(`${server.url}/event-types/${EVENT_TYPE}/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        if (res.status !== 200) throw new Error(`publish answered ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
        events += batch;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuMs(pid) - cpuBefore;
  return { rate: Math.round(events / seconds), cpuPer1k: Math.round((cpu / events) * 1000 * 10) / 10 };
}

/** The events of producer `p`'s batches. */
function producerEvents(p: number, batch: number): unknown[] {
  return Array.from({ length: batch }, (_, i) => ({
    order_number: `o-${p}-${i}`,
    sent: 0,
    pad: PAD,
    metadata: { eid: randomUUID(), occurred_at: new Date().toISOString() },
  }));
}

/** Events/s of PRODUCERS producers XADDing the same events in pipelines of `batch` for PUBLISH_SECONDS. */
async function redisRate(target: Target, batch: number): Promise<number> {
  const batches = Array.from({ length: PRODUCERS }, (_, p) =>
    producerEvents(p, batch).map((e) => Buffer.from(JSON.stringify(e))),
  );
  const started = performance.now();
  const endAt = started + PUBLISH_SECONDS * 1000;
  let events = 0;
  await Promise.all(
    batches.map(async (events_) => {
      while (performance.now() < endAt) {
        await target.append(events_);
        events += batch;
      }
    }),
  );
  return Math.round(events / ((performance.now() - started) / 1000));
}

/** JSON as UTF-8 bytes (a string body would be encoded again on every request). */
function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** Events/s a consumer reads `total` stored events from BEGIN with `batchLimit` (catch-up). */
async function catchUp(url: string, batchLimit: number, total: number): Promise<number> {
  const started = performance.now();
  const res = await fetch(
    `${url}/event-types/${EVENT_TYPE}/events?batch_limit=${batchLimit}&stream_limit=${total}&batch_flush_timeout=1`,
    { headers: { 'x-nakadi-cursors': JSON.stringify([{ partition: '0', offset: 'BEGIN' }]) } },
  );
  const text = await res.text();
  if (res.status !== 200) throw new Error(`stream answered ${res.status}: ${text}`);
  const lines = text.split('\n').filter((l) => l.includes('"events"')).length;
  if (lines !== Math.ceil(total / batchLimit)) throw new Error(`catch-up got ${lines} batches`);
  return Math.round(total / ((performance.now() - started) / 1000));
}

async function newServer(dir: string, name: string, bin: string): Promise<Server> {
  const project = join(dir, name);
  await scaffoldProject(project, { name: 'bench' });
  await mkdir(join(project, 'events'), { recursive: true });
  await writeFile(join(project, 'events', 'orders.yaml'), EVENT_TYPE_FILE);
  return startServe(project, bin);
}

async function main(): Promise<void> {
  const tmp = tempDir('sluice-bench-bus-http-');
  const servers: Server[] = [];
  const publishRows: (string | number)[][] = [];
  const latencyRows: (string | number)[][] = [];
  const catchUps: (string | number)[][] = [];
  const redis: { fsync: 'always' | 'everysec'; target: Target }[] = [];
  try {
    const current = await newServer(tmp.dir, 'current', sluiceBin);
    servers.push(current);
    const before = BEFORE_BIN ? await newServer(tmp.dir, 'before', BEFORE_BIN) : undefined;
    if (before) servers.push(before);
    if (PUBLISH_SECONDS > 0 && haveRedis()) {
      for (const fsync of ['always', 'everysec'] as const) {
        const dir = join(tmp.dir, `redis-${fsync}`);
        await mkdir(dir);
        redis.push({ fsync, target: await redisTarget(dir, fsync) });
      }
    } else if (PUBLISH_SECONDS > 0) {
      console.log('skipping Redis Streams: redis-server is not available');
    }

    for (const batch of PUBLISH_SECONDS > 0 ? [100, 1000] : []) {
      // Interleaved, twice each, so that both builds see the same machine load.
      const runs: Record<'current' | 'before', { rate: number; cpuPer1k: number }[]> = {
        current: [],
        before: [],
      };
      const redisRuns = redis.map(() => [] as number[]);
      for (let round = 0; round < 2; round++) {
        if (before) runs.before.push(await publishRate(before, batch));
        runs.current.push(await publishRate(current, batch));
        for (const [i, r] of redis.entries()) redisRuns[i]!.push(await redisRate(r.target, batch));
      }
      const best = (r: { rate: number; cpuPer1k: number }[]) => ({
        rate: Math.max(...r.map((x) => x.rate)),
        cpuPer1k: Math.min(...r.map((x) => x.cpuPer1k)),
      });
      const c = best(runs.current);
      const row: (string | number)[] = [`batches of ${batch}`, c.rate, c.cpuPer1k];
      if (before) {
        const b = best(runs.before);
        row.push(
          b.rate,
          b.cpuPer1k,
          `${(c.rate / b.rate).toFixed(2)}×`,
          `${(c.cpuPer1k / b.cpuPer1k).toFixed(2)}×`,
        );
      }
      for (const runs of redisRuns) {
        const best = Math.max(...runs);
        row.push(best, `${(c.rate / best).toFixed(2)}×`);
      }
      publishRows.push(row);
    }

    const consumers: [string, Follow, number][] = [
      ['low-level, batch_limit 1', followLowLevel, 1],
      ['low-level, batch_limit 100', followLowLevel, 100],
      ['subscription, batch_limit 100', followSubscription, 100],
    ];
    for (const rate of RATES) {
      for (const [name, follow, batchLimit] of consumers) {
        const l = await latency(current.url, rate, follow, batchLimit);
        latencyRows.push([
          rate,
          name,
          l.ack50,
          l.ack99,
          l.p50,
          l.p95,
          l.p99,
          l.max,
          l.events,
          l.failed * BATCH,
        ]);
      }
    }
    const total = 20_000;
    for (const batchLimit of RATES.length ? [1, 100] : []) {
      catchUps.push([`batch_limit ${batchLimit}`, await catchUp(current.url, batchLimit, total)]);
    }
  } catch (err) {
    for (const s of servers) console.error(`server log:\n${s.stderr()}`);
    throw err;
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
    for (const r of redis) await r.target.close();
    tmp.remove();
  }
  console.log(`publish throughput, ${PRODUCERS} producers, 1 KB events, best of 2 × ${PUBLISH_SECONDS} s`);
  const publishHeader = ['case', 'events/s', 'server CPU ms / 1k events'];
  if (BEFORE_BIN) publishHeader.push('before events/s', 'before CPU ms / 1k', 'events/s ratio', 'CPU ratio');
  for (const r of redis) publishHeader.push(`Redis ${r.fsync} events/s`, `÷ Redis ${r.fsync}`);
  printTable(publishHeader, publishRows);
  console.log(`\npublish→delivery over HTTP (POST batches of ${BATCH}), ${SECONDS} s per case`);
  printTable(
    [
      'events/s',
      'consumer',
      'ack p50 ms',
      'ack p99 ms',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'events',
      'publish failed',
    ],
    latencyRows,
  );
  console.log('\nreading stored events from BEGIN (catch-up)');
  printTable(['consumer', 'events/s'], catchUps);
  console.log(
    `saved ${saveResult('bus-http', { rates: RATES, seconds: SECONDS, batch: BATCH, publishRows, latencyRows, catchUps })}`,
  );
}

await main();
