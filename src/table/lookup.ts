/** Lookups in table metadata: snapshots by id, branch or tag, time (time travel) and lineage; schemas, specs, sort orders. */
import { NotFoundError } from '../util/index.js';
import type { PartitionSpec, Schema, Snapshot, SortOrder, TableMetadata } from './types.js';

/** The snapshot with the given id, or undefined. */
export function snapshotById(md: TableMetadata, id: bigint): Snapshot | undefined {
  return md.snapshots.find((s) => s['snapshot-id'] === id);
}

/** The current snapshot (head of `main`), or undefined for an empty table. */
export function currentSnapshot(md: TableMetadata): Snapshot | undefined {
  return md['current-snapshot-id'] === null ? undefined : snapshotById(md, md['current-snapshot-id']);
}

/** The snapshot a branch or tag points to, or undefined when the ref does not exist. */
export function snapshotByRef(md: TableMetadata, name: string): Snapshot | undefined {
  const ref = md.refs[name];
  return ref ? snapshotById(md, ref['snapshot-id']) : undefined;
}

/**
 * The snapshot that was current at `timestampMs`, from the snapshot log (spec Appendix F,
 * "Point in Time Reads"): the last log entry at or before the time.
 * @throws NotFoundError when the table had no current snapshot at that time.
 */
export function snapshotAsOf(md: TableMetadata, timestampMs: number): Snapshot {
  let found: bigint | undefined;
  for (const entry of md['snapshot-log']) {
    if (entry['timestamp-ms'] <= timestampMs) found = entry['snapshot-id'];
  }
  const snap = found === undefined ? undefined : snapshotById(md, found);
  if (!snap) {
    const first = md['snapshot-log'][0];
    throw new NotFoundError(
      `no snapshot of the table was current at ${new Date(timestampMs).toISOString()}`,
      first
        ? `the oldest snapshot in the log is from ${new Date(first['timestamp-ms']).toISOString()}`
        : 'the table has no snapshot history',
    );
  }
  return snap;
}

/** The snapshot with the given id followed by its ancestors, newest first, as far as they are retained. */
export function ancestorsOf(md: TableMetadata, id: bigint): Snapshot[] {
  const out: Snapshot[] = [];
  const seen = new Set<bigint>();
  let cur = snapshotById(md, id);
  while (cur && !seen.has(cur['snapshot-id'])) {
    out.push(cur);
    seen.add(cur['snapshot-id']);
    const parent = cur['parent-snapshot-id'];
    cur = parent === undefined ? undefined : snapshotById(md, parent);
  }
  return out;
}

/** Whether `ancestorId` is `id` or one of its retained ancestors. */
export function isAncestorOf(md: TableMetadata, id: bigint, ancestorId: bigint): boolean {
  return ancestorsOf(md, id).some((s) => s['snapshot-id'] === ancestorId);
}

/** The table's current schema. */
export function currentSchema(md: TableMetadata): Schema {
  return schemaById(md, md['current-schema-id']);
}

/** The schema with the given id. @throws NotFoundError if absent. */
export function schemaById(md: TableMetadata, id: number): Schema {
  const s = md.schemas.find((x) => x['schema-id'] === id);
  if (!s) throw new NotFoundError(`schema ${id} is not in the table metadata`);
  return s;
}

/** The schema a snapshot was written with (its `schema-id`, else the current schema). */
export function schemaForSnapshot(md: TableMetadata, snapshot: Snapshot): Schema {
  const id = snapshot['schema-id'];
  return id === undefined ? currentSchema(md) : schemaById(md, id);
}

/** The partition spec with the given id. @throws NotFoundError if absent. */
export function specById(md: TableMetadata, id: number): PartitionSpec {
  const s = md['partition-specs'].find((x) => x['spec-id'] === id);
  if (!s) throw new NotFoundError(`partition spec ${id} is not in the table metadata`);
  return s;
}

/** The default partition spec (used for new data). */
export function defaultSpec(md: TableMetadata): PartitionSpec {
  return specById(md, md['default-spec-id']);
}

/** The default sort order (used for new data). */
export function defaultSortOrder(md: TableMetadata): SortOrder {
  const o = md['sort-orders'].find((x) => x['order-id'] === md['default-sort-order-id']);
  if (!o) throw new NotFoundError(`sort order ${md['default-sort-order-id']} is not in the table metadata`);
  return o;
}
