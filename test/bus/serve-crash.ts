/**
 * The HTTP-level durability run behind serve-crash.test.ts and bench/bus-crash.ts: a real
 * `sluice serve` process on a temp project (an event type from events/*.yaml, a lake sink in
 * `bus.sinks`) is killed with SIGKILL at random moments while producers publish batches over
 * HTTP, and restarted on the same data dir each time. Every eid answered `submitted` (200, or
 * per item in a 207) is recorded. After the last restart the log is read from BEGIN with the
 * low-level streaming API and the sink's table is read once it has caught up.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openCatalog } from '../../src/catalog/index.js';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import { seededRandom } from '../../src/demo/marketplace-data.js';
import { openDuck } from '../../src/duck/index.js';
import { createLogger } from '../../src/observe/index.js';
import { openRuntime } from '../../src/runtime/index.js';
import { openTable } from '../../src/table/index.js';
import { sluiceBin, tempDir } from '../helpers/cli.js';

export const CRASH_EVENT_TYPE = 'crash.orders';
const PARTITIONS = 3;

const EVENT_TYPE_FILE = `name: ${CRASH_EVENT_TYPE}
owning_application: shop
category: business
enrichment_strategies: [metadata_enrichment]
partition_strategy: hash
partition_key_fields: [order_number]
default_statistic: { messages_per_minute: 1, message_size: 1, read_parallelism: ${PARTITIONS}, write_parallelism: 1 }
schema:
  type: json_schema
  schema:
    properties:
      order_number: { type: string }
      note: { type: string }
    required: [order_number]
`;

export interface ServeCrashOptions {
  kills: number;
  /** Concurrent producers publishing batches (default 4). */
  producers?: number;
  /** Seed of the kill moments and batch sizes (printed on failure to replay a run). */
  seed?: number;
}

export interface ServeCrashResult {
  seed: number;
  kills: number;
  /** Events published (requests sent) and acknowledged as submitted. */
  sent: number;
  acked: Set<string>;
  /** Publish requests that failed (connection reset by the kill) or answered 5xx/207-failed. */
  failedRequests: number;
  /** How often each eid occurs in the log, read from BEGIN over HTTP after the last restart. */
  logCounts: Map<string, number>;
  /** How often each eid occurs in the sink's table once it caught up with the log. */
  tableCounts: Map<string, number>;
  /** Surprises: statuses other than 200/207/5xx, events failed by validation. */
  unexpected: string[];
  ms: number;
}

/** A `sluice serve` child process. */
export interface Server {
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

/**
 * Start `sluice serve` on a project (random HTTP and PostgreSQL wire ports); resolves once it
 * listens. `bin` runs another build of the CLI (benchmarks compare builds side by side).
 */
export async function startServe(project: string, bin = sluiceBin): Promise<Server> {
  const child = spawn(
    process.execPath,
    [bin, 'serve', '--json', '--http-port', '0', '--pg-port', '0', '--project', project],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`sluice serve did not start in 60 s: ${stderr}`)),
      60_000,
    );
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`sluice serve exited (${code ?? signal}) before listening: ${stderr}${stdout}`));
    });
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /"url": "([^"]+)"/.exec(stdout);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  child.removeAllListeners('exit');
  child.stdout?.resume();
  return { child, url, stderr: () => stderr };
}

/** SIGKILL the server and wait for it to exit. */
export async function killServe(s: Server): Promise<void> {
  const exited = new Promise<void>((resolve) => s.child.once('exit', () => resolve()));
  s.child.kill('SIGKILL');
  await exited;
  if (s.child.signalCode !== 'SIGKILL') {
    throw new Error(`sluice serve ended with ${s.child.exitCode} before it was killed: ${s.stderr()}`);
  }
}

/** Write the project: the event type file and a sink with no lateness window. */
async function makeProject(dir: string): Promise<void> {
  await scaffoldProject(dir, { name: 'crash' });
  await mkdir(join(dir, 'events'), { recursive: true });
  await writeFile(join(dir, 'events', 'orders.yaml'), EVENT_TYPE_FILE);
  const config = join(dir, 'sluice.yaml');
  const text = await readFile(config, 'utf8');
  const patched = text.replace(
    'bus:\n  log: embedded\n',
    `bus:\n  log: embedded\n  sinks:\n    - { eventType: ${CRASH_EVENT_TYPE}, latenessMs: 0 }\n`,
  );
  if (patched === text) throw new Error('the scaffolded sluice.yaml has no "bus:" section to extend');
  await writeFile(config, patched.replace('level: info', 'level: warn'));
}

/** Publish batches until `stop` is set; record what was acknowledged. */
async function produce(
  url: string,
  rand: () => number,
  stop: { stopped: boolean },
  r: ServeCrashResult,
): Promise<void> {
  while (!stop.stopped) {
    const size = 1 + Math.floor(rand() * 40);
    const events = Array.from({ length: size }, () => ({
      order_number: `o-${Math.floor(rand() * 1000)}`,
      note: 'n'.repeat(Math.floor(rand() * 400)),
      metadata: { eid: randomUUID(), occurred_at: new Date().toISOString() },
    }));
    r.sent += size;
    let res: Response;
    try {
      res = await fetch(`${url}/event-types/${CRASH_EVENT_TYPE}/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(events),
      });
    } catch {
      // The server was killed with the request in flight: nothing is known about the batch.
      r.failedRequests++;
      continue;
    }
    if (res.status === 200) {
      await res.arrayBuffer();
      for (const e of events) r.acked.add(e.metadata.eid);
    } else if (res.status === 207) {
      const items = (await res.json()) as { eid?: string; publishing_status: string; step?: string }[];
      for (const item of items) {
        if (item.publishing_status === 'submitted' && item.eid) r.acked.add(item.eid);
        if (item.step === 'validating' || item.step === 'enriching') {
          r.unexpected.push(`207 item failed at ${item.step}: ${JSON.stringify(item)}`);
        }
      }
      r.failedRequests++;
    } else if (res.status >= 500) {
      await res.arrayBuffer();
      r.failedRequests++;
    } else {
      r.unexpected.push(`publish answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    }
  }
}

/** Read every event of the event type from BEGIN with the low-level streaming API. */
async function consumeAll(url: string): Promise<Map<string, number>> {
  const parts = (await (await fetch(`${url}/event-types/${CRASH_EVENT_TYPE}/partitions`)).json()) as {
    partition: string;
    oldest_available_offset: string;
    newest_available_offset: string;
  }[];
  let total = 0;
  for (const p of parts) {
    if (p.newest_available_offset !== 'BEGIN') {
      total += Number(p.newest_available_offset) + 1 - Number(p.oldest_available_offset);
    }
  }
  const counts = new Map<string, number>();
  if (total === 0) return counts;
  const cursors = parts.map((p) => ({ partition: p.partition, offset: 'BEGIN' }));
  const res = await fetch(
    `${url}/event-types/${CRASH_EVENT_TYPE}/events?batch_limit=${Math.min(500, total)}&stream_limit=${total}&stream_timeout=120&batch_flush_timeout=1`,
    { headers: { 'x-nakadi-cursors': JSON.stringify(cursors) } },
  );
  if (res.status !== 200) throw new Error(`streaming answered ${res.status}: ${await res.text()}`);
  const text = await res.text();
  let seen = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const batch = JSON.parse(line) as { events?: { metadata: { eid: string } }[] };
    for (const e of batch.events ?? []) {
      counts.set(e.metadata.eid, (counts.get(e.metadata.eid) ?? 0) + 1);
      seen++;
    }
  }
  if (seen !== total) throw new Error(`the stream delivered ${seen} events, the partitions hold ${total}`);
  return counts;
}

/** Rows of the sink's table per eid, once it holds `expected` rows (or after `timeoutMs`). */
async function tableCounts(
  project: string,
  expected: number,
  timeoutMs: number,
): Promise<Map<string, number>> {
  const runtime = await openRuntime(
    await loadProject(project),
    createLogger({ level: 'silent', stderr: false }),
  );
  const duck = await openDuck();
  try {
    const catalog = openCatalog({ meta: runtime.meta, store: runtime.store });
    const id = { namespace: ['events'], name: CRASH_EVENT_TYPE.replace('.', '_') };
    const deadline = Date.now() + timeoutMs;
    let rows: { eid: string; n: bigint }[] = [];
    for (;;) {
      if (await catalog.tableExists(id)) {
        const table = await openTable(catalog, runtime.store, duck, id);
        const scan = table.scanSql(await table.planScan());
        rows = await duck.all<{ eid: string; n: bigint }>(
          `SELECT eid, count(*) AS n FROM (${scan}) GROUP BY eid`,
        );
        const total = rows.reduce((s, r) => s + Number(r.n), 0);
        if (total >= expected) break;
      }
      if (Date.now() > deadline) break;
      await sleep(300);
    }
    return new Map(rows.map((r) => [r.eid, Number(r.n)]));
  } finally {
    await duck.close();
    await runtime.close();
  }
}

/** Run the kill/restart cycles and collect what the log and the table hold afterwards. */
export async function runServeCrash(o: ServeCrashOptions): Promise<ServeCrashResult> {
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rand = seededRandom(seed);
  const tmp = tempDir('sluice-serve-crash-');
  const project = join(tmp.dir, 'proj');
  const started = Date.now();
  const r: ServeCrashResult = {
    seed,
    kills: 0,
    sent: 0,
    acked: new Set(),
    failedRequests: 0,
    logCounts: new Map(),
    tableCounts: new Map(),
    unexpected: [],
    ms: 0,
  };
  let server: Server | undefined;
  try {
    await makeProject(project);
    for (let run = 0; run < o.kills; run++) {
      server = await startServe(project);
      const stop = { stopped: false };
      const producers = Array.from({ length: o.producers ?? 4 }, () => produce(server!.url, rand, stop, r));
      // A random moment while batches are in flight (and the sink may be committing).
      await sleep(150 + rand() * 1200);
      await killServe(server);
      r.kills++;
      server = undefined;
      stop.stopped = true;
      await Promise.all(producers);
    }
    server = await startServe(project);
    r.logCounts = await consumeAll(server.url);
    r.tableCounts = await tableCounts(project, r.logCounts.size, 120_000);
    const exited = new Promise<void>((resolve) => server!.child.once('exit', () => resolve()));
    server.child.kill('SIGTERM');
    await exited;
    server = undefined;
  } finally {
    if (server) await killServe(server).catch(() => undefined);
    tmp.remove();
  }
  r.ms = Date.now() - started;
  return r;
}

/** Problems found in a run: acknowledged events missing or duplicated, table not equal to the log. */
export function crashProblems(r: ServeCrashResult): string[] {
  const problems = [...r.unexpected];
  let missing = 0;
  for (const eid of r.acked) {
    const n = r.logCounts.get(eid) ?? 0;
    if (n !== 1 && problems.length < 20) problems.push(`acknowledged ${eid} is in the log ${n} times`);
    if (n === 0) missing++;
  }
  if (missing) problems.push(`${missing} of ${r.acked.size} acknowledged events are missing from the log`);
  // Producers never retry, so any eid twice in the log is a duplicate the server made.
  for (const [eid, n] of r.logCounts) {
    if (n > 1 && problems.length < 40) problems.push(`${eid} is in the log ${n} times`);
  }
  for (const [eid, n] of r.tableCounts) {
    if (n > 1 && problems.length < 60) problems.push(`${eid} is in the table ${n} times`);
    if (!r.logCounts.has(eid) && problems.length < 60)
      problems.push(`${eid} is in the table, not in the log`);
  }
  let notInTable = 0;
  for (const eid of r.logCounts.keys()) if (!r.tableCounts.has(eid)) notInTable++;
  if (notInTable) problems.push(`${notInTable} of ${r.logCounts.size} logged events never reached the table`);
  return problems;
}

/** One line describing a run. */
export function crashSummary(r: ServeCrashResult): string {
  return `seed ${r.seed}: ${r.kills} SIGKILLs in ${(r.ms / 1000).toFixed(1)} s; ${r.sent} events sent, ${r.acked.size} acknowledged, ${r.logCounts.size} in the log, ${r.tableCounts.size} in the table; ${r.failedRequests} requests cut by a kill`;
}
