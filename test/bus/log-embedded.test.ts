import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32c } from '../../src/bus/log/crc32c.js';
import { openEmbeddedLog } from '../../src/bus/log/embedded.js';
import { type EmbeddedEventLog, type EventLog, openEventLog } from '../../src/bus/log/index.js';
import { sluiceConfigSchema } from '../../src/config/index.js';
import { busSchema } from '../../src/config/schema.js';
import { silentLogger } from '../../src/observe/index.js';
import { ConflictError, InvalidInputError } from '../../src/util/index.js';
import { CONFIG, event, logContract, parsed, readAll, topicName } from './log-contract.js';

const root = await mkdtemp(join(tmpdir(), 'sluice-eventlog-'));
after(() => rm(root, { recursive: true, force: true }));

let n = 0;
function freshDir(): string {
  return join(root, `log-${n++}`);
}

const SEGMENT_BYTES = 64 * 1024;
const contractDir = freshDir();
const open = (dir = contractDir, segmentBytes = SEGMENT_BYTES) =>
  openEmbeddedLog({ dir, log: silentLogger, segmentBytes, retentionCheckMs: 0 });

async function lastSegment(dir: string, topic: string, partition: number): Promise<string> {
  const pdir = join(dir, 'topics', topic, String(partition));
  const logs = (await readdir(pdir)).filter((f) => f.endsWith('.log')).sort();
  return join(pdir, logs[logs.length - 1]!);
}

logContract({
  name: 'embedded',
  open: () => open(),
  enforceRetention: (log: EventLog) => (log as EmbeddedEventLog).enforceRetention(),
  corruptTail: async (topic, partition, bytes) =>
    appendFile(await lastSegment(contractDir, topic, partition), bytes),
  exclusive: true,
});

describe('embedded event log', () => {
  test('openEventLog opens the embedded log in <dataDir>/bus with the settings of sluice.yaml', async () => {
    const dataDir = freshDir();
    const config = sluiceConfigSchema.parse({ bus: { embedded: { segmentBytes: '1MiB', fsync: true } } });
    assert.equal(config.bus.embedded?.segmentBytes, 1024 * 1024);
    const log = await openEventLog(config.bus, { dataDir, log: silentLogger });
    try {
      assert.equal(log.kind, 'embedded');
      assert.ok((await stat(join(dataDir, 'bus', 'LOCK'))).isFile());
      await assert.rejects(openEventLog(config.bus, { dataDir, log: silentLogger }), ConflictError);
    } finally {
      await log.close();
    }
    await assert.rejects(stat(join(dataDir, 'bus', 'LOCK')), { code: 'ENOENT' });
    const bad = sluiceConfigSchema.safeParse({
      bus: { embedded: { segmentBytes: '1KB', retentionCheckMs: 5 } },
    });
    assert.equal(bad.success, false);
    assert.deepEqual(bad.error!.issues.map((i) => i.path.join('.')).sort(), [
      'bus.embedded.retentionCheckMs',
      'bus.embedded.segmentBytes',
    ]);
  });

  test('concurrent appends share one write and one sync (group commit)', async () => {
    const log = await open(freshDir());
    try {
      const topic = topicName('group');
      await log.createTopic(topic, CONFIG);
      await log.append(topic, 0, [{ value: event('first') }]);
      const before = log.stats(topic)[0]!;
      assert.deepEqual([before.flushes, before.appends, before.records], [1, 1, 1]);
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          log.append(topic, 0, [{ value: event(i) }, { value: event(i) }]),
        ),
      );
      const after = log.stats(topic)[0]!;
      assert.equal(after.appends, 41);
      assert.equal(after.records, 81);
      assert.ok(
        after.flushes - before.flushes < 40,
        `${after.flushes - before.flushes} flushes for 40 appends`,
      );
      assert.ok(after.sizeBytes > 0 && after.segments === 1);
    } finally {
      await log.close();
    }
  });

  test('format 1 records are checked with CRC-32C (Castagnoli)', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
    const bytes = Buffer.from('a longer input that crosses several eight-byte steps');
    assert.equal(crc32c(bytes, 10, 30), crc32c(bytes.subarray(10, 30)));
  });

  test('a log written in record format 1 is read, appended to and recovered', async () => {
    const dir = freshDir();
    const pdir = join(dir, 'topics', 'orders', '0');
    await mkdir(pdir, { recursive: true });
    await writeFile(join(dir, 'topics', 'orders', 'topic.json'), FORMAT1_TOPIC);
    for (const [file, base64] of Object.entries(FORMAT1_PARTITION)) {
      await writeFile(join(pdir, file), Buffer.from(base64, 'base64'));
    }
    const expected = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, j) => {
        const i = from + j;
        return {
          offset: BigInt(i),
          key: i % 2 ? `k${i}` : undefined,
          value: { n: i, note: `record ${i} ü` },
        };
      });
    const records = async (log: EventLog) =>
      (await readAll(log, 'orders')).map((r) => ({ offset: r.offset, key: r.key, value: parsed(r) }));
    let log = await openEmbeddedLog({ dir, log: silentLogger, segmentBytes: 256, retentionCheckMs: 0 });
    try {
      assert.deepEqual(await records(log), expected(0, 6), 'both format 1 segments read back');
      const added = expected(6, 8).map((r) => ({ key: r.key, value: event(r.value) }));
      assert.deepEqual(await log.append('orders', 0, added), [6n, 7n]);
    } finally {
      await log.close();
    }
    // The active segment now holds format 1 records followed by format 2 ones.
    const active = await readFile(join(pdir, '00000000000000000004.log'));
    const versions: number[] = [];
    for (let pos = 0; pos < active.length; ) {
      const word = active.readUInt32LE(pos);
      versions.push(word >= 0x8000_0000 ? 2 : 1);
      pos += 8 + (word & 0x7fff_ffff);
    }
    assert.deepEqual(versions, [1, 1, 2, 2]);
    log = await openEmbeddedLog({ dir, log: silentLogger, segmentBytes: 256, retentionCheckMs: 0 });
    try {
      assert.deepEqual(await records(log), expected(0, 8), 'recovery keeps both formats');
    } finally {
      await log.close();
    }
    // A damaged format 1 record is still caught by its CRC-32C: recovery cuts the log there.
    const damaged = Buffer.from(active);
    damaged[8 + 30] = (damaged[8 + 30] as number) ^ 0xff;
    await writeFile(join(pdir, '00000000000000000004.log'), damaged);
    log = await openEmbeddedLog({ dir, log: silentLogger, segmentBytes: 256, retentionCheckMs: 0 });
    try {
      assert.deepEqual(await records(log), expected(0, 4));
    } finally {
      await log.close();
    }
  });

  test('appends queued before close are written; the retention timer trims idle topics', async () => {
    const dir = freshDir();
    const topic = topicName('close');
    let log = await openEmbeddedLog({
      dir,
      log: silentLogger,
      segmentBytes: SEGMENT_BYTES,
      retentionCheckMs: 20,
    });
    await log.createTopic(topic, { ...CONFIG, retentionMs: 1 });
    const queued = Array.from({ length: 10 }, (_, i) => log.append(topic, 0, [{ value: event(i) }]));
    await log.close();
    assert.deepEqual(
      (await Promise.all(queued)).flat(),
      Array.from({ length: 10 }, (_, i) => BigInt(i)),
    );
    log = await openEmbeddedLog({
      dir,
      log: silentLogger,
      segmentBytes: SEGMENT_BYTES,
      retentionCheckMs: 20,
    });
    try {
      // The timer closes the expired active segment and deletes it: begin reaches end.
      let bounds = await log.bounds(topic);
      for (let i = 0; i < 200 && bounds[0]!.begin < 10n; i++) {
        await sleep(20);
        bounds = await log.bounds(topic);
      }
      assert.deepEqual(bounds, [{ partition: 0, begin: 10n, end: 10n }]);
    } finally {
      await log.close();
    }
  });

  test('a lock left by a process that is gone is taken over', async () => {
    const dir = freshDir();
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    await (await open(dir)).close();
    await writeFile(
      join(dir, 'LOCK'),
      JSON.stringify({ pid: gone, host: (await import('node:os')).hostname() }),
    );
    const log = await open(dir);
    assert.equal(JSON.parse(await readFile(join(dir, 'LOCK'), 'utf8')).pid, process.pid);
    await log.close();
  });

  test('reads cross segment boundaries; missing or damaged index files are rebuilt', async () => {
    const dir = freshDir();
    const topic = topicName('segments');
    let log = await open(dir);
    const payload = 'y'.repeat(700);
    try {
      await log.createTopic(topic, CONFIG);
      for (let b = 0; b < 30; b++) {
        await log.append(
          topic,
          0,
          Array.from({ length: 37 }, (_, i) => ({ value: event({ n: b * 37 + i, payload }) })),
        );
      }
    } finally {
      await log.close();
    }
    const pdir = join(dir, 'topics', topic, '0');
    const indexes = (await readdir(pdir)).filter((f) => f.endsWith('.index')).sort();
    assert.ok(indexes.length >= 10, `${indexes.length} closed segments`);
    await rm(join(pdir, indexes[1]!));
    await writeFile(join(pdir, indexes[2]!), 'damaged');
    log = await open(dir);
    try {
      const page = await log.read(topic, 0, 523n, { maxRecords: 300, waitMs: 0 });
      assert.deepEqual(
        page.map((r) => r.offset),
        Array.from({ length: 300 }, (_, i) => BigInt(523 + i)),
      );
      assert.deepEqual(
        (await readAll(log, topic)).map((r) => (parsed(r) as { n: number }).n),
        Array.from({ length: 30 * 37 }, (_, i) => i),
      );
    } finally {
      await log.close();
    }
  });

  test('compaction keeps the newest record of every key in closed segments, across a restart', async () => {
    const dir = freshDir();
    const topic = topicName('compact');
    let log = await open(dir);
    const newest = new Map<string, bigint>();
    const keyless: bigint[] = [];
    let activeBase = 0n;
    try {
      await log.createTopic(topic, { ...CONFIG, cleanupPolicy: 'compact', retentionMs: 1 });
      const payload = 'z'.repeat(1000);
      for (let b = 0; b < 20; b++) {
        const records = Array.from({ length: 50 }, (_, i) =>
          i % 10 === 9
            ? { value: event({ b, i, payload }) }
            : { key: `k${(b * 50 + i) % 13}`, value: event({ b, i, payload }) },
        );
        const offsets = await log.append(topic, 0, records);
        for (const [i, r] of records.entries()) {
          if (r.key) newest.set(r.key, offsets[i]!);
          else keyless.push(offsets[i]!);
        }
        activeBase = offsets[0]!;
      }
      await sleep(5);
      await log.enforceRetention();
      const check = async (l: EmbeddedEventLog) => {
        assert.deepEqual(await l.bounds(topic), [{ partition: 0, begin: 0n, end: 1000n }]);
        const records = await readAll(l, topic);
        for (let i = 1; i < records.length; i++) assert.ok(records[i]!.offset > records[i - 1]!.offset);
        const offsets = new Set(records.map((r) => r.offset));
        for (const o of [...newest.values(), ...keyless]) assert.ok(offsets.has(o), `offset ${o} kept`);
        for (const r of records) {
          if (r.key === undefined || r.offset >= activeBase) continue;
          assert.equal(
            r.offset,
            newest.get(r.key),
            `only the newest record of ${r.key} is left before the active segment`,
          );
        }
        assert.ok(records.length < 300, `${records.length} records left`);
        const v = parsed((await l.read(topic, 0, newest.get('k3')!, { maxRecords: 1, waitMs: 0 }))[0]!) as {
          b: number;
        };
        assert.equal(typeof v.b, 'number');
      };
      await check(log);
      await log.close();
      log = await open(dir);
      await check(log);
      // Reading from a removed offset starts at the next record kept.
      const [first] = await log.read(topic, 0, 0n, { maxRecords: 1, waitMs: 0 });
      assert.ok(first!.offset >= 0n);
    } finally {
      await log.close();
    }
  });

  test('records larger than a read chunk and empty records round-trip through the files', async () => {
    const dir = freshDir();
    const topic = topicName('big');
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    let log = await open(dir, 1024 * 1024);
    try {
      await log.createTopic(topic, CONFIG);
      await log.append(topic, 0, [
        { value: new Uint8Array(0) },
        { key: 'ключ', value: big },
        { value: event('x') },
      ]);
    } finally {
      await log.close();
    }
    log = await open(dir, 1024 * 1024);
    try {
      const records = await log.read(topic, 0, 0n, { maxRecords: 10, waitMs: 0 });
      assert.equal(records.length, 3);
      assert.equal(records[0]!.value.byteLength, 0);
      assert.equal(records[1]!.key, 'ключ');
      assert.ok(Buffer.from(records[1]!.value).equals(big));
      assert.deepEqual(parsed(records[2]!), 'x');
    } finally {
      await log.close();
    }
  });

  test('bad input is refused with errors naming what is wrong, and nothing is written', async () => {
    const dir = freshDir();
    const log = await open(dir);
    try {
      const topic = topicName('bad');
      await log.createTopic(topic, CONFIG);
      for (const name of ['', '.hidden', 'a/b', '..', 'x'.repeat(201), 'sp ace']) {
        await assert.rejects(log.createTopic(name, CONFIG), InvalidInputError, name);
      }
      await assert.rejects(log.createTopic(topicName('r'), { ...CONFIG, retentionMs: -5 }), /retentionMs/);
      await assert.rejects(
        log.createTopic(topicName('r'), { ...CONFIG, retentionBytes: 1.5 }),
        /retentionBytes/,
      );
      await assert.rejects(log.createTopic(topicName('r'), { ...CONFIG, partitions: 5000 }), /partitions/);
      await assert.rejects(
        log.append(topic, 0, [{ key: 'k'.repeat(70_000), value: event(1) }]),
        /key is longer/,
      );
      await assert.rejects(
        log.append(topic, 0, [{ key: 5 as unknown as string, value: event(1) }]),
        /key must be a string/,
      );
      await assert.rejects(
        log.append(topic, 0, [{ value: Buffer.alloc(70 * 1024 * 1024) }]),
        /more than the limit/,
      );
      await assert.rejects(log.append(topic, 0.5, [{ value: event(1) }]), /partition 0.5/);
      await assert.rejects(log.read(topic, 0, 0n, { maxRecords: 1, waitMs: -1 }), /waitMs/);
      await assert.rejects(log.read(topic, 0, 1 as unknown as bigint, { maxRecords: 1 }), /bigint/);
      assert.deepEqual(await log.bounds(topic), [{ partition: 0, begin: 0n, end: 0n }]);
    } finally {
      await log.close();
    }
    await assert.rejects(log.append('x', 0, [{ value: event(1) }]), /closed/);
  });

  test('an unknown backend in bus.log is refused', async () => {
    await assert.rejects(
      openEventLog(
        { ...busSchema.parse({}), log: 'ftp://x' },
        {
          dataDir: freshDir(),
          log: silentLogger,
        },
      ),
      InvalidInputError,
    );
  });
});

/**
 * Files of a partition written by the embedded log before record format 2 (CRC-32C in the
 * JavaScript checksum): topic "orders", 256-byte segments, records 0–5 with `{ n, note }`
 * values and key `k<n>` on odd ones, appended two at a time.
 */
const FORMAT1_TOPIC = '{"partitions":1,"retentionMs":315360000000,"cleanupPolicy":"delete"}';
const FORMAT1_PARTITION: Record<string, string> = {
  '00000000000000000000.index': 'U0xYMQEAAAAEAAAAAAAAAOQAAAAAAAAA8AZWMqIBAAAAAAAAAAAAAIbnjP8=',
  '00000000000000000000.log':
    'MAAAAEMCe1kAAAAAAAAAAO4GVjKiAQAA/////3sibiI6MCwibm90ZSI6InJlY29yZCAwIMO8In0yAAAA3RiYPQEAAAAAAAAA7gZWMqIBAAACAAAAazF7Im4iOjEsIm5vdGUiOiJyZWNvcmQgMSDDvCJ9MAAAAJM8DIUCAAAAAAAAAPAGVjKiAQAA/////3sibiI6Miwibm90ZSI6InJlY29yZCAyIMO8In0yAAAAPDJzjgMAAAAAAAAA8AZWMqIBAAACAAAAazN7Im4iOjMsIm5vdGUiOiJyZWNvcmQgMyDDvCJ9',
  '00000000000000000004.log':
    'MAAAAKxlQgwEAAAAAAAAAPsGVjKiAQAA/////3sibiI6NCwibm90ZSI6InJlY29yZCA0IMO8In0yAAAAl/VxPAUAAAAAAAAA+wZWMqIBAAACAAAAazV7Im4iOjUsIm5vdGUiOiJyZWNvcmQgNSDDvCJ9',
};
