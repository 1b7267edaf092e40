/**
 * The manifest list entry of a written manifest: entry and row counts, the minimum data
 * sequence number, and per-partition-field summaries (null/NaN flags and bounds in binary
 * single-value form).
 */
import { compareValues } from '../bounds.js';
import { bindPartitionSpec } from '../partition.js';
import type {
  FieldSummary,
  ManifestEntry,
  ManifestFile,
  PartitionSpec,
  PrimitiveValue,
  Schema,
} from '../types.js';
import { toBinary } from '../values.js';
import { UNASSIGNED_SEQUENCE_NUMBER } from './manifest-list.js';

/** Partition field summaries of the entries of one manifest, in spec field order. */
export function partitionSummaries(
  entries: readonly ManifestEntry[],
  spec: PartitionSpec,
  schema: Schema,
): FieldSummary[] {
  return bindPartitionSpec(spec, schema).map((b) => {
    let containsNull = false;
    let containsNan = false;
    let lower: PrimitiveValue | undefined;
    let upper: PrimitiveValue | undefined;
    for (const e of entries) {
      const v = e.data_file.partition[b.field.name] ?? null;
      if (v === null) containsNull = true;
      else if (typeof v === 'number' && Number.isNaN(v)) containsNan = true;
      else {
        if (lower === undefined || compareValues(b.resultType, v, lower) < 0) lower = v;
        if (upper === undefined || compareValues(b.resultType, v, upper) > 0) upper = v;
      }
    }
    return {
      contains_null: containsNull,
      contains_nan: containsNan,
      lower_bound: lower === undefined ? null : toBinary(b.resultType, lower),
      upper_bound: upper === undefined ? null : toBinary(b.resultType, upper),
    };
  });
}

/** What `manifestFileFor` needs besides the entries. */
export interface ManifestFileInput {
  path: string;
  length: number;
  spec: PartitionSpec;
  schema: Schema;
  /** The snapshot that writes the manifest. */
  snapshotId: bigint;
  content: 'data' | 'deletes';
  /** Known sequence number; default unassigned (set when the manifest list is written). */
  sequenceNumber?: number;
}

/** The manifest list entry describing a manifest written with `encodeManifest`. */
export function manifestFileFor(entries: readonly ManifestEntry[], input: ManifestFileInput): ManifestFile {
  const files = [0, 0, 0];
  const rows = [0, 0, 0];
  let minSeq: number | undefined;
  for (const e of entries) {
    files[e.status] = (files[e.status] as number) + 1;
    rows[e.status] = (rows[e.status] as number) + e.data_file.record_count;
    if (e.status !== 2 && e.sequence_number !== null)
      minSeq = Math.min(minSeq ?? e.sequence_number, e.sequence_number);
  }
  const [existing, added, deleted] = [0, 1, 2].map((i) => [files[i] as number, rows[i] as number]) as [
    [number, number],
    [number, number],
    [number, number],
  ];
  return {
    manifest_path: input.path,
    manifest_length: input.length,
    partition_spec_id: input.spec['spec-id'],
    content: input.content === 'deletes' ? 1 : 0,
    sequence_number: input.sequenceNumber ?? UNASSIGNED_SEQUENCE_NUMBER,
    min_sequence_number: minSeq ?? input.sequenceNumber ?? UNASSIGNED_SEQUENCE_NUMBER,
    added_snapshot_id: input.snapshotId,
    added_files_count: added[0],
    existing_files_count: existing[0],
    deleted_files_count: deleted[0],
    added_rows_count: added[1],
    existing_rows_count: existing[1],
    deleted_rows_count: deleted[1],
    partitions: partitionSummaries(entries, input.spec, input.schema),
    key_metadata: null,
  };
}
