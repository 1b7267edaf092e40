import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type IngestEnv, openIngestEnv, plainRows, runSpec, tableRows, tableSnapshots } from './helpers.js';

describe('sink modes, schema drift and quarantine threshold', () => {
  let env: IngestEnv;
  let n = 0;
  before(async () => {
    env = await openIngestEnv();
  });
  after(async () => {
    await env.close();
  });

  /** Drop NDJSON rows as a new file and load the directory with `sink`. */
  async function load(
    task: string,
    rows: unknown[],
    sink: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ) {
    const dir = join(env.dir, 'in', task);
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, `${String(++n).padStart(4, '0')}.ndjson`),
      `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`,
    );
    return runSpec(env, { source: { files: { path: `in/${task}` } }, sink, ...extra }, { taskId: task });
  }
  const rowsOf = async (table: string, order = 'id') => plainRows(await tableRows(env.runtime, table, order));

  test('append adds, upsert replaces by key, delete_insert replaces every row of a key', async () => {
    await load('append', [{ id: 1, v: 'a' }], { table: 'm.append' });
    await load('append', [{ id: 1, v: 'b' }], { table: 'm.append' });
    assert.deepEqual(
      (await rowsOf('m.append', 'v')).map((r) => [r.id, r.v]),
      [
        [1, 'a'],
        [1, 'b'],
      ],
    );
    await load(
      'upsert',
      [
        { id: 1, v: 'a' },
        { id: 2, v: 'a' },
      ],
      { table: 'm.upsert', mode: 'upsert', key: ['id'] },
    );
    await load(
      'upsert',
      [
        { id: 2, v: 'b' },
        { id: 3, v: 'b' },
      ],
      { table: 'm.upsert', mode: 'upsert', key: ['id'] },
    );
    assert.deepEqual(
      (await rowsOf('m.upsert')).map((r) => [r.id, r.v]),
      [
        [1, 'a'],
        [2, 'b'],
        [3, 'b'],
      ],
    );
    const di = { table: 'm.di', mode: 'delete_insert', key: ['k'] };
    await load(
      'di',
      [
        { k: 'x', id: 1 },
        { k: 'x', id: 2 },
        { k: 'y', id: 3 },
      ],
      di,
    );
    await load('di', [{ k: 'x', id: 4 }], di);
    assert.deepEqual(
      (await rowsOf('m.di')).map((r) => [r.k, r.id]),
      [
        ['y', 3],
        ['x', 4],
      ],
    );
  });

  test('overwrite replaces the table; overwrite_partitions only the partitions written', async () => {
    await load('ow', [{ id: 1 }, { id: 2 }], { table: 'm.ow', mode: 'overwrite' });
    await load('ow', [{ id: 3 }], { table: 'm.ow', mode: 'overwrite' });
    assert.deepEqual(
      (await rowsOf('m.ow')).map((r) => r.id),
      [3],
    );
    const op = { table: 'm.op', mode: 'overwrite_partitions', partition_by: ['country'], sort_by: ['id'] };
    await load(
      'op',
      [
        { id: 1, country: 'de' },
        { id: 2, country: 'fr' },
      ],
      op,
    );
    await load('op', [{ id: 3, country: 'de' }], op);
    assert.deepEqual(
      (await rowsOf('m.op')).map((r) => [r.id, r.country]),
      [
        [2, 'fr'],
        [3, 'de'],
      ],
    );
  });

  test('partition transforms and declared types shape the new table', async () => {
    await load('shape', [{ id: 1, at: '2024-03-01T10:00:00Z', amount: '12.50' }], {
      table: 'm.shape',
      partition_by: ['day(at)', 'bucket(4, id)'],
      schema: { amount: 'decimal(10,2)', at: 'timestamptz' },
    });
    const rows = await rowsOf('m.shape');
    assert.equal(rows[0]?.amount, 12.5);
    const snaps = await tableSnapshots(env.runtime, 'm.shape');
    assert.equal(snaps.at(-1)?.summary['changed-partition-count'], '1');
  });

  test('schema drift: evolve adds columns and widens, ignore drops them, fail refuses', async () => {
    await load('evolve', [{ id: 1, small: 1 }], { table: 'm.evolve', schema: { small: 'int' } });
    await load('evolve', [{ id: 2, small: 3_000_000_000, extra: 'new' }], { table: 'm.evolve' });
    assert.deepEqual(
      (await rowsOf('m.evolve')).map((r) => [r.id, r.small, r.extra]),
      [
        [1, 1, null],
        [2, 3_000_000_000, 'new'],
      ],
    );
    await load('ignore', [{ id: 1 }], { table: 'm.ignore', schema_drift: 'ignore' });
    await load('ignore', [{ id: 2, extra: 'dropped' }], { table: 'm.ignore', schema_drift: 'ignore' });
    assert.deepEqual(await rowsOf('m.ignore'), [{ id: 1 }, { id: 2 }]);
    await load('fail', [{ id: 1 }], { table: 'm.fail', schema_drift: 'fail' });
    await assert.rejects(
      load('fail', [{ id: 2, extra: 'x' }], { table: 'm.fail', schema_drift: 'fail' }),
      /schema_drift: fail\): new column "extra"/,
    );
    assert.deepEqual(await rowsOf('m.fail'), [{ id: 1 }]);
  });

  test('max_bad_ratio fails the run before the table changes; records with a null key are quarantined', async () => {
    const rows = [{ id: 1 }, { id: 'x' }, { id: 'y' }, { id: 4 }];
    await load('ratio', [{ id: 0 }], { table: 'm.ratio', schema: { id: 'long' } });
    await assert.rejects(
      load('ratio', rows, { table: 'm.ratio' }, { max_bad_ratio: 0.2 }),
      /2 of 4 records were rejected \(50.0%\), more than max_bad_ratio 0.2/,
    );
    assert.deepEqual(
      (await rowsOf('m.ratio')).map((r) => r.id),
      [0],
    );
    const ok = await load('ratio', [], { table: 'm.ratio' }, { max_bad_ratio: 0.9 });
    assert.equal(ok.quarantined, 2);
    assert.deepEqual(
      (await rowsOf('m.ratio')).map((r) => r.id),
      [0, 1, 4],
    );
    const nullKey = await load(
      'nullkey',
      [
        { id: 1, v: 1 },
        { id: null, v: 2 },
      ],
      { table: 'm.nullkey', mode: 'upsert', key: ['id'] },
    );
    assert.equal(nullKey.written, 1);
    const q = await rowsOf('m.nullkey__quarantine', '__raw_row');
    assert.match(String(q[0]?.__reason), /key column "id" is null/);
    assert.deepEqual(JSON.parse(String(q[0]?.__record)), { id: null, v: 2 });
  });
});

describe('processors between source and sink', () => {
  let env: IngestEnv;
  before(async () => {
    env = await openIngestEnv();
  });
  after(async () => {
    await env.close();
  });

  test('rejected records go to quarantine with the step that rejected them; good ones reach the table', async () => {
    const dir = join(env.dir, 'in', 'proc');
    await mkdir(dir, { recursive: true });
    const rows = [
      { order_id: 1, status: 'new', v: 1 },
      { order_id: 2, status: 'lost', v: 1 },
      { order_id: 1, status: 'paid', v: 2 },
      { order_id: null, status: 'new', v: 1 },
    ];
    await writeFile(join(dir, 'a.ndjson'), `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const summary = await runSpec(
      env,
      {
        source: { files: { path: 'in/proc' } },
        processors: [
          {
            validate: {
              schema: { order_id: { type: 'bigint', required: true }, status: { enum: ['new', 'paid'] } },
            },
          },
          { dedupe: { key: ['order_id'], order_by: 'v' } },
        ],
        sink: { table: 'm.proc', mode: 'upsert', key: ['order_id'] },
      },
      { taskId: 'proc' },
    );
    assert.equal(summary.written, 1);
    assert.equal(summary.quarantined, 2);
    const table = plainRows(await tableRows(env.runtime, 'm.proc', 'order_id'));
    assert.deepEqual(
      table.map((r) => [r.order_id, r.status]),
      [[1, 'paid']],
    );
    assert.ok(
      table.every((r) => !('__raw_object' in r) && !('__raw_row' in r)),
      'lineage columns are stripped',
    );
    const q = plainRows(await tableRows(env.runtime, 'm.proc__quarantine', '__raw_row'));
    assert.deepEqual(
      q.map((r) => [r.__raw_row, r.__processor]),
      [
        [1, 'processors[0] (validate)'],
        [3, 'processors[0] (validate)'],
      ],
    );
  });
});
