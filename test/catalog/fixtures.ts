/** Shared pieces of the catalog tests: a schema, a snapshot with real manifests, a catalog on temp backends. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type JdbcCatalog, openCatalog } from '../../src/catalog/index.js';
import { type MetaStore, openMetaStore } from '../../src/metastore/index.js';
import { joinLocation, keyForLocation, type ObjectStore, openObjectStore } from '../../src/storage/index.js';
import {
  currentSchema,
  currentSnapshot,
  decodeManifestList,
  defaultSpec,
  encodeManifest,
  encodeManifestList,
  type LoadedTable,
  type ManifestEntry,
  manifestFileFor,
  newSnapshotId,
  type Schema,
  type TableIdentifier,
} from '../../src/table/index.js';

/** A small schema: id (required long), name (string), ts (timestamp). */
export const SCHEMA: Schema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'name', required: false, type: 'string' },
    { id: 3, name: 'ts', required: false, type: 'timestamp' },
  ],
};

/** Backends of one catalog under test. */
export interface Backends {
  meta: MetaStore;
  store: ObjectStore;
  dispose(): Promise<void>;
}

/** A SQLite metastore and a local store in a fresh temp directory. */
export async function localBackends(): Promise<Backends & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-catalog-'));
  const meta = await openMetaStore(`sqlite://${join(dir, 'meta.db')}`);
  const store = await openObjectStore({ url: pathToFileURL(join(dir, 'warehouse')).href });
  return {
    dir,
    meta,
    store,
    async dispose() {
      await meta.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A catalog on the backends. */
export function catalogOf(b: Backends, o: { name?: string; maxCommitAttempts?: number } = {}): JdbcCatalog {
  return openCatalog({ meta: b.meta, store: b.store, ...o });
}

/**
 * Commit an append snapshot with one data file of `records` rows: a real manifest and
 * manifest list written through the store, then add-snapshot + set-snapshot-ref main.
 */
export async function appendSnapshot(
  catalog: JdbcCatalog,
  store: ObjectStore,
  id: TableIdentifier,
  o: { records?: number; snapshotId?: bigint } = {},
): Promise<LoadedTable> {
  const table = await catalog.loadTable(id);
  const md = table.metadata;
  const parent = currentSnapshot(md);
  const snapshotId = o.snapshotId ?? newSnapshotId(md);
  const sequenceNumber = md['last-sequence-number'] + 1;
  const records = o.records ?? 10;
  const schema = currentSchema(md);
  const spec = defaultSpec(md);
  const entries: ManifestEntry[] = [
    {
      status: 1,
      snapshot_id: snapshotId,
      sequence_number: null,
      file_sequence_number: null,
      data_file: {
        content: 0,
        file_path: joinLocation(md.location, 'data', `part-${snapshotId}.parquet`),
        file_format: 'PARQUET',
        partition: {},
        record_count: records,
        file_size_in_bytes: 1234,
      },
    },
  ];
  const manifest = await encodeManifest(entries, { schema, spec, formatVersion: 2, content: 'data' });
  const manifestPath = joinLocation(md.location, 'metadata', `${snapshotId}-m0.avro`);
  await store.put(keyForLocation(store, manifestPath), manifest);
  const mf = manifestFileFor(entries, {
    path: manifestPath,
    length: manifest.length,
    spec,
    schema,
    snapshotId,
    content: 'data',
  });
  const inherited = parent
    ? decodeManifestList(await store.getBytes(keyForLocation(store, parent['manifest-list']))).files
    : [];
  const list = await encodeManifestList([mf, ...inherited], {
    snapshotId,
    parentSnapshotId: parent?.['snapshot-id'] ?? null,
    sequenceNumber,
    formatVersion: 2,
  });
  const listPath = joinLocation(md.location, 'metadata', `snap-${snapshotId}-1.avro`);
  await store.put(keyForLocation(store, listPath), list);
  const total = Number(parent?.summary['total-records'] ?? 0) + records;
  return catalog.commitTable(
    id,
    [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': parent?.['snapshot-id'] ?? null }],
    [
      {
        action: 'add-snapshot',
        snapshot: {
          'snapshot-id': snapshotId,
          'parent-snapshot-id': parent?.['snapshot-id'],
          'sequence-number': sequenceNumber,
          'timestamp-ms': Date.now(),
          'manifest-list': listPath,
          summary: { operation: 'append', 'added-records': String(records), 'total-records': String(total) },
          'schema-id': schema['schema-id'],
        },
      },
      { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': snapshotId },
    ],
  );
}
