/**
 * Producing and committing one snapshot: manifests for added and removed files, the manifest
 * list, the summary, then `commitTable` with `assert-ref-snapshot-id main = parent`. When
 * another writer committed first, the change is rebased onto the new head and retried:
 * appends always; removals only when the files to remove are still live and the change's own
 * validation accepts what was committed concurrently.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Duck } from '../duck/index.js';
import { ConflictError } from '../util/index.js';
import type { LoadedTable, TableCatalog, TableIdentifier } from './catalog-api.js';
import type { LiveEntry, TableIO } from './io.js';
import { ancestorsOf, currentSnapshot, specById } from './lookup.js';
import { MAIN_BRANCH, newSnapshotId } from './metadata.js';
import { bindPartitionSpec } from './partition.js';
import { snapshotSummary } from './table-summary.js';
import type {
  DataFile,
  ManifestEntry,
  ManifestFile,
  PartitionSpec,
  Schema,
  Snapshot,
  SnapshotOperation,
  TableMetadata,
} from './types.js';
import { schemaIdFor, type TableRequirement, type TableUpdate } from './updates.js';

/** What table operations share: where the table is, how to commit, and its last known state. */
export interface TableContext {
  readonly id: TableIdentifier;
  readonly catalog: TableCatalog;
  readonly io: TableIO;
  readonly duck: Duck;
  loaded: LoadedTable;
}

/** Commit attempts before giving up on a busy table. */
export const MAX_COMMIT_ATTEMPTS = 12;

/** One snapshot's change of the table's files. */
export interface SnapshotChange {
  operation: SnapshotOperation;
  /** New data files (already in the store), written for `schema` and `spec`. */
  added: readonly DataFile[];
  schema: Schema;
  spec: PartitionSpec;
  /** Files to remove, as found in the base snapshot. */
  removed: readonly LiveEntry[];
  /** The snapshot the change was planned on (null for an empty table). */
  baseSnapshotId: bigint | null;
  /**
   * Set when `schema` is a new schema of the table: it is added and made current in the same
   * commit, which requires the table's schema to be still the one the change was planned on.
   */
  newSchema?: { lastColumnId: number; baseSchemaId: number; baseLastColumnId: number };
  /**
   * Set when the table does not exist yet: the updates creating it (from `creationUpdates`),
   * committed with `assert-create` in the same commit as the snapshot. A table of the same name
   * created meanwhile fails the commit (no retry).
   */
  create?: TableUpdate[];
  /** Extra summary properties (e.g. `sluice.raw-objects`); standard keys win. */
  properties?: Record<string, string>;
  /** Check data files committed by others since the base; throw ConflictError to abort. */
  validate?: (concurrentlyAdded: readonly DataFile[]) => void;
  signal?: AbortSignal;
}

/** The committed snapshot and what it changed. */
export interface CommitResult {
  snapshot: Snapshot;
  /** Commit attempts (1 when nobody committed in between). */
  attempts: number;
  addedFiles: number;
  removedFiles: number;
  addedRecords: number;
  removedRecords: number;
}

/** A schema of the table under which a spec's source columns all exist (the current one when possible). */
export function schemaForSpec(md: TableMetadata, spec: PartitionSpec): Schema {
  const order = [...md.schemas].sort((a, b) =>
    a['schema-id'] === md['current-schema-id']
      ? -1
      : b['schema-id'] === md['current-schema-id']
        ? 1
        : b['schema-id'] - a['schema-id'],
  );
  for (const s of order) {
    try {
      bindPartitionSpec(spec, s);
      return s;
    } catch {}
  }
  return order[0] as Schema;
}

function addedEntries(files: readonly DataFile[]): ManifestEntry[] {
  return files.map((data_file) => ({
    status: 1,
    snapshot_id: null,
    sequence_number: null,
    file_sequence_number: null,
    data_file,
  }));
}

/** Data files added by the snapshots committed after `baseId` up to the head of `md`. */
async function concurrentlyAdded(
  io: TableIO,
  md: TableMetadata,
  baseId: bigint | null,
  signal?: AbortSignal,
): Promise<DataFile[] | 'lineage-lost'> {
  const head = md['current-snapshot-id'];
  if (head === null) return baseId === null ? [] : 'lineage-lost';
  const out: DataFile[] = [];
  for (const snap of ancestorsOf(md, head)) {
    if (snap['snapshot-id'] === baseId) return out;
    const manifests = (await io.manifestList(snap, signal)).filter(
      (m) => m.added_snapshot_id === snap['snapshot-id'] && m.content === 0,
    );
    for (const m of manifests) {
      for (const e of await io.manifestEntries(m, signal)) {
        if (e.status === 1 && e.snapshot_id === snap['snapshot-id']) out.push(e.data_file);
      }
    }
  }
  return baseId === null ? out : 'lineage-lost';
}

interface Rebased {
  manifests: ManifestFile[];
  written: string[];
  /** The bytes of the rewritten manifests, by path. */
  bytes: { path: string; bytes: Uint8Array }[];
  /** Writes of the rewritten manifests, still in flight (the commit waits for them). */
  writes: Promise<void>[];
}

/** The parent's manifests with the removed files marked DELETED in rewritten manifests. */
async function rebaseRemovals(
  io: TableIO,
  md: TableMetadata,
  parentManifests: readonly ManifestFile[],
  change: SnapshotChange,
  snapshotId: bigint,
): Promise<Rebased> {
  const kept = parentManifests.filter(
    (m) => m.content === 1 || (m.added_files_count ?? 1) + (m.existing_files_count ?? 1) > 0,
  );
  if (change.removed.length === 0) return { manifests: kept, written: [], bytes: [], writes: [] };
  const wanted = new Set(change.removed.map((r) => r.entry.data_file.file_path));
  const hinted = new Set(change.removed.map((r) => r.manifest.manifest_path));
  const found = new Set<string>();
  const hits = new Map<string, ManifestEntry[]>();
  const scan = async (ms: readonly ManifestFile[]) => {
    for (const m of ms) {
      const entries = await io.manifestEntries(m, change.signal);
      if (entries.some((e) => e.status !== 2 && wanted.has(e.data_file.file_path)))
        hits.set(m.manifest_path, entries);
      for (const e of entries)
        if (e.status !== 2 && wanted.has(e.data_file.file_path)) found.add(e.data_file.file_path);
    }
  };
  const data = kept.filter((m) => m.content === 0);
  await scan(data.filter((m) => hinted.has(m.manifest_path)));
  if (found.size < wanted.size) await scan(data.filter((m) => !hinted.has(m.manifest_path)));
  if (found.size < wanted.size) {
    const gone = [...wanted].find((p) => !found.has(p));
    throw new ConflictError(
      `cannot commit ${change.operation}: data file ${gone} was removed by a concurrent commit`,
      'run the operation again on the current table state',
    );
  }
  const manifests: ManifestFile[] = [];
  const written: string[] = [];
  const writes: Promise<void>[] = [];
  const encoded: { path: string; bytes: Uint8Array }[] = [];
  for (const m of kept) {
    const entries = hits.get(m.manifest_path);
    if (!entries) {
      manifests.push(m);
      continue;
    }
    const next: ManifestEntry[] = [];
    for (const e of entries) {
      if (e.status === 2) continue;
      const removed = wanted.has(e.data_file.file_path);
      next.push({ ...e, status: removed ? 2 : 0, snapshot_id: removed ? snapshotId : e.snapshot_id });
    }
    const spec = specById(md, m.partition_spec_id);
    const { file, bytes } = await io.encodeManifest(md, next, {
      schema: schemaForSpec(md, spec),
      spec,
      snapshotId,
    });
    const write = io.put(file.manifest_path, bytes, change.signal);
    write.catch(() => {}); // awaited with the commit's other writes
    writes.push(write);
    encoded.push({ path: file.manifest_path, bytes });
    written.push(file.manifest_path);
    manifests.push(file);
  }
  return { manifests, written, bytes: encoded, writes };
}

function backoffMs(attempt: number): number {
  const cap = Math.min(2000, 20 * 2 ** attempt);
  return cap / 2 + Math.random() * (cap / 2);
}

/**
 * Commit a change as one snapshot on `main`, rebasing and retrying (with jittered backoff)
 * when other writers commit first.
 * @throws ConflictError when a removed file is gone, the change's validation fails, or the
 * table stays too busy; the change's own new files are deleted then.
 */
export async function commitSnapshot(ctx: TableContext, change: SnapshotChange): Promise<CommitResult> {
  const io = ctx.io;
  let md = ctx.loaded.metadata;
  const snapshotId = newSnapshotId(md);
  let addedManifest: ManifestFile | undefined;
  let addedBytes: Uint8Array | undefined;
  /** The added manifest's write, until the first attempt's commit waits for it. */
  let manifestWrite: Promise<void> | undefined;
  const cleanupAll: string[] = [];
  try {
    if (change.added.length > 0) {
      const encoded = await io.encodeManifest(md, addedEntries(change.added), {
        schema: change.schema,
        spec: change.spec,
        snapshotId,
      });
      addedManifest = encoded.file;
      addedBytes = encoded.bytes;
      cleanupAll.push(addedManifest.manifest_path);
      manifestWrite = io.put(addedManifest.manifest_path, encoded.bytes, change.signal);
      manifestWrite.catch(() => {}); // awaited below; this only marks it handled meanwhile
    }
    for (let attempt = 1; ; attempt++) {
      change.signal?.throwIfAborted();
      const evolve = change.newSchema;
      if (
        evolve &&
        (md['current-schema-id'] !== evolve.baseSchemaId || md['last-column-id'] !== evolve.baseLastColumnId)
      ) {
        throw new ConflictError(
          `cannot commit ${change.operation}: the table's schema was changed by a concurrent commit`,
          'run the operation again on the current table state',
        );
      }
      const parent = currentSnapshot(md);
      const parentId = parent ? parent['snapshot-id'] : null;
      if (parentId !== change.baseSnapshotId && (change.validate || change.removed.length > 0)) {
        const added = await concurrentlyAdded(io, md, change.baseSnapshotId, change.signal);
        if (added === 'lineage-lost') {
          throw new ConflictError(
            `cannot commit ${change.operation}: the table was rolled back or replaced since snapshot ${change.baseSnapshotId}`,
            'run the operation again on the current table state',
          );
        }
        change.validate?.(added);
      }
      const parentManifests = parent ? await io.manifestList(parent, change.signal) : [];
      const rebased = await rebaseRemovals(io, md, parentManifests, change, snapshotId);
      const manifests = addedManifest ? [addedManifest, ...rebased.manifests] : rebased.manifests;
      const sequenceNumber = md['last-sequence-number'] + 1;
      const list = await io.encodeManifestList(md, manifests, { snapshotId, parentId, sequenceNumber });
      const listPath = list.uri;
      // The manifest, the manifest list and (in the catalog) the metadata file are written and
      // flushed at the same time; the catalog swaps its pointer only after all are durable.
      const pending = Promise.all([
        manifestWrite,
        ...rebased.writes,
        io.put(listPath, list.bytes, change.signal),
      ]);
      pending.catch(() => {}); // awaited below; this only marks it handled meanwhile
      manifestWrite = undefined;
      const attemptFiles = [listPath, ...rebased.written];
      const snapshot: Snapshot = {
        'snapshot-id': snapshotId,
        'sequence-number': sequenceNumber,
        'timestamp-ms': Math.max(Date.now(), md['last-updated-ms']),
        'manifest-list': listPath,
        summary: snapshotSummary(change, manifests, parent, md),
        'schema-id': evolve ? schemaIdFor(md, change.schema) : md['current-schema-id'],
      };
      if (parentId !== null) snapshot['parent-snapshot-id'] = parentId;
      try {
        const requirements: TableRequirement[] = change.create
          ? [{ type: 'assert-create' }]
          : [{ type: 'assert-ref-snapshot-id', ref: MAIN_BRANCH, 'snapshot-id': parentId }];
        const updates: TableUpdate[] = change.create ? [...change.create] : [];
        if (evolve) {
          requirements.push(
            { type: 'assert-current-schema-id', 'current-schema-id': evolve.baseSchemaId },
            { type: 'assert-last-assigned-field-id', 'last-assigned-field-id': evolve.baseLastColumnId },
          );
          updates.push(
            { action: 'add-schema', schema: change.schema, 'last-column-id': evolve.lastColumnId },
            { action: 'set-current-schema', 'schema-id': -1 },
          );
        }
        const committing = ctx.catalog.commitTable(
          ctx.id,
          requirements,
          [
            ...updates,
            { action: 'add-snapshot', snapshot },
            {
              action: 'set-snapshot-ref',
              'ref-name': MAIN_BRANCH,
              type: 'branch',
              'snapshot-id': snapshotId,
            },
          ],
          { pending },
        );
        // Also waited for here, for catalogs that only stage the commit (and ignore `pending`).
        [ctx.loaded] = await Promise.all([committing, pending]);
      } catch (err) {
        await pending.catch(() => {});
        if (!(err instanceof ConflictError)) throw err;
        await io.deleteFiles(attemptFiles).catch(() => {});
        if (change.create) throw err;
        if (attempt >= MAX_COMMIT_ATTEMPTS) {
          throw new ConflictError(
            `cannot commit ${change.operation} after ${attempt} attempts: other writers keep committing`,
            'retry later or reduce the number of concurrent writers',
            { cause: err },
          );
        }
        await sleep(backoffMs(attempt));
        ctx.loaded = await ctx.catalog.loadTable(ctx.id);
        md = ctx.loaded.metadata;
        continue;
      }
      const committed =
        ctx.loaded.metadata.snapshots.find((s) => s['snapshot-id'] === snapshotId) ?? snapshot;
      // Readers of the new snapshot find its files decoded already (a failure only costs a read).
      await io
        .remember(listPath, list.bytes, [
          ...(addedManifest && addedBytes ? [{ path: addedManifest.manifest_path, bytes: addedBytes }] : []),
          ...rebased.bytes,
        ])
        .catch(() => {});
      return {
        snapshot: committed,
        attempts: attempt,
        addedFiles: change.added.length,
        removedFiles: change.removed.length,
        addedRecords: change.added.reduce((n, f) => n + f.record_count, 0),
        removedRecords: change.removed.reduce((n, r) => n + r.entry.data_file.record_count, 0),
      };
    }
  } catch (err) {
    await manifestWrite?.catch(() => {});
    if (err instanceof ConflictError || (err instanceof Error && err.name === 'AbortError')) {
      await io.deleteFiles([...cleanupAll, ...change.added.map((f) => f.file_path)]).catch(() => {});
    }
    throw err;
  }
}
