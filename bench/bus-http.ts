// Event bus over HTTP: publish→delivery latency of `sluice serve` at a paced 10,000 events/s
// (1 KB business events, POST batches of 100, durable acknowledgement) to a low-level streaming
// consumer (GET /event-types/{name}/events) with batch_limit 1 and 100. The server runs in its
// own process, as users run it; producer and consumer share this one. The latency of an event
// is from the start of the POST that carries it until the consumer has parsed its batch.
// Target: p99 ≤ 50 ms. Scale with BENCH_LATENCY_SECONDS (default 10) and BENCH_RATE.
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { scaffoldProject } from '../src/config/index.js';
import { type Server, startServe } from '../test/bus/serve-crash.js';
import { tempDir } from '../test/helpers/cli.js';
import { printTable, saveResult } from './util.js';

const SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
const RATE = Number(process.env.BENCH_RATE ?? 10_000);
const BATCH = 100;
const EVENT_TYPE = 'bench.orders';

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

/** Follow the stream from its end; calls `onEvent` with the `sent` field of each event. */
async function follow(
  url: string,
  batchLimit: number,
  onEvent: (sent: number) => void,
  stop: AbortSignal,
): Promise<void> {
  const res = await fetch(
    `${url}/event-types/${EVENT_TYPE}/events?batch_limit=${batchLimit}&batch_flush_timeout=1`,
    {
      signal: stop,
    },
  );
  if (res.status !== 200) throw new Error(`stream answered ${res.status}: ${await res.text()}`);
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const batch = JSON.parse(line) as { events?: { sent: number }[] };
        for (const e of batch.events ?? []) onEvent(e.sent);
        nl = buf.indexOf('\n');
      }
    }
  } catch (err) {
    if (!stop.aborted) throw err;
  }
}

async function latency(
  url: string,
  batchLimit: number,
): Promise<{ p50: number; p99: number; max: number; events: number; failed: number }> {
  const latencies: number[] = [];
  let failed = 0;
  const stop = new AbortController();
  const following = follow(url, batchLimit, (sent) => latencies.push(performance.now() - sent), stop.signal);
  await sleep(500);
  const batches = Math.round((RATE * SECONDS) / BATCH);
  const intervalMs = (1000 * BATCH) / RATE;
  const pad = 'x'.repeat(900);
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let b = 0; b < batches; b++) {
    const wait = started + b * intervalMs - performance.now();
    if (wait > 0) await sleep(wait);
    const sent = performance.now();
    const events = Array.from({ length: BATCH }, (_, i) => ({
      order_number: `o-${b}-${i}`,
      sent,
      pad,
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
  const sorted = latencies.sort((a, b) => a - b);
  const pick = (q: number) =>
    Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
  return { p50: pick(0.5), p99: pick(0.99), max: pick(1), events: sorted.length, failed };
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

async function main(): Promise<void> {
  const tmp = tempDir('sluice-bench-bus-http-');
  const project = join(tmp.dir, 'proj');
  let server: Server | undefined;
  const rows: (string | number)[][] = [];
  const catchUps: (string | number)[][] = [];
  try {
    await scaffoldProject(project, { name: 'bench' });
    await mkdir(join(project, 'events'), { recursive: true });
    await writeFile(join(project, 'events', 'orders.yaml'), EVENT_TYPE_FILE);
    server = await startServe(project);
    for (const batchLimit of [1, 100]) {
      const l = await latency(server.url, batchLimit);
      rows.push([`batch_limit ${batchLimit}`, l.p50, l.p99, l.max, l.events, l.failed * BATCH]);
    }
    // The latency runs stored RATE × SECONDS events per case: read some back from BEGIN.
    const total = Math.min(20_000, RATE * SECONDS);
    for (const batchLimit of [1, 100]) {
      catchUps.push([`batch_limit ${batchLimit}`, await catchUp(server.url, batchLimit, total)]);
    }
  } catch (err) {
    console.error(`server log:\n${server?.stderr()}`);
    throw err;
  } finally {
    server?.child.kill('SIGTERM');
    tmp.remove();
  }
  console.log(
    `publish→delivery over HTTP at ${RATE} events/s (POST batches of ${BATCH}), ${SECONDS} s per case`,
  );
  printTable(['consumer', 'p50 ms', 'p99 ms', 'max ms', 'events', 'publish failed'], rows);
  console.log('\nreading stored events from BEGIN (catch-up)');
  printTable(['consumer', 'events/s'], catchUps);
  console.log(
    `saved ${saveResult('bus-http', { rate: RATE, seconds: SECONDS, batch: BATCH, rows, catchUps })}`,
  );
}

await main();
