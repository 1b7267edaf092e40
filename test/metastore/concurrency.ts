/**
 * Multi-process behaviour every backend must have: lost-update-free CAS, each queued job
 * completed once, leases of killed workers expiring, and concurrent first opens.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type MetaStore, MIGRATIONS, openMetaStore } from '../../src/metastore/index.js';
import type { ContractTarget } from './contract.js';

const WORKER = fileURLToPath(new URL('./store-worker.js', import.meta.url));

type Message = Record<string, unknown>;

/** Fork a store worker; `first` resolves with its first message, `exit` with its exit code. */
export function startWorker(args: string[]): {
  child: ChildProcess;
  first: Promise<Message>;
  exit: Promise<number>;
} {
  const child = fork(WORKER, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const first = new Promise<Message>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Message));
    child.once('exit', (code) =>
      reject(new Error(`worker ${args.join(' ')} exited with ${code} before reporting`)),
    );
  });
  const exit = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : 0))),
  );
  first.catch(() => undefined);
  return { child, first, exit };
}

/** Run workers to the end; every one must report `done`. */
async function runWorkers(count: number, args: string[]): Promise<Message[]> {
  const workers = Array.from({ length: count }, () => startWorker(args));
  const results = await Promise.all(workers.map((w) => w.first));
  await Promise.all(workers.map((w) => w.exit));
  for (const r of results) assert.equal(r.done, true, String(r.error));
  return results;
}

export function concurrencyContract(name: string, setup: () => Promise<ContractTarget>): void {
  describe(`MetaStore across processes: ${name}`, () => {
    let target: ContractTarget;
    let store: MetaStore;
    before(async () => {
      target = await setup();
      store = await openMetaStore(target.url);
    });
    after(async () => {
      await store?.close();
      await target?.dispose();
    });

    test('8 processes doing read-then-CAS increments lose no update', async () => {
      await store.execute(
        "INSERT INTO sluice_state (scope, key, value, version) VALUES ('cas', 'counter', '0', 0)",
      );
      const results = await runWorkers(8, ['cas', target.url, '60']);
      const successes = results.reduce((sum, r) => sum + Number(r.successes), 0);
      const [row] = await store.query<{ value: string; version: number }>(
        "SELECT value, version FROM sluice_state WHERE scope = 'cas' AND key = 'counter'",
      );
      assert.ok(successes >= 60, `at least one process's worth of CAS succeeded (${successes})`);
      assert.equal(Number(row?.value), successes);
      assert.equal(row?.version, successes);
    });

    test('4 processes claiming 2,000 jobs complete each exactly once', async () => {
      await store.execute(
        'CREATE TABLE test_done (job_id VARCHAR(64) NOT NULL, worker VARCHAR(64) NOT NULL)',
      );
      for (let i = 0; i < 2000; i += 100) {
        await Promise.all(Array.from({ length: 100 }, (_, j) => store.enqueue('bulk', { i: i + j })));
      }
      const results = await runWorkers(4, ['queue', target.url, 'bulk']);
      const [done] = await store.query<{ n: number; jobs: number }>(
        'SELECT COUNT(*) AS n, COUNT(DISTINCT job_id) AS jobs FROM test_done',
      );
      const [jobs] = await store.query<{ n: number; max_attempts: number }>(
        "SELECT COUNT(*) AS n, MAX(attempts) AS max_attempts FROM sluice_jobs WHERE queue = 'bulk' AND status = 'done'",
      );
      assert.deepEqual(done, { n: 2000, jobs: 2000 });
      assert.deepEqual(jobs, { n: 2000, max_attempts: 1 });
      assert.equal(
        results.reduce((sum, r) => sum + Number(r.completed), 0),
        2000,
      );
    });

    test('a job held by a killed worker is claimed again after its lease expires', async () => {
      const id = await store.enqueue('crash', { step: 1 });
      const holder = startWorker(['hold', target.url, 'crash']);
      let claimed: Record<string, unknown>;
      try {
        claimed = await holder.first;
        assert.equal(claimed.claimed, id);
      } finally {
        holder.child.kill('SIGKILL');
        await holder.exit;
      }
      assert.deepEqual(
        await store.claim('crash', { workerId: 'rescuer', leaseMs: 5000 }),
        [],
        'lease still live',
      );
      const deadline = Date.now() + 5000;
      let jobs = await store.claim('crash', { workerId: 'rescuer', leaseMs: 5000 });
      while (jobs.length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        jobs = await store.claim('crash', { workerId: 'rescuer', leaseMs: 5000 });
      }
      assert.equal(jobs[0]?.id, id);
      assert.equal(jobs[0]?.attempts, 2);
      assert.equal(
        await store.complete(id, String(claimed.workerId)),
        false,
        'the dead worker lost its lease',
      );
      assert.equal(await store.complete(id, 'rescuer'), true);
    });

    test('4 processes opening a fresh database at once all succeed and migrate once', async () => {
      const url = await target.fresh();
      const results = await runWorkers(4, ['open', url]);
      for (const r of results) assert.equal(r.version, MIGRATIONS.at(-1)?.version);
      const fresh = await openMetaStore(url);
      try {
        const rows = await fresh.query<{ version: number }>(
          'SELECT version FROM sluice_migrations ORDER BY version',
        );
        assert.deepEqual(
          rows.map((r) => r.version),
          MIGRATIONS.map((m) => m.version),
        );
      } finally {
        await fresh.close();
      }
    });
  });
}
