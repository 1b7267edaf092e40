/**
 * Child process for the concurrency tests, forked with `MODE URL [ARG]` and reporting
 * through IPC. Started any other way (e.g. picked up by a test-file glob) it exits at once.
 *   cas N      N read-then-CAS increments of sluice_state ('cas', 'counter'); reports successes
 *   queue Q    claims jobs of queue Q until none is left, recording each in test_done
 *   hold Q     claims one job of Q with a 500 ms lease, reports it, then waits to be killed
 *   open       opens the store (applying migrations) and reports the schema version
 */
import { type MetaStore, openMetaStore } from '../../src/metastore/index.js';

const [mode, url, arg] = process.argv.slice(2);

async function cas(store: MetaStore, attempts: number): Promise<Record<string, number>> {
  let successes = 0;
  for (let i = 0; i < attempts; i += 1) {
    const [row] = await store.query<{ value: string; version: number }>(
      'SELECT value, version FROM sluice_state WHERE scope = ? AND key = ?',
      ['cas', 'counter'],
    );
    if (!row) throw new Error('counter row missing');
    const swapped = await store.compareAndSwap({
      table: 'sluice_state',
      key: { scope: 'cas', key: 'counter' },
      expected: { version: row.version },
      set: { value: String(Number(row.value) + 1), version: row.version + 1 },
    });
    if (swapped) successes += 1;
  }
  return { successes };
}

async function drain(store: MetaStore, queue: string): Promise<Record<string, number>> {
  const workerId = `worker-${process.pid}`;
  let completed = 0;
  let lost = 0;
  for (;;) {
    const jobs = await store.claim(queue, { workerId, leaseMs: 60_000, limit: 10 });
    if (jobs.length === 0) {
      const [left] = await store.query<{ n: number }>(
        "SELECT COUNT(*) AS n FROM sluice_jobs WHERE queue = ? AND status <> 'done'",
        [queue],
      );
      if (left?.n === 0) break;
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    for (const job of jobs) {
      await store.execute('INSERT INTO test_done (job_id, worker) VALUES (?, ?)', [job.id, workerId]);
      if (await store.complete(job.id, workerId)) completed += 1;
      else lost += 1;
    }
  }
  return { completed, lost };
}

async function hold(store: MetaStore, queue: string): Promise<never> {
  const workerId = `holder-${process.pid}`;
  for (;;) {
    const [job] = await store.claim(queue, { workerId, leaseMs: 500 });
    if (job) {
      process.send?.({ claimed: job.id, workerId });
      process.once('disconnect', () => process.exit(0));
      return new Promise<never>(() => setInterval(() => undefined, 1000));
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function main(): Promise<void> {
  if (!process.send || !mode || !url) return;
  const store = await openMetaStore(url);
  try {
    let result: Record<string, unknown>;
    if (mode === 'cas') result = await cas(store, Number(arg));
    else if (mode === 'queue') result = await drain(store, arg ?? 'jobs');
    else if (mode === 'hold') result = await hold(store, arg ?? 'jobs');
    else result = { version: (await store.health()).schemaVersion };
    await new Promise<void>((resolve) => process.send?.({ done: true, ...result }, () => resolve()));
  } finally {
    await store.close();
  }
}

main().then(
  () => process.disconnect?.(),
  (err: Error) => {
    process.send?.({ error: err.stack ?? String(err) }, () => process.exit(1));
  },
);
