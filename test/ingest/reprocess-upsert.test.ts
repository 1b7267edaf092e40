import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type IngestEnv, openIngestEnv, plainRows, runSpec, tableRows } from './helpers.js';

let env: IngestEnv;
before(async () => {
  env = await openIngestEnv();
});
after(async () => {
  await env?.close();
});

test('reprocessing a keyed upsert table from the raw zone keeps the latest version of each record', async () => {
  const dir = join(env.dir, 'in', 'customers');
  await mkdir(dir, { recursive: true });
  const spec = {
    source: { files: { path: 'in/customers' } },
    sink: { table: 'rp.customers', mode: 'upsert', key: ['id'] },
  };
  const drop = async (name: string, rows: object[]) =>
    writeFile(join(dir, name), `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);

  // Three loads: later files change records 1 and 2; one file repeats a key within itself.
  await drop('0001.ndjson', [
    { id: 1, name: 'ann', tier: 'bronze' },
    { id: 2, name: 'bob', tier: 'bronze' },
  ]);
  await runSpec(env, spec, { taskId: 'customers' });
  await drop('0002.ndjson', [
    { id: 1, name: 'ann', tier: 'silver' },
    { id: 3, name: 'cy', tier: 'bronze' },
  ]);
  await runSpec(env, spec, { taskId: 'customers' });
  await drop('0003.ndjson', [
    { id: 2, name: 'bob', tier: 'silver' },
    { id: 2, name: 'bob', tier: 'gold' },
  ]);
  await runSpec(env, spec, { taskId: 'customers' });
  const expected = [
    { id: 1, name: 'ann', tier: 'silver' },
    { id: 2, name: 'bob', tier: 'gold' },
    { id: 3, name: 'cy', tier: 'bronze' },
  ];
  const rows = async () => plainRows(await tableRows(env.runtime, 'rp.customers', 'id'));
  assert.deepEqual(await rows(), expected);

  // Rebuilt from every stored file in one overwrite: the same table, not every version.
  await runSpec(env, spec, { taskId: 'customers', options: { reprocess: true } });
  assert.deepEqual(await rows(), expected);
});
