/**
 * Snapshot summaries (spec "Optional Snapshot Summary Fields"): what the snapshot added and
 * removed, and the table totals after it. Totals of files and records come from the manifest
 * list counts of the new snapshot, so they are exact even when a parent summary lacks them.
 */
import type { LiveEntry } from './io.js';
import type {
  DataFile,
  ManifestFile,
  Snapshot,
  SnapshotOperation,
  SnapshotSummary,
  TableMetadata,
} from './types.js';

/** The parts of a change the summary describes. */
export interface SummaryInput {
  operation: SnapshotOperation;
  added: readonly DataFile[];
  removed: readonly LiveEntry[];
  properties?: Record<string, string>;
}

function partitionKey(specId: number, f: DataFile): string {
  return `${specId}:${JSON.stringify(f.partition, (_k, v) =>
    typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
  )}`;
}

function parentTotal(parent: Snapshot | undefined, key: string): number | undefined {
  if (!parent) return 0;
  const v = parent.summary[key];
  return v === undefined ? undefined : Number(v);
}

/** The summary of a snapshot whose manifest list is `manifests`. */
export function snapshotSummary(
  change: SummaryInput & { spec: { 'spec-id': number } },
  manifests: readonly ManifestFile[],
  parent: Snapshot | undefined,
  _md: TableMetadata,
): SnapshotSummary {
  const addedSize = change.added.reduce((n, f) => n + f.file_size_in_bytes, 0);
  const removedSize = change.removed.reduce((n, r) => n + r.entry.data_file.file_size_in_bytes, 0);
  const partitions = new Set<string>();
  for (const f of change.added) partitions.add(partitionKey(change.spec['spec-id'], f));
  for (const r of change.removed)
    partitions.add(partitionKey(r.manifest.partition_spec_id, r.entry.data_file));
  let dataFiles = 0;
  let records = 0;
  let deleteFiles = 0;
  for (const m of manifests) {
    const files = (m.added_files_count ?? 0) + (m.existing_files_count ?? 0);
    if (m.content === 0) {
      dataFiles += files;
      records += (m.added_rows_count ?? 0) + (m.existing_rows_count ?? 0);
    } else deleteFiles += files;
  }
  const summary: SnapshotSummary = { ...(change.properties ?? {}), operation: change.operation };
  const set = (k: string, v: number | undefined) => {
    if (v !== undefined) summary[k] = String(v);
  };
  if (change.added.length > 0) {
    set('added-data-files', change.added.length);
    set(
      'added-records',
      change.added.reduce((n, f) => n + f.record_count, 0),
    );
    set('added-files-size', addedSize);
  }
  if (change.removed.length > 0) {
    set('deleted-data-files', change.removed.length);
    set(
      'deleted-records',
      change.removed.reduce((n, r) => n + r.entry.data_file.record_count, 0),
    );
    set('removed-files-size', removedSize);
  }
  set('changed-partition-count', partitions.size);
  set('total-data-files', dataFiles);
  set('total-records', records);
  const parentSize = parentTotal(parent, 'total-files-size');
  set('total-files-size', parentSize === undefined ? undefined : parentSize + addedSize - removedSize);
  set('total-delete-files', deleteFiles);
  set('total-position-deletes', deleteFiles === 0 ? 0 : parentTotal(parent, 'total-position-deletes'));
  set('total-equality-deletes', deleteFiles === 0 ? 0 : parentTotal(parent, 'total-equality-deletes'));
  return summary;
}
