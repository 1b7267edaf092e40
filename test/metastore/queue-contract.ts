/** Queue part of the MetaStore contract: enqueue, dedupe, claim, leases, heartbeat, complete, fail. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetaStore } from '../../src/metastore/index.js';
import { InvalidInputError } from '../../src/util/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Register the queue tests; `store()` is called when a test runs. */
export function queueContract(store: () => MetaStore): void {
  test('enqueue is idempotent per dedupeKey and queue', async () => {
    const s = store();
    const a = await s.enqueue('dedupe', { n: 1 }, { dedupeKey: 'order-1' });
    const b = await s.enqueue('dedupe', { n: 2 }, { dedupeKey: 'order-1' });
    const c = await s.enqueue('dedupe-other', { n: 3 }, { dedupeKey: 'order-1' });
    const d = await s.enqueue('dedupe', { n: 4 });
    assert.equal(typeof a, 'string');
    assert.equal(b, a);
    assert.notEqual(c, a);
    assert.notEqual(d, a);
    const jobs = await s.claim('dedupe', { workerId: 'w', leaseMs: 10_000, limit: 10 });
    assert.deepEqual(
      jobs.map((j) => j.payload).sort((x, y) => (x as { n: number }).n - (y as { n: number }).n),
      [{ n: 1 }, { n: 4 }],
    );
  });

  test('claim leases a job to one worker; complete and heartbeat check the owner', async () => {
    const s = store();
    const id = await s.enqueue('lease', { file: 'a.csv', tags: ['x'] });
    const before = Date.now();
    const [job] = await s.claim('lease', { workerId: 'w1', leaseMs: 10_000 });
    assert.ok(job);
    assert.equal(job.id, id);
    assert.equal(job.queue, 'lease');
    assert.deepEqual(job.payload, { file: 'a.csv', tags: ['x'] });
    assert.equal(job.attempts, 1);
    assert.ok(job.leaseUntil.getTime() >= before + 9000 && job.leaseUntil.getTime() <= Date.now() + 11_000);
    assert.deepEqual(
      await s.claim('lease', { workerId: 'w2', leaseMs: 10_000 }),
      [],
      'held jobs are not claimable',
    );
    assert.equal(await s.heartbeat(id, 'w2', 10_000), false);
    assert.equal(await s.complete(id, 'w2'), false);
    assert.equal(await s.heartbeat(id, 'w1', 20_000), true);
    assert.equal(await s.complete(id, 'w1'), true);
    assert.equal(await s.complete(id, 'w1'), false, 'a job completes once');
    assert.deepEqual(await s.claim('lease', { workerId: 'w2', leaseMs: 10_000 }), []);
  });

  test('an expired lease makes the job claimable again with attempts incremented', async () => {
    const s = store();
    const id = await s.enqueue('expiry', null);
    const [first] = await s.claim('expiry', { workerId: 'slow', leaseMs: 200 });
    assert.equal(first?.id, id);
    assert.equal(first?.payload, null);
    await sleep(300);
    const [second] = await s.claim('expiry', { workerId: 'fast', leaseMs: 10_000 });
    assert.equal(second?.id, id);
    assert.equal(second?.attempts, 2);
    assert.equal(await s.heartbeat(id, 'slow', 10_000), false, 'the old owner lost the lease');
    assert.equal(await s.complete(id, 'slow'), false);
    assert.equal(await s.complete(id, 'fast'), true);
  });

  test('runAt and fail(retryAt) delay claiming; fail records the error', async () => {
    const s = store();
    const id = await s.enqueue('later', { x: 1 }, { runAt: new Date(Date.now() + 300) });
    assert.deepEqual(await s.claim('later', { workerId: 'w', leaseMs: 10_000 }), []);
    await sleep(350);
    const [job] = await s.claim('later', { workerId: 'w', leaseMs: 10_000 });
    assert.equal(job?.id, id);
    assert.equal(await s.fail(id, 'other', { error: 'nope' }), false);
    assert.equal(await s.fail(id, 'w', { retryAt: new Date(Date.now() + 300), error: 'HTTP 503' }), true);
    const [row] = await s.query('SELECT status, last_error, lease_owner FROM sluice_jobs WHERE id = ?', [id]);
    assert.deepEqual(row, { status: 'queued', last_error: 'HTTP 503', lease_owner: null });
    assert.deepEqual(await s.claim('later', { workerId: 'w', leaseMs: 10_000 }), []);
    await sleep(350);
    const [retry] = await s.claim('later', { workerId: 'w', leaseMs: 10_000 });
    assert.equal(retry?.attempts, 2);
    assert.equal(await s.fail(id, 'w'), true);
    const [again] = await s.claim('later', { workerId: 'w2', leaseMs: 10_000 });
    assert.equal(again?.attempts, 3, 'fail without retryAt makes the job due at once');
  });

  test('claim respects limit, order and queue isolation', async () => {
    const s = store();
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push(await s.enqueue('batch', { i }, { runAt: new Date(Date.now() - 10_000 + i) }));
    }
    await s.enqueue('batch-elsewhere', { i: 99 });
    const first = await s.claim('batch', { workerId: 'w', leaseMs: 10_000, limit: 3 });
    assert.deepEqual(first.map((j) => j.id).sort(), ids.slice(0, 3).sort());
    const rest = await s.claim('batch', { workerId: 'w', leaseMs: 10_000, limit: 10 });
    assert.deepEqual(rest.map((j) => j.id).sort(), ids.slice(3).sort());
  });

  test('queue calls validate their arguments', async () => {
    const s = store();
    await assert.rejects(s.enqueue('', {}), InvalidInputError);
    await assert.rejects(s.enqueue('q', { big: 1n }), InvalidInputError);
    await assert.rejects(s.claim('q', { workerId: 'w', leaseMs: 0 }), InvalidInputError);
    await assert.rejects(s.claim('q', { workerId: '', leaseMs: 100 }), InvalidInputError);
    await assert.rejects(s.claim('q', { workerId: 'w', leaseMs: 100, limit: 1.5 }), InvalidInputError);
    await assert.rejects(s.enqueue('q', {}, { runAt: new Date(Number.NaN) }), InvalidInputError);
  });

  test('higher priority jobs are claimed first among due jobs', async () => {
    const s = store();
    const low = await s.enqueue('prio', { n: 'low' }, { runAt: new Date(Date.now() - 5000) });
    const high = await s.enqueue('prio', { n: 'high' }, { priority: 10 });
    const [first] = await s.claim('prio', { workerId: 'w', leaseMs: 10_000 });
    const [second] = await s.claim('prio', { workerId: 'w', leaseMs: 10_000 });
    assert.deepEqual([first?.id, second?.id], [high, low]);
    await assert.rejects(s.enqueue('prio', {}, { priority: 1.5 }), InvalidInputError);
  });

  test('a job out of attempts becomes dead, is listed, and purged once finished', async () => {
    const s = store();
    const failing = await s.enqueue('limited', { n: 1 }, { maxAttempts: 2 });
    const [a] = await s.claim('limited', { workerId: 'w', leaseMs: 10_000 });
    assert.equal(await s.fail(failing, 'w', { error: 'first' }), true);
    const [b] = await s.claim('limited', { workerId: 'w', leaseMs: 10_000 });
    assert.equal(b?.attempts, 2);
    assert.equal(await s.fail(failing, 'w', { error: 'second' }), true);
    assert.deepEqual(await s.claim('limited', { workerId: 'w', leaseMs: 10_000 }), []);
    assert.equal(a?.id, failing);

    const abandoned = await s.enqueue('limited', { n: 2 }, { maxAttempts: 1 });
    await s.claim('limited', { workerId: 'crashed', leaseMs: 100 });
    await sleep(200);
    assert.deepEqual(
      await s.claim('limited', { workerId: 'w', leaseMs: 10_000 }),
      [],
      'no claim after the last',
    );

    const given = await s.enqueue('limited', { n: 3 });
    await s.claim('limited', { workerId: 'w', leaseMs: 10_000 });
    assert.equal(await s.fail(given, 'w', { dead: true, error: 'bad payload' }), true);

    const dead = await s.deadJobs('limited');
    assert.deepEqual(
      dead.map((d) => [d.id, d.lastError]),
      [
        [failing, 'second'],
        [abandoned, 'lease expired on the last attempt'],
        [given, 'bad payload'],
      ],
    );
    const done = await s.enqueue('limited', { n: 4 });
    await s.claim('limited', { workerId: 'w', leaseMs: 10_000 });
    await s.complete(done, 'w');
    assert.equal(await s.purgeJobs('limited', new Date(Date.now() - 60_000)), 0, 'recent jobs are kept');
    assert.equal(await s.purgeJobs('limited', new Date(Date.now() + 60_000)), 4);
    assert.deepEqual(await s.deadJobs('limited'), []);
  });

  test('enqueue inside a transaction appears only if the transaction commits', async () => {
    const s = store();
    await assert.rejects(
      s.transaction(async (tx) => {
        await s.enqueue('in-tx', { n: 1 }, { tx });
        throw new Error('roll back');
      }),
      /roll back/,
    );
    const id = await s.transaction((tx) => s.enqueue('in-tx', { n: 2 }, { tx, dedupeKey: 'k' }));
    const again = await s.transaction((tx) => s.enqueue('in-tx', { n: 3 }, { tx, dedupeKey: 'k' }));
    assert.equal(again, id);
    const jobs = await s.claim('in-tx', { workerId: 'w', leaseMs: 10_000, limit: 10 });
    assert.deepEqual(
      jobs.map((j) => j.payload),
      [{ n: 2 }],
    );
  });
}
