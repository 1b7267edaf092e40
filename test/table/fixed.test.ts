import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sqlString } from '../../src/duck/index.js';
import {
  type DataFile,
  dataDir,
  MAIN_BRANCH,
  newSnapshotId,
  openTable,
  type Table,
} from '../../src/table/index.js';
import { InvalidInputError } from '../../src/util/index.js';
import { type Env, openEnv, schemaOf } from './table-helpers.js';

const KEY = '0102030405060708090a0b0c0d0e0f10';

/** Commit one Parquet file written outside Sluice as the table's first snapshot, as another engine would. */
async function commitForeignFile(env: Env, table: Table, local: string, records: number): Promise<void> {
  const md = table.metadata;
  const uri = `${dataDir(md)}/foreign-00000.parquet`;
  await env.store.importFile(table.io.keyOf(uri), local);
  const file: DataFile = {
    content: 0,
    file_path: uri,
    file_format: 'PARQUET',
    partition: {},
    record_count: records,
    file_size_in_bytes: (await stat(join(env.dir, 'warehouse', table.io.keyOf(uri)))).size,
  } as DataFile;
  const snapshotId = newSnapshotId(md);
  const manifest = await table.io.writeManifest(
    md,
    [{ status: 1, snapshot_id: null, sequence_number: null, file_sequence_number: null, data_file: file }],
    { schema: table.schema(), spec: table.spec(), snapshotId },
  );
  const list = await table.io.writeManifestList(md, [manifest], {
    snapshotId,
    parentId: null,
    sequenceNumber: 1,
  });
  await env.catalog.commitTable(
    table.id,
    [],
    [
      {
        action: 'add-snapshot',
        snapshot: {
          'snapshot-id': snapshotId,
          'sequence-number': 1,
          'timestamp-ms': Date.now(),
          'manifest-list': list,
          summary: { operation: 'append' },
          'schema-id': md['current-schema-id'],
        },
      },
      { action: 'set-snapshot-ref', 'ref-name': MAIN_BRANCH, type: 'branch', 'snapshot-id': snapshotId },
    ],
  );
  await table.refresh();
}

describe('fixed[n] columns', () => {
  let env: Env;
  let table: Table;
  const id = { namespace: ['t'], name: 'keys' };

  before(async () => {
    env = await openEnv();
    await env.catalog.createTable(
      id,
      schemaOf([
        ['id', 'long', true],
        ['key', 'fixed[16]'],
      ]),
    );
    table = await openTable(env.catalog, env.store, env.duck, id);
  });
  after(() => env?.close());

  test('writing is refused with the reason and the alternative, and leaves no file', async () => {
    const err = await table.append(`SELECT 1 AS id, from_hex('${KEY}') AS key`).catch((e) => e);
    assert.ok(err instanceof InvalidInputError);
    assert.match(err.message, /column "key" is fixed\[16\].*FIXED_LEN_BYTE_ARRAY/);
    assert.match(err.message, /use binary instead of fixed/);
    const files = await readdir(join(env.dir, 'warehouse', 't', 'keys'), { recursive: true });
    assert.ok(!files.some((f) => f.endsWith('.parquet')));
    await assert.rejects(
      table.evolveSchema([{ op: 'add-column', name: 'tag', type: 'fixed[4]' }]),
      /cannot add the column: column "tag" is fixed\[4\]/,
    );
    await table.evolveSchema([{ op: 'add-column', name: 'tag', type: 'binary' }]);
    assert.equal(table.schema().fields.at(-1)?.type, 'binary');
  });

  test('files of other engines with FIXED_LEN_BYTE_ARRAY columns are read', async () => {
    // DuckDB writes UUID as FIXED_LEN_BYTE_ARRAY(16): a file as a Java writer would store fixed[16].
    const local = join(env.dir, 'foreign.parquet');
    await env.duck.withConnection((c) =>
      c.run(
        `COPY (SELECT i AS id, CAST('${KEY.slice(0, 8)}-${KEY.slice(8, 12)}-${KEY.slice(12, 16)}-${KEY.slice(16, 20)}-${KEY.slice(20)}' AS UUID) AS key FROM range(3) t(i))
         TO ${sqlString(local)} (FORMAT parquet, FIELD_IDS {id: 1, key: 2})`,
      ),
    );
    const [physical] = await env.duck.all<{ type: string; type_length: string }>(
      `SELECT type, type_length FROM parquet_schema(${sqlString(local)}) WHERE name = 'key'`,
    );
    assert.deepEqual(physical, { type: 'FIXED_LEN_BYTE_ARRAY', type_length: '16' });
    await commitForeignFile(env, table, local, 3);
    const rows = await env.duck.all(
      `SELECT id, hex(key) AS key, tag FROM (${table.scanSql(await table.planScan())}) ORDER BY id`,
    );
    assert.deepEqual(
      rows,
      [0n, 1n, 2n].map((i) => ({ id: i, key: KEY.toUpperCase(), tag: null })),
    );
    await assert.rejects(table.delete('id = 1'), /column "key" is fixed\[16\]/);
  });
});
