// Object storage throughput: the local store's put/get against plain fs streams doing the same
// work on the same disk in the same run, for big objects (20 × 64 MB) and small ones
// (2,000 × 16 KB); the S3 store against the in-process S3 server for reference.
// Target: local put and get of big objects ≥ 0.8× plain fs streams. The local put fsyncs the file
// and its directory (durability plain streams do not give), which dominates for small objects.
// Scale with BENCH_BIG_COUNT, BENCH_BIG_MB, BENCH_SMALL_COUNT, BENCH_SMALL_KB, BENCH_S3_SCALE.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { type ObjectStore, openObjectStore } from '../src/storage/index.js';
import { startS3 } from '../test/helpers/s3.js';
import { printTable, saveResult } from './util.js';

const env = process.env;
const BIG = { count: Number(env.BENCH_BIG_COUNT ?? 20), bytes: Number(env.BENCH_BIG_MB ?? 64) * 2 ** 20 };
const SMALL = {
  count: Number(env.BENCH_SMALL_COUNT ?? 2000),
  bytes: Number(env.BENCH_SMALL_KB ?? 16) * 1024,
};
const S3_SCALE = Number(env.BENCH_S3_SCALE ?? 0.2);
const CONCURRENCY = 8;
const CHUNK = 1 << 20;

interface Workload {
  name: string;
  count: number;
  bytes: number;
}

/** put and get of one workload by one implementation. */
interface Impl {
  name: string;
  put(i: number, data: Buffer): Promise<void>;
  get(i: number): Promise<number>;
}

interface Row {
  workload: string;
  impl: string;
  op: 'put' | 'get';
  seconds: number;
  mbPerSec: number;
  objectsPerSec: number;
}

function* chunks(data: Buffer): Iterable<Buffer> {
  for (let off = 0; off < data.length; off += CHUNK) yield data.subarray(off, off + CHUNK);
}

async function drain(stream: Readable): Promise<number> {
  let n = 0;
  for await (const c of stream) n += (c as Buffer).length;
  return n;
}

async function pool(from: number, to: number, concurrency: number, fn: (i: number) => Promise<unknown>) {
  let next = from;
  const worker = async () => {
    while (next < to) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, to - from) }, worker));
}

/**
 * Run every implementation on the same workload, interleaved batch by batch (order rotating),
 * so that drifts of the disk (writeback, host caches) affect them alike.
 */
async function measure(w: Workload, impls: Impl[], data: Buffer): Promise<Row[]> {
  const big = w.bytes >= CHUNK;
  const batch = big ? 1 : 100;
  const concurrency = big ? 1 : CONCURRENCY;
  const rows: Row[] = [];
  for (const op of ['put', 'get'] as const) {
    const seconds = impls.map(() => 0);
    const bytes = impls.map(() => 0);
    for (let from = 0, b = 0; from < w.count; from += batch, b++) {
      const to = Math.min(w.count, from + batch);
      for (let j = 0; j < impls.length; j++) {
        const k = (b + j) % impls.length;
        const impl = impls[k]!;
        const t0 = performance.now();
        await pool(from, to, concurrency, async (i) => {
          if (op === 'put') return impl.put(i, data);
          const n = await impl.get(i);
          bytes[k]! += n;
        });
        seconds[k]! += (performance.now() - t0) / 1000;
      }
    }
    const mb = (w.count * w.bytes) / 2 ** 20;
    impls.forEach((impl, k) => {
      if (op === 'get' && bytes[k] !== w.count * w.bytes)
        throw new Error(`${impl.name} read ${bytes[k]} bytes`);
      const sec = seconds[k]!;
      rows.push({
        workload: w.name,
        impl: impl.name,
        op,
        seconds: sec,
        mbPerSec: mb / sec,
        objectsPerSec: w.count / sec,
      });
    });
  }
  return rows;
}

/** Plain fs streams into files, optionally with the same temp + fsync + rename a durable write needs. */
function fsImpl(dir: string, durable: boolean): Impl {
  const path = (i: number) => join(dir, String(i % 100), `obj-${i}`);
  return {
    name: durable ? 'fs stream + fsync + rename' : 'fs stream',
    async put(i, data) {
      await mkdir(join(dir, String(i % 100)), { recursive: true });
      const target = path(i);
      const file = durable ? `${target}.tmp` : target;
      await pipeline(Readable.from(chunks(data)), createWriteStream(file));
      if (!durable) return;
      const fh = await open(file, 'r+');
      await fh.sync();
      await fh.close();
      await rename(file, target);
      const d = await open(join(dir, String(i % 100)), 'r');
      await d.sync();
      await d.close();
    },
    get: (i) => drain(createReadStream(path(i))),
  };
}

function storeImpl(name: string, store: ObjectStore): Impl {
  const key = (i: number) => `bench/${i % 100}/obj-${i}`;
  return {
    name,
    put: (i, data) => store.put(key(i), Readable.from(chunks(data))),
    get: async (i) => drain(await store.get(key(i))),
  };
}

async function runLocal(w: Workload, data: Buffer): Promise<Row[]> {
  const dirs = await Promise.all([1, 2, 3].map(() => mkdtemp(join(tmpdir(), 'sluice-bench-'))));
  try {
    const impls = [
      fsImpl(dirs[0]!, false),
      fsImpl(dirs[1]!, true),
      storeImpl('sluice local store', await openObjectStore({ url: pathToFileURL(dirs[2]!).href })),
    ];
    return await measure(w, impls, data);
  } finally {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

async function runS3(w: Workload, data: Buffer): Promise<Row[]> {
  const s3 = await startS3();
  const cacheDir = await mkdtemp(join(tmpdir(), 'sluice-bench-cache-'));
  const store = await openObjectStore(
    {
      url: `s3://${s3.bucket}/bench`,
      endpoint: s3.endpoint,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    },
    { cacheDir },
  );
  try {
    return await measure(w, [storeImpl('sluice S3 store (in-process s3rver)', store)], data);
  } finally {
    await store.close();
    await s3.stop();
    await rm(cacheDir, { recursive: true, force: true });
  }
}

function pattern(bytes: number): Buffer {
  const b = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i += 4) b.writeUInt32LE((i * 2654435761) >>> 0, i);
  return b;
}

const big: Workload = { name: `${BIG.count} × ${BIG.bytes / 2 ** 20} MB`, ...BIG };
const small: Workload = { name: `${SMALL.count} × ${SMALL.bytes / 1024} KB`, ...SMALL };
const s3Big: Workload = {
  name: `${Math.max(1, Math.round(BIG.count * S3_SCALE))} × ${BIG.bytes / 2 ** 20} MB`,
  count: Math.max(1, Math.round(BIG.count * S3_SCALE)),
  bytes: BIG.bytes,
};
const s3Small: Workload = {
  name: `${Math.max(1, Math.round(SMALL.count * S3_SCALE))} × ${SMALL.bytes / 1024} KB`,
  count: Math.max(1, Math.round(SMALL.count * S3_SCALE)),
  bytes: SMALL.bytes,
};

// Warm up the code paths and the disk before measuring.
await runLocal({ name: 'warm-up', count: 4, bytes: 4 * CHUNK }, pattern(4 * CHUNK));
const rows: Row[] = [];
for (const w of [big, small]) rows.push(...(await runLocal(w, pattern(w.bytes))));
for (const w of [s3Big, s3Small]) rows.push(...(await runS3(w, pattern(w.bytes))));

const ratioTo = (r: Row, impl: string) => {
  const base = rows.find((b) => b.workload === r.workload && b.op === r.op && b.impl === impl);
  return base && !r.impl.includes('S3') ? `${(r.mbPerSec / base.mbPerSec).toFixed(2)}×` : '';
};
printTable(
  ['workload', 'op', 'implementation', 'MB/s', 'objects/s', 'vs fs stream', 'vs fs + fsync + rename'],
  rows.map((r) => [
    r.workload,
    r.op,
    r.impl,
    r.mbPerSec.toFixed(1),
    r.objectsPerSec.toFixed(0),
    ratioTo(r, 'fs stream'),
    ratioTo(r, 'fs stream + fsync + rename'),
  ]),
);
const ratio = (w: Workload, op: 'put' | 'get', baseImpl: string) => {
  const r = rows.find((x) => x.workload === w.name && x.op === op && x.impl === 'sluice local store');
  const b = rows.find((x) => x.workload === w.name && x.op === op && x.impl === baseImpl);
  return r && b ? r.mbPerSec / b.mbPerSec : 0;
};
const targets = {
  bigPutVsFs: ratio(big, 'put', 'fs stream'),
  bigGetVsFs: ratio(big, 'get', 'fs stream'),
  bigPutVsDurableFs: ratio(big, 'put', 'fs stream + fsync + rename'),
};
const met = targets.bigPutVsFs >= 0.8 && targets.bigGetVsFs >= 0.8;
console.log(
  `target ≥ 0.8× plain fs streams for big objects: put ${targets.bigPutVsFs.toFixed(2)}×, get ${targets.bigGetVsFs.toFixed(
    2,
  )}× — ${met ? 'met' : 'MISSED'}; put vs fs with the same fsync + rename: ${targets.bigPutVsDurableFs.toFixed(2)}×`,
);
console.log(`saved ${saveResult('storage', { concurrencySmall: CONCURRENCY, rows, targets })}`);
