/**
 * The contract every EventLog backend passes: run by log-embedded.test.ts always and by
 * log-kafka.test.ts when a broker is configured.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type EventLog,
  type LogRecord,
  OffsetUnavailableError,
  type TopicConfig,
} from '../../src/bus/log/index.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../src/util/index.js';

/** A backend under test. */
export interface LogTarget {
  name: string;
  /** Open the backend; after `close`, opening again sees the same data. */
  open(): Promise<EventLog>;
  /** Apply retention now; without it the retention tests are skipped. */
  enforceRetention?(log: EventLog): Promise<void>;
  /** Append `bytes` to the end of the last segment of a partition (the log is closed). */
  corruptTail?(topic: string, partition: number, bytes: Uint8Array): Promise<void>;
  /** A second open while one is open must fail. */
  exclusive: boolean;
}

export const CONFIG: TopicConfig = { partitions: 1, retentionMs: 7 * 86_400_000, cleanupPolicy: 'delete' };

/** A fresh topic name. */
export function topicName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function event(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value));
}

export function parsed(r: LogRecord): unknown {
  return JSON.parse(Buffer.from(r.value).toString('utf8'));
}

/** Every record of a partition from `from` to its end, read in pages. */
export async function readAll(
  log: EventLog,
  topic: string,
  partition = 0,
  from?: bigint,
): Promise<LogRecord[]> {
  const b = (await log.bounds(topic)).find((x) => x.partition === partition)!;
  const out: LogRecord[] = [];
  let at = from ?? b.begin;
  while (at < b.end) {
    const page = await log.read(topic, partition, at, { maxRecords: 333, waitMs: 0 });
    assert.ok(page.length > 0, `no records at ${at} before end ${b.end}`);
    out.push(...page);
    at = page[page.length - 1]!.offset + 1n;
  }
  return out;
}

async function rejectsWith(
  p: Promise<unknown>,
  type: new (...a: never[]) => Error,
  re?: RegExp,
): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    if (re) assert.match((err as Error).message, re);
    return true;
  });
}

export function logContract(target: LogTarget): void {
  /** Run `fn` on a freshly opened log, closing it afterwards. */
  async function withLog(fn: (log: EventLog) => Promise<void>): Promise<void> {
    const log = await target.open();
    try {
      await fn(log);
    } finally {
      await log.close();
    }
  }

  describe(`EventLog contract: ${target.name}`, () => {
    test('appends are read back in order with their offsets, keys and timestamps', () =>
      withLog(async (log) => {
        const topic = topicName('order');
        await log.createTopic(topic, { ...CONFIG, partitions: 2 });
        assert.equal(await log.topicExists(topic), true);
        const before = Date.now();
        assert.deepEqual(
          await log.append(topic, 0, [{ value: event({ n: 0 }) }, { key: 'k1', value: event({ n: 1 }) }]),
          [0n, 1n],
        );
        assert.deepEqual(await log.append(topic, 0, [{ key: 'k2', value: event({ n: 2 }) }]), [2n]);
        assert.deepEqual(await log.append(topic, 1, [{ value: event({ n: 'p1' }) }]), [0n]);
        assert.deepEqual(await log.append(topic, 0, []), []);
        const records = await log.read(topic, 0, 0n, { maxRecords: 10, waitMs: 0 });
        assert.deepEqual(
          records.map((r) => r.offset),
          [0n, 1n, 2n],
        );
        assert.deepEqual(records.map(parsed), [{ n: 0 }, { n: 1 }, { n: 2 }]);
        assert.deepEqual(
          records.map((r) => r.key),
          [undefined, 'k1', 'k2'],
        );
        for (const r of records) assert.ok(r.timestamp >= before - 1000 && r.timestamp <= Date.now() + 1000);
        assert.deepEqual((await log.read(topic, 0, 1n, { maxRecords: 1, waitMs: 0 })).map(parsed), [
          { n: 1 },
        ]);
        assert.deepEqual(await log.bounds(topic), [
          { partition: 0, begin: 0n, end: 3n },
          { partition: 1, begin: 0n, end: 1n },
        ]);
        await log.deleteTopic(topic);
      }));

    test('concurrent appends to one partition get distinct, contiguous offsets in call order', () =>
      withLog(async (log) => {
        const topic = topicName('concurrent');
        await log.createTopic(topic, CONFIG);
        const callers = 40;
        const perCall = 25;
        const results = await Promise.all(
          Array.from({ length: callers }, (_, c) =>
            log.append(
              topic,
              0,
              Array.from({ length: perCall }, (_, i) => ({ key: `c${c}`, value: event({ c, i }) })),
            ),
          ),
        );
        for (const offsets of results) {
          for (let i = 1; i < offsets.length; i++) assert.equal(offsets[i], offsets[0]! + BigInt(i));
        }
        const all = results.flat().sort((a, b) => (a < b ? -1 : 1));
        assert.deepEqual(
          all,
          Array.from({ length: callers * perCall }, (_, i) => BigInt(i)),
        );
        const records = await readAll(log, topic);
        assert.equal(records.length, callers * perCall);
        for (const [c, offsets] of results.entries()) {
          for (const [i, offset] of offsets.entries())
            assert.deepEqual(parsed(records[Number(offset)]!), { c, i });
        }
        await log.deleteTopic(topic);
      }));

    test('a read at the end waits for the next append, its wait time or an abort', () =>
      withLog(async (log) => {
        const topic = topicName('wait');
        await log.createTopic(topic, CONFIG);
        assert.deepEqual(await log.read(topic, 0, 0n, { maxRecords: 5, waitMs: 0 }), []);
        assert.deepEqual(await log.read(topic, 0, 0n, { maxRecords: 5, waitMs: 30 }), []);
        const waiting = log.read(topic, 0, 0n, { maxRecords: 5, waitMs: 60_000 });
        await sleep(50);
        await log.append(topic, 0, [{ value: event('woken') }]);
        const got = await waiting;
        assert.deepEqual(got.map(parsed), ['woken']);

        const ac = new AbortController();
        const aborted = log.read(topic, 0, 1n, { maxRecords: 5, signal: ac.signal });
        await sleep(30);
        ac.abort();
        assert.deepEqual(await aborted, []);
        assert.deepEqual(await log.read(topic, 0, 1n, { maxRecords: 5, signal: AbortSignal.abort() }), []);
        await log.deleteTopic(topic);
      }));

    test('unknown topics, partitions and unavailable offsets are clear errors', () =>
      withLog(async (log) => {
        const topic = topicName('errors');
        await log.createTopic(topic, CONFIG);
        await log.append(topic, 0, [{ value: event(1) }, { value: event(2) }]);
        await rejectsWith(
          log.read(topic, 0, 3n, { maxRecords: 1, waitMs: 0 }),
          OffsetUnavailableError,
          /offset 3 .*0–2/,
        );
        await rejectsWith(log.read(topic, 0, -1n, { maxRecords: 1, waitMs: 0 }), InvalidInputError);
        await rejectsWith(
          log.read(topic, 0, 0n, { maxRecords: 0, waitMs: 0 }),
          InvalidInputError,
          /maxRecords/,
        );
        await rejectsWith(log.read(topic, 1, 0n, { maxRecords: 1, waitMs: 0 }), NotFoundError, /partition 1/);
        await rejectsWith(log.append(topic, 7, [{ value: event(1) }]), NotFoundError, /partition 7/);
        await rejectsWith(
          log.read('no-such-topic', 0, 0n, { maxRecords: 1 }),
          NotFoundError,
          /no-such-topic/,
        );
        await rejectsWith(log.append('no-such-topic', 0, [{ value: event(1) }]), NotFoundError);
        await rejectsWith(log.bounds('no-such-topic'), NotFoundError);
        await rejectsWith(log.deleteTopic('no-such-topic'), NotFoundError);
        await rejectsWith(log.createTopic(topic, CONFIG), ConflictError, /already exists/);
        await rejectsWith(log.createTopic('../escape', CONFIG), InvalidInputError, /topic name/);
        await rejectsWith(
          log.createTopic(topicName('bad'), { ...CONFIG, partitions: 0 }),
          InvalidInputError,
          /partitions/,
        );
        await rejectsWith(
          log.createTopic(topicName('bad'), { ...CONFIG, cleanupPolicy: 'forever' as 'delete' }),
          InvalidInputError,
          /cleanupPolicy/,
        );
        await rejectsWith(
          log.append(topic, 0, [{ value: 'not bytes' as unknown as Uint8Array }]),
          InvalidInputError,
          /record 0/,
        );
        await log.deleteTopic(topic);
      }));

    test('more partitions can be added, never removed; a deleted topic is gone', () =>
      withLog(async (log) => {
        const topic = topicName('update');
        await log.createTopic(topic, CONFIG);
        await log.append(topic, 0, [{ value: event('p0') }]);
        await log.updateTopic(topic, { ...CONFIG, partitions: 3 });
        assert.deepEqual(
          (await log.bounds(topic)).map((b) => [b.partition, b.end]),
          [
            [0, 1n],
            [1, 0n],
            [2, 0n],
          ],
        );
        assert.deepEqual(await log.append(topic, 2, [{ value: event('p2') }]), [0n]);
        assert.deepEqual((await log.read(topic, 2, 0n, { maxRecords: 5, waitMs: 0 })).map(parsed), ['p2']);
        await rejectsWith(
          log.updateTopic(topic, { ...CONFIG, partitions: 2 }),
          InvalidInputError,
          /never decrease/,
        );
        await rejectsWith(log.updateTopic('no-such-topic', CONFIG), NotFoundError);

        const waiting = log.read(topic, 0, 1n, { maxRecords: 1, waitMs: 60_000 });
        await log.deleteTopic(topic);
        assert.deepEqual(await waiting, []);
        assert.equal(await log.topicExists(topic), false);
        await rejectsWith(log.read(topic, 0, 0n, { maxRecords: 1, waitMs: 0 }), NotFoundError);
        await log.createTopic(topic, CONFIG);
        assert.deepEqual(await log.bounds(topic), [{ partition: 0, begin: 0n, end: 0n }]);
        await log.deleteTopic(topic);
      }));

    test('a reopened log has the same topics, records and bounds and goes on from its end', async () => {
      const topic = topicName('reopen');
      let log = await target.open();
      try {
        await log.createTopic(topic, { ...CONFIG, partitions: 2 });
        for (let i = 0; i < 10; i++) await log.append(topic, i % 2, [{ key: `k${i}`, value: event(i) }]);
      } finally {
        await log.close();
      }
      await rejectsWith(log.bounds(topic), Error);
      log = await target.open();
      try {
        assert.equal(await log.topicExists(topic), true);
        assert.deepEqual(
          (await log.bounds(topic)).map((b) => b.end),
          [5n, 5n],
        );
        assert.deepEqual((await readAll(log, topic, 1)).map(parsed), [1, 3, 5, 7, 9]);
        assert.deepEqual(await log.append(topic, 1, [{ value: event(11) }]), [5n]);
        await log.deleteTopic(topic);
      } finally {
        await log.close();
      }
    });

    test('retention moves begin; bounds survive a restart; offsets go on', {
      skip: !target.enforceRetention && 'retention cannot be triggered on this backend',
    }, async () => {
      const topic = topicName('retention');
      let log = await target.open();
      try {
        await log.createTopic(topic, CONFIG);
        const payload = 'x'.repeat(1000);
        for (let i = 0; i < 20; i++) {
          await log.append(
            topic,
            0,
            Array.from({ length: 50 }, (_, j) => ({ value: event({ i: i * 50 + j, payload }) })),
          );
        }
        await target.enforceRetention!(log);
        assert.deepEqual(await log.bounds(topic), [{ partition: 0, begin: 0n, end: 1000n }]);

        await log.updateTopic(topic, { ...CONFIG, retentionBytes: 200 * 1024 });
        await target.enforceRetention!(log);
        const [bySize] = await log.bounds(topic);
        assert.ok(bySize!.begin > 0n && bySize!.begin < 1000n, `begin ${bySize!.begin}`);
        await rejectsWith(
          log.read(topic, 0, 0n, { maxRecords: 1, waitMs: 0 }),
          OffsetUnavailableError,
          /not available/,
        );
        const kept = await readAll(log, topic);
        assert.deepEqual(
          kept.map((r) => (parsed(r) as { i: number }).i),
          Array.from({ length: 1000 - Number(bySize!.begin) }, (_, k) => Number(bySize!.begin) + k),
        );

        await log.updateTopic(topic, { ...CONFIG, retentionMs: 1 });
        await sleep(20);
        await target.enforceRetention!(log);
        assert.deepEqual(await log.bounds(topic), [{ partition: 0, begin: 1000n, end: 1000n }]);
      } finally {
        await log.close();
      }
      log = await target.open();
      try {
        assert.deepEqual(await log.bounds(topic), [{ partition: 0, begin: 1000n, end: 1000n }]);
        assert.deepEqual(await log.append(topic, 0, [{ value: event('after') }]), [1000n]);
        assert.deepEqual((await readAll(log, topic)).map(parsed), ['after']);
        await log.deleteTopic(topic);
      } finally {
        await log.close();
      }
    });

    test('a torn tail is cut off on open and every acknowledged record is kept', {
      skip: !target.corruptTail && 'no access to the files of this backend',
    }, async () => {
      const topic = topicName('torn');
      let log = await target.open();
      const acked: unknown[] = [];
      try {
        await log.createTopic(topic, CONFIG);
        for (let i = 0; i < 30; i++) {
          await log.append(topic, 0, [{ key: `k${i}`, value: event({ i }) }]);
          acked.push({ i });
        }
      } finally {
        await log.close();
      }
      // A header promising more bytes than exist, then random garbage.
      const torn = Buffer.alloc(40, 0xab);
      torn.writeUInt32LE(500, 0);
      await target.corruptTail!(topic, 0, torn);
      log = await target.open();
      try {
        assert.deepEqual((await readAll(log, topic)).map(parsed), acked);
        assert.deepEqual(await log.append(topic, 0, [{ value: event({ i: 30 }) }]), [30n]);
      } finally {
        await log.close();
      }
      // A complete-looking record whose checksum does not match.
      const bad = Buffer.alloc(64, 0);
      bad.writeUInt32LE(56, 0);
      bad.writeUInt32LE(12345, 4);
      await target.corruptTail!(topic, 0, bad);
      log = await target.open();
      try {
        const records = await readAll(log, topic);
        assert.deepEqual(records.map(parsed), [...acked, { i: 30 }]);
        assert.deepEqual(await log.append(topic, 0, [{ value: event({ i: 31 }) }]), [31n]);
        assert.equal((await readAll(log, topic, 0, 31n)).length, 1);
        await log.deleteTopic(topic);
      } finally {
        await log.close();
      }
    });

    test('a second opener of the same log gets a clear error', {
      skip: !target.exclusive && 'shared by design',
    }, async () => {
      const log = await target.open();
      try {
        await rejectsWith(target.open(), ConflictError, /already open|in use/);
      } finally {
        await log.close();
      }
      const again = await target.open();
      await again.close();
    });
  });
}
