import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { openTable } from '../../src/table/index.js';
import { type CatalogEnv, openCatalogEnv, schemaOf } from './table-helpers.js';

const WORKER = fileURLToPath(new URL('./table-worker.js', import.meta.url));

function startWorker(
  env: CatalogEnv,
  mode: string,
  name: string,
  worker: number,
  count: number,
): ChildProcess {
  return fork(WORKER, [mode, env.metaUrl, env.storage.url, name, String(worker), String(count)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

describe('concurrent writers and crashes (real catalog on SQLite)', () => {
  let env: CatalogEnv;
  const schema = {
    ...schemaOf([
      ['id', 'long', true],
      ['worker', 'int'],
      ['note', 'string'],
    ]),
    'schema-id': 0,
  };

  before(async () => {
    env = await openCatalogEnv();
    await env.catalog.createNamespace(['t']);
  });
  after(() => env.close());

  test('8 processes appending at once: every row exactly once, linear history', async () => {
    await env.catalog.createTable({ namespace: ['t'], name: 'appends' }, { schema });
    const batches = 3;
    const children = Array.from({ length: 8 }, (_, w) => startWorker(env, 'append', 'appends', w, batches));
    const codes = await Promise.all(children.map(exited));
    assert.deepEqual(codes, Array(8).fill(0));
    const table = await openTable(env.catalog, env.store, env.duck, { namespace: ['t'], name: 'appends' });
    const [c] = await env.duck.all<{ n: bigint; d: bigint; workers: bigint }>(
      `SELECT count(*) AS n, count(DISTINCT id) AS d, count(DISTINCT worker) AS workers FROM (${table.scanSql(await table.planScan())})`,
    );
    assert.deepEqual(c, { n: 8n * 300n, d: 8n * 300n, workers: 8n });
    const snaps = table.snapshots();
    assert.equal(snaps.length, 8 * batches);
    snaps.forEach((s, i) => {
      assert.equal(s['sequence-number'], i + 1);
      if (i > 0) assert.equal(s['parent-snapshot-id'], snaps[i - 1]!['snapshot-id']);
      assert.equal(s.summary['total-records'], String((i + 1) * 100));
    });
    assert.equal(table.currentSnapshot()?.['snapshot-id'], snaps.at(-1)!['snapshot-id']);
  });

  test('killed at random points during 50 commits: the table always loads consistently; orphans are removed', async () => {
    const id = { namespace: ['t'], name: 'crashy' };
    await env.catalog.createTable(id, { schema });
    const table = await openTable(env.catalog, env.store, env.duck, id);
    const check = async () => {
      await table.refresh();
      const snap = table.currentSnapshot();
      const [c] = await env.duck.all<{ n: bigint; d: bigint }>(
        `SELECT count(*) AS n, count(DISTINCT id) AS d FROM (${table.scanSql(await table.planScan())})`,
      );
      assert.equal(c?.n, c?.d, 'no duplicate keys');
      assert.equal(String(c?.n), snap?.summary['total-records'] ?? '0', 'rows match the snapshot summary');
      return table.snapshots().length;
    };
    let kills = 0;
    for (let round = 0; round < 12; round++) {
      const child = startWorker(env, 'loop', 'crashy', 0, 50);
      const done = exited(child);
      const ready = new Promise<void>((resolve) => child.on('message', (m) => m === 'ready' && resolve()));
      await Promise.race([ready, done]);
      const killAfter = round < 8 ? 50 + Math.floor(Math.random() * 500) : 60_000;
      const outcome = await Promise.race([
        done.then(() => 'done' as const),
        sleep(killAfter, undefined, { ref: false }).then(() => 'kill' as const),
      ]);
      if (outcome === 'kill') {
        child.kill('SIGKILL');
        kills++;
      }
      await done;
      const n = await check();
      if (outcome === 'done' || n >= 50) break;
    }
    assert.ok(kills >= 4, `killed ${kills} times`);
    assert.equal(await check(), 50);
    const result = await table.removeOrphanFiles({ olderThanMs: 0 });
    await check();
    const referenced = new Set<string>();
    for (const snap of table.snapshots()) {
      const plan = await table.planScan({ snapshotId: snap['snapshot-id'], resolvePaths: false });
      for (const f of plan.files) referenced.add(table.io.keyOf(f.file.file_path));
    }
    const dataKeys: string[] = [];
    for await (const o of env.store.list('t/crashy/data/')) dataKeys.push(o.key);
    assert.deepEqual(
      dataKeys.filter((k) => !referenced.has(k)),
      [],
      'only referenced data files remain',
    );
    assert.ok(result.orphanFiles.every((u) => !referenced.has(table.io.keyOf(u))));
    const again = await table.removeOrphanFiles({ olderThanMs: 0 });
    assert.deepEqual(again.orphanFiles, []);
  });
});
