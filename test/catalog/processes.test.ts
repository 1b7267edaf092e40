/** Several processes commit to one table; a committer is SIGKILLed at random moments. */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type JdbcCatalog, readTableMetadata } from '../../src/catalog/index.js';
import { keyForLocation } from '../../src/storage/index.js';
import { type Backends, catalogOf, localBackends, SCHEMA } from './fixtures.js';

const WORKER = fileURLToPath(new URL('./commit-worker.js', import.meta.url));

let b: Backends & { dir: string };
let catalog: JdbcCatalog;
before(async () => {
  b = await localBackends();
  catalog = catalogOf(b);
  await catalog.createNamespace(['proc']);
});
after(async () => b?.dispose());

function start(
  mode: 'keys' | 'loop',
  table: string,
  worker: string,
  count = 0,
): { child: ChildProcess; ready: Promise<unknown>; exited: Promise<unknown[]> } {
  const args = [mode, join(b.dir, 'meta.db'), b.store.url, table, worker, String(count)];
  const child = fork(WORKER, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const ready = Promise.race([
    once(child, 'message'),
    exited.then(() => Promise.reject(new Error('worker exited early'))),
  ]);
  return { child, ready, exited };
}

test('commits from several processes touching different keys all land', async () => {
  await catalog.createTable({ namespace: ['proc'], name: 'shared' }, { schema: SCHEMA });
  const workers = ['a', 'b', 'c'].map((w) => start('keys', 'shared', w, 5));
  const codes = await Promise.all(workers.map(async (w) => (await w.exited)[0]));
  assert.deepEqual(codes, [0, 0, 0]);
  const md = (await catalog.loadTable({ namespace: ['proc'], name: 'shared' })).metadata;
  for (const w of ['a', 'b', 'c'])
    for (let i = 0; i < 5; i++) assert.equal(md.properties[`${w}-${i}`], 'x', `${w}-${i}`);
  assert.equal(md['metadata-log'].length, 15);
});

async function crashLane(table: string, kills: number): Promise<number> {
  const id = { namespace: ['proc'], name: table };
  await catalog.createTable(id, { schema: SCHEMA });
  let last = -1;
  for (let k = 0; k < kills; k++) {
    const w = start('loop', table, 'w');
    await w.ready;
    await sleep(Math.random() * 200);
    w.child.kill('SIGKILL');
    await w.exited;
    const loaded = await catalog.loadTable(id);
    const [row] = await b.meta.query<{ metadata_location: string }>(
      'SELECT metadata_location FROM iceberg_tables WHERE table_name = ?',
      [table],
    );
    assert.equal(row?.metadata_location, loaded.metadataLocation);
    const md = await readTableMetadata(b.store, loaded.metadataLocation);
    assert.ok(
      await b.store.head(keyForLocation(b.store, loaded.metadataLocation)),
      'the pointer names a complete file',
    );
    const counter = Number(md.properties['w-counter'] ?? -1);
    assert.ok(counter >= -1);
    last = Math.max(last, counter);
  }
  const after = await catalog.commitTable(
    id,
    [],
    [{ action: 'set-properties', updates: { after: 'crashes' } }],
  );
  assert.equal(after.metadata.properties.after, 'crashes');
  return last;
}

test('a committer killed at random moments leaves a loadable table (crash safety)', async () => {
  const progress = await Promise.all([crashLane('crash1', 5), crashLane('crash2', 5)]);
  assert.ok(
    progress.some((p) => p >= 0),
    'some commits landed before the kills',
  );
});
