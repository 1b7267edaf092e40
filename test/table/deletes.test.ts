import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type DataFile,
  type ManifestEntry,
  newSnapshotId,
  openTable,
  type Table,
} from '../../src/table/index.js';
import { InvalidInputError } from '../../src/util/index.js';
import { type Env, openEnv, schemaOf } from './table-helpers.js';

/** Commit a snapshot adding one delete file, as Spark or PyIceberg would write it. */
async function commitDeleteFile(env: Env, table: Table, file: DataFile): Promise<void> {
  const md = table.metadata;
  const parent = table.currentSnapshot()!;
  const id = newSnapshotId(md);
  const entry: ManifestEntry = {
    status: 1,
    snapshot_id: null,
    sequence_number: null,
    file_sequence_number: null,
    data_file: file,
  };
  const mf = await table.io.writeManifest(md, [entry], {
    schema: table.schema(),
    spec: table.spec(),
    snapshotId: id,
    content: 'deletes',
  });
  const manifests = [mf, ...(await table.io.manifestList(parent))];
  const seq = md['last-sequence-number'] + 1;
  const list = await table.io.writeManifestList(md, manifests, {
    snapshotId: id,
    parentId: parent['snapshot-id'],
    sequenceNumber: seq,
  });
  await env.catalog.commitTable(
    table.id,
    [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': parent['snapshot-id'] }],
    [
      {
        action: 'add-snapshot',
        snapshot: {
          'snapshot-id': id,
          'parent-snapshot-id': parent['snapshot-id'],
          'sequence-number': seq,
          'timestamp-ms': Date.now(),
          'manifest-list': list,
          summary: { operation: 'delete' },
          'schema-id': md['current-schema-id'],
        },
      },
      { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': id },
    ],
  );
  await table.refresh();
}

function deleteFile(path: string, size: number, rows: number, content: 1 | 2): DataFile {
  return {
    content,
    file_path: path,
    file_format: 'PARQUET',
    partition: {},
    record_count: rows,
    file_size_in_bytes: size,
    equality_ids: content === 2 ? [1] : null,
  };
}

describe('delete files written by other engines', () => {
  let env: Env;

  before(async () => {
    env = await openEnv();
  });
  after(() => env.close());

  for (const renamed of [false, true]) {
    test(`position deletes are applied (${renamed ? 'read by field id' : 'read by name'})`, async () => {
      const id = { namespace: ['ext'], name: `pos_${renamed}` };
      await env.catalog.createTable(
        id,
        schemaOf([
          ['id', 'long', true],
          ['v', 'string'],
        ]),
      );
      const table = await openTable(env.catalog, env.store, env.duck, id);
      await table.append(`SELECT i AS id, 'v' || i AS v FROM range(100) t(i)`);
      if (renamed) await table.evolveSchema([{ op: 'rename-column', name: 'v', newName: 'value' }]);
      const target = (await table.planScan()).files[0]!.file;
      const key = `ext/pos_${renamed}/data/deletes-1.parquet`;
      const local = `${env.dir}/deletes-${renamed}.parquet`;
      await env.duck.run(
        `COPY (SELECT '${target.file_path}' AS file_path, pos FROM (VALUES (0), (5), (99)) v(pos)) TO '${local}' (FORMAT parquet, FIELD_IDS {file_path: 2147483546, pos: 2147483545})`,
      );
      const size = (await import('node:fs')).statSync(local).size;
      await env.store.importFile(key, local);
      await commitDeleteFile(env, table, deleteFile(table.io.uriOf(key), size, 3, 1));
      const plan = await table.planScan();
      assert.equal(plan.readByName, !renamed);
      assert.equal(plan.files[0]?.deletes.length, 1);
      const rows = await env.duck.all<{ n: bigint; lo: bigint; hi: bigint }>(
        `SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM (${table.scanSql(plan)})`,
      );
      assert.deepEqual(rows, [{ n: 97n, lo: 1n, hi: 98n }]);
      const withFile = await env.duck.all(
        `SELECT count(*) AS n FROM (${table.scanSql(plan, { withFile: true })}) WHERE id = 6`,
      );
      assert.deepEqual(withFile, [{ n: 1n }]);
      await table.delete('id = 50');
      const [after] = await env.duck.all<{ n: bigint }>(
        `SELECT count(*) AS n FROM (${table.scanSql(await table.planScan())})`,
      );
      assert.equal(after?.n, 96n, 'a copy-on-write rewrite keeps the position deletes applied');
    });
  }

  test('equality deletes are refused with a clear error', async () => {
    const id = { namespace: ['ext'], name: 'eq' };
    await env.catalog.createTable(id, schemaOf([['id', 'long', true]]));
    const table = await openTable(env.catalog, env.store, env.duck, id);
    await table.append('SELECT 1 AS id');
    const key = 'ext/eq/data/eq-deletes.parquet';
    await env.store.put(key, 'not read');
    await commitDeleteFile(env, table, deleteFile(table.io.uriOf(key), 8, 1, 2));
    await assert.rejects(table.planScan(), (err: Error) => {
      assert.ok(err instanceof InvalidInputError);
      assert.match(err.message, /equality delete files/);
      return true;
    });
  });
});
