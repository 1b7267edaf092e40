/**
 * Table maintenance: compaction of small files (a `replace` snapshot with the same rows),
 * snapshot expiry with deletion of the files only expired snapshots used, removal of orphan
 * files (never referenced by any metadata, e.g. left by crashed writes), and manifest rewrites.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, InvalidInputError } from '../util/index.js';
import { mapLimit } from './io.js';
import { ancestorsOf, currentSchema, defaultSpec, specById } from './lookup.js';
import { MAIN_BRANCH, newSnapshotId } from './metadata.js';
import { type PlannedFile, planScan } from './scan.js';
import { scanSql } from './scan-sql.js';
import { type CommitResult, commitSnapshot, schemaForSpec, type TableContext } from './table-commit.js';
import { checkFilter, writeCurrent } from './table-ops.js';
import { snapshotSummary } from './table-summary.js';
import type { DataFile, ManifestEntry, ManifestFile, Snapshot, TableMetadata } from './types.js';
import { targetFileSize } from './writer.js';

const DAY_MS = 24 * 3600_000;

/** Options of `compact`. */
export interface CompactOptions {
  /** Size of output files (default: the table's target file size). */
  targetFileSizeBytes?: number;
  /** Only compact files that may hold rows matching this SQL predicate. */
  where?: string;
  /** Files smaller than this are compacted (default 75% of the target). */
  smallFileBytes?: number;
  signal?: AbortSignal;
}

/** What `compact` did; `commit` is undefined when there was nothing to compact. */
export interface CompactResult {
  rewrittenFiles: number;
  addedFiles: number;
  commit?: CommitResult;
}

function groupKey(f: PlannedFile): string {
  return `${f.specId}:${JSON.stringify(f.file.partition, (_k, v) =>
    typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
  )}`;
}

/** Bins of small files per partition, each bin at most about `target` bytes and of two files or more. */
function binPack(files: readonly PlannedFile[], small: number, target: number): PlannedFile[][] {
  const groups = new Map<string, PlannedFile[]>();
  for (const f of files) {
    if (f.file.file_size_in_bytes >= small && f.deletes.length === 0) continue;
    const k = groupKey(f);
    groups.set(k, [...(groups.get(k) ?? []), f]);
  }
  const bins: PlannedFile[][] = [];
  for (const group of groups.values()) {
    group.sort((a, b) => b.file.file_size_in_bytes - a.file.file_size_in_bytes);
    let bin: PlannedFile[] = [];
    let size = 0;
    for (const f of group) {
      if (bin.length > 0 && size + f.file.file_size_in_bytes > target) {
        bins.push(bin);
        bin = [];
        size = 0;
      }
      bin.push(f);
      size += f.file.file_size_in_bytes;
    }
    if (bin.length > 0) bins.push(bin);
  }
  return bins.filter((b) => b.length > 1 || b.some((f) => f.deletes.length > 0));
}

/** Rewrite small files into files near the target size, per partition, as one `replace` snapshot. */
export async function compact(ctx: TableContext, o: CompactOptions = {}): Promise<CompactResult> {
  const md = ctx.loaded.metadata;
  const target = o.targetFileSizeBytes ?? targetFileSize(md);
  const small = o.smallFileBytes ?? Math.floor(target * 0.75);
  const { bins, added } = await ctx.duck.withConnection(async (conn) => {
    if (o.where?.trim()) await checkFilter(conn, md, o.where, o.signal);
    const plan = await planScan(ctx.io, md, { filter: o.where, signal: o.signal, conn });
    const bins = binPack(plan.files, small, target);
    const added: DataFile[] = [];
    try {
      for (const bin of bins) {
        const sql = scanSql({ ...plan, files: bin }, { applyFilter: false });
        added.push(
          ...(await writeCurrent(conn, ctx, sql, { targetFileSizeBytes: target, signal: o.signal })).files,
        );
      }
    } catch (err) {
      await ctx.io.deleteFiles(added.map((f) => f.file_path)).catch(() => {});
      throw err;
    }
    return { bins, added };
  }, o);
  const removed = bins.flat();
  if (removed.length === 0) return { rewrittenFiles: 0, addedFiles: 0 };
  const commit = await commitSnapshot(ctx, {
    operation: 'replace',
    added,
    schema: currentSchema(md),
    spec: defaultSpec(md),
    removed: removed.map((f) => f.live),
    baseSnapshotId: md['current-snapshot-id'],
    signal: o.signal,
  });
  return { rewrittenFiles: removed.length, addedFiles: added.length, commit };
}

/** Every file the given snapshots reference: manifest lists, manifests, data and delete files. */
export async function reachableFiles(
  ctx: Pick<TableContext, 'io'>,
  snapshots: readonly Snapshot[],
  signal?: AbortSignal,
): Promise<Set<string>> {
  const out = new Set<string>();
  const manifests = new Map<string, ManifestFile>();
  for (const s of snapshots) {
    out.add(s['manifest-list']);
    for (const m of await ctx.io.manifestList(s, signal)) manifests.set(m.manifest_path, m);
  }
  const all = [...manifests.values()];
  const entries = await mapLimit(all, 16, (m) => ctx.io.manifestEntries(m, signal));
  all.forEach((m, i) => {
    out.add(m.manifest_path);
    for (const e of entries[i] ?? []) out.add(e.data_file.file_path);
  });
  return out;
}

/** Options of `expireSnapshots`. */
export interface ExpireOptions {
  /** Expire snapshots older than this age (default 5 days). */
  olderThanMs?: number;
  /** Always keep this many of the newest snapshots of `main` (default 1). */
  retainLast?: number;
  signal?: AbortSignal;
}

/** What `expireSnapshots` removed. */
export interface ExpireResult {
  expiredSnapshotIds: bigint[];
  deletedFiles: number;
}

function snapshotsToExpire(md: TableMetadata, o: ExpireOptions): bigint[] {
  const cutoff = Date.now() - (o.olderThanMs ?? 5 * DAY_MS);
  const keep = new Set<bigint>();
  if (md['current-snapshot-id'] !== null) {
    for (const s of ancestorsOf(md, md['current-snapshot-id']).slice(0, Math.max(1, o.retainLast ?? 1)))
      keep.add(s['snapshot-id']);
  }
  for (const ref of Object.values(md.refs)) keep.add(ref['snapshot-id']);
  return md.snapshots
    .filter((s) => !keep.has(s['snapshot-id']) && s['timestamp-ms'] < cutoff)
    .map((s) => s['snapshot-id']);
}

/**
 * Iceberg's `gc.enabled=false`: the table's files may be shared with another table, so
 * nothing deletes them by reachability. @throws InvalidInputError
 */
function assertGcEnabled(ctx: TableContext, operation: string): void {
  if (ctx.loaded.metadata.properties['gc.enabled']?.toLowerCase() === 'false')
    throw new InvalidInputError(
      `cannot ${operation}: gc.enabled is false on this table (its files may be used by another table)`,
      'drop the table instead, or set gc.enabled=true if no other table uses its files',
    );
}

/** Remove old snapshots (never the current one or the head of a ref) and delete files nothing else uses. */
export async function expireSnapshots(ctx: TableContext, o: ExpireOptions = {}): Promise<ExpireResult> {
  assertGcEnabled(ctx, 'expire snapshots');
  for (let attempt = 1; ; attempt++) {
    const md = ctx.loaded.metadata;
    const expired = snapshotsToExpire(md, o);
    if (expired.length === 0) return { expiredSnapshotIds: [], deletedFiles: 0 };
    const gone = new Set(expired);
    const before = await reachableFiles(
      ctx,
      md.snapshots.filter((s) => gone.has(s['snapshot-id'])),
      o.signal,
    );
    try {
      ctx.loaded = await ctx.catalog.commitTable(
        ctx.id,
        [{ type: 'assert-ref-snapshot-id', ref: MAIN_BRANCH, 'snapshot-id': md['current-snapshot-id'] }],
        [{ action: 'remove-snapshots', 'snapshot-ids': expired }],
      );
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= 5) throw err;
      await sleep(20 * attempt);
      ctx.loaded = await ctx.catalog.loadTable(ctx.id);
      continue;
    }
    const after = await reachableFiles(ctx, ctx.loaded.metadata.snapshots, o.signal);
    const doomed = [...before].filter((f) => !after.has(f));
    await ctx.io.deleteFiles(doomed, o.signal);
    return { expiredSnapshotIds: expired, deletedFiles: doomed.length };
  }
}

/** Options of `removeOrphanFiles`. */
export interface OrphanOptions {
  /** Only delete files older than this age (default 3 days), so that writes in progress are safe. */
  olderThanMs?: number;
  /** List what would be deleted without deleting. */
  dryRun?: boolean;
  signal?: AbortSignal;
}

/** Orphan files found (and deleted unless dry run). */
export interface OrphanResult {
  orphanFiles: string[];
}

/** Delete files under the table location that no retained metadata references. */
export async function removeOrphanFiles(ctx: TableContext, o: OrphanOptions = {}): Promise<OrphanResult> {
  assertGcEnabled(ctx, 'remove orphan files');
  const md = ctx.loaded.metadata;
  const cutoff = Date.now() - (o.olderThanMs ?? 3 * DAY_MS);
  const referenced = await reachableFiles(ctx, md.snapshots, o.signal);
  referenced.add(ctx.loaded.metadataLocation);
  for (const e of md['metadata-log']) referenced.add(e['metadata-file']);
  for (const s of md.statistics) referenced.add(s['statistics-path']);
  for (const s of md['partition-statistics']) referenced.add(s['statistics-path']);
  const referencedKeys = new Set<string>();
  for (const uri of referenced) {
    try {
      referencedKeys.add(ctx.io.keyOf(uri));
    } catch {}
  }
  const prefix = `${ctx.io.keyOf(md.location)}/`;
  const orphans: string[] = [];
  for await (const obj of ctx.io.store.list(prefix, { signal: o.signal })) {
    if (referencedKeys.has(obj.key) || obj.lastModified.getTime() >= cutoff) continue;
    orphans.push(obj.key);
  }
  if (!o.dryRun && orphans.length > 0) await ctx.io.store.delete(orphans, { signal: o.signal });
  return { orphanFiles: orphans.map((k) => ctx.io.uriOf(k)) };
}

/** Merge the data manifests of the current snapshot into one per spec, as a `replace` snapshot. */
export async function rewriteManifests(
  ctx: TableContext,
  o: { signal?: AbortSignal } = {},
): Promise<CommitResult | undefined> {
  for (let attempt = 1; ; attempt++) {
    const md = ctx.loaded.metadata;
    const parent =
      md['current-snapshot-id'] === null
        ? undefined
        : md.snapshots.find((s) => s['snapshot-id'] === md['current-snapshot-id']);
    if (!parent) return undefined;
    const manifests = await ctx.io.manifestList(parent, o.signal);
    const data = manifests.filter((m) => m.content === 0);
    const specs = new Set(data.map((m) => m.partition_spec_id));
    if (data.length <= specs.size && data.every((m) => (m.deleted_files_count ?? 0) === 0)) return undefined;
    const snapshotId = newSnapshotId(md);
    const written: string[] = [];
    const next: ManifestFile[] = manifests.filter((m) => m.content !== 0);
    for (const specId of specs) {
      const entries: ManifestEntry[] = [];
      for (const m of data.filter((x) => x.partition_spec_id === specId)) {
        for (const e of await ctx.io.manifestEntries(m, o.signal))
          if (e.status !== 2) entries.push({ ...e, status: 0 });
      }
      const spec = specById(md, specId);
      const mf = await ctx.io.writeManifest(md, entries, {
        schema: schemaForSpec(md, spec),
        spec,
        snapshotId,
        signal: o.signal,
      });
      written.push(mf.manifest_path);
      next.unshift(mf);
    }
    const sequenceNumber = md['last-sequence-number'] + 1;
    const list = await ctx.io.writeManifestList(md, next, {
      snapshotId,
      parentId: parent['snapshot-id'],
      sequenceNumber,
      signal: o.signal,
    });
    written.push(list);
    const snapshot: Snapshot = {
      'snapshot-id': snapshotId,
      'parent-snapshot-id': parent['snapshot-id'],
      'sequence-number': sequenceNumber,
      'timestamp-ms': Math.max(Date.now(), md['last-updated-ms']),
      'manifest-list': list,
      summary: {
        ...snapshotSummary(
          { operation: 'replace', added: [], removed: [], spec: defaultSpec(md) },
          next,
          parent,
          md,
        ),
        'manifests-created': String(specs.size),
        'manifests-replaced': String(data.length),
      },
      'schema-id': md['current-schema-id'],
    };
    try {
      ctx.loaded = await ctx.catalog.commitTable(
        ctx.id,
        [{ type: 'assert-ref-snapshot-id', ref: MAIN_BRANCH, 'snapshot-id': parent['snapshot-id'] }],
        [
          { action: 'add-snapshot', snapshot },
          { action: 'set-snapshot-ref', 'ref-name': MAIN_BRANCH, type: 'branch', 'snapshot-id': snapshotId },
        ],
      );
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      await ctx.io.deleteFiles(written).catch(() => {});
      if (attempt >= 5) throw err;
      await sleep(20 * attempt);
      ctx.loaded = await ctx.catalog.loadTable(ctx.id);
      continue;
    }
    return {
      snapshot,
      attempts: attempt,
      addedFiles: 0,
      removedFiles: 0,
      addedRecords: 0,
      removedRecords: 0,
    };
  }
}
