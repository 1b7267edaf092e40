/**
 * Manifest lists (spec "Manifest Lists"): one Avro file per snapshot listing its manifests,
 * with metadata `snapshot-id`, `parent-snapshot-id`, `sequence-number`, `format-version`.
 */
import { InvalidInputError } from '../../util/index.js';
import type { FieldSummary, ManifestContent, ManifestFile } from '../types.js';
import { toBigInt, toNumber, valueById, WriterSchema } from './by-id.js';
import { type AvroCodec, readContainer, writeContainer } from './container.js';
import { manifestFileSchema } from './schemas.js';

/** Sequence number of a manifest written before its snapshot's sequence number is known. */
export const UNASSIGNED_SEQUENCE_NUMBER = -1;

/** Metadata of a manifest list file. */
export interface ManifestListMeta {
  snapshotId: bigint;
  parentSnapshotId: bigint | null;
  sequenceNumber: number;
  formatVersion: 2;
  codec?: AvroCodec;
}

/** A decoded manifest list. */
export interface DecodedManifestList {
  files: ManifestFile[];
  snapshotId: bigint | null;
  parentSnapshotId: bigint | null;
  sequenceNumber: number;
  formatVersion: number;
  avroSchema: unknown;
}

const buf = (v: Uint8Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

function assigned(value: number, file: ManifestFile, meta: ManifestListMeta): number {
  if (value !== UNASSIGNED_SEQUENCE_NUMBER) return value;
  if (file.added_snapshot_id !== meta.snapshotId) {
    throw new InvalidInputError(
      `manifest ${file.manifest_path} from snapshot ${file.added_snapshot_id} has no sequence number`,
    );
  }
  return meta.sequenceNumber;
}

/**
 * Encode a v2 manifest list. Manifests added by this snapshot may carry
 * `UNASSIGNED_SEQUENCE_NUMBER`; they get the snapshot's sequence number here.
 * @throws InvalidInputError when an older manifest lacks a sequence number.
 */
export async function encodeManifestList(
  files: readonly ManifestFile[],
  meta: ManifestListMeta,
): Promise<Buffer> {
  if (meta.formatVersion !== 2)
    throw new InvalidInputError(`cannot write manifest lists for format version ${meta.formatVersion}`);
  const records = files.map((f) => ({
    manifest_path: f.manifest_path,
    manifest_length: BigInt(f.manifest_length),
    partition_spec_id: f.partition_spec_id,
    content: f.content,
    sequence_number: BigInt(assigned(f.sequence_number, f, meta)),
    min_sequence_number: BigInt(assigned(f.min_sequence_number, f, meta)),
    added_snapshot_id: f.added_snapshot_id,
    added_files_count: count(f, 'added_files_count'),
    existing_files_count: count(f, 'existing_files_count'),
    deleted_files_count: count(f, 'deleted_files_count'),
    added_rows_count: rows(f, 'added_rows_count'),
    existing_rows_count: rows(f, 'existing_rows_count'),
    deleted_rows_count: rows(f, 'deleted_rows_count'),
    partitions:
      f.partitions?.map((p) => ({
        contains_null: p.contains_null,
        contains_nan: p.contains_nan ?? null,
        lower_bound: p.lower_bound ? buf(p.lower_bound) : null,
        upper_bound: p.upper_bound ? buf(p.upper_bound) : null,
      })) ?? null,
    key_metadata: f.key_metadata ? buf(f.key_metadata) : null,
  }));
  const metadata = {
    'snapshot-id': String(meta.snapshotId),
    'parent-snapshot-id': meta.parentSnapshotId === null ? 'null' : String(meta.parentSnapshotId),
    'sequence-number': String(meta.sequenceNumber),
    'format-version': '2',
  };
  return writeContainer(manifestFileSchema(), records, metadata, meta.codec);
}

const optionalCount = (v: unknown) => (v === null ? null : toNumber(v));

function count(
  f: ManifestFile,
  key: 'added_files_count' | 'existing_files_count' | 'deleted_files_count',
): number {
  const v = f[key];
  if (v === null) throw new InvalidInputError(`manifest ${f.manifest_path}: ${key} is required in format v2`);
  return v;
}

function rows(
  f: ManifestFile,
  key: 'added_rows_count' | 'existing_rows_count' | 'deleted_rows_count',
): bigint {
  const v = f[key];
  if (v === null) throw new InvalidInputError(`manifest ${f.manifest_path}: ${key} is required in format v2`);
  return BigInt(v);
}

/**
 * Decode a manifest list written by any implementation (fields read by field id). For v1
 * lists, sequence numbers and content default to 0 and missing counts are null (unknown).
 */
export function decodeManifestList(data: Buffer): DecodedManifestList {
  const file = readContainer(data);
  const w = new WriterSchema(file.schema);
  const fields = w.fieldsById(file.schema);
  const summaryType = w.resolve(fields.get(507)?.type) as { items?: unknown } | undefined;
  const summaryFields = summaryType?.items ? w.fieldsById(summaryType.items) : new Map();
  const files = file.records.map((rec): ManifestFile => {
    const get = (id: number) => valueById(rec, fields, id);
    const partitions = get(507) as unknown[] | null;
    return {
      manifest_path: get(500) as string,
      manifest_length: toNumber(get(501)),
      partition_spec_id: toNumber(get(502)),
      content: toNumber(get(517) ?? 0) as ManifestContent,
      sequence_number: toNumber(get(515) ?? 0),
      min_sequence_number: toNumber(get(516) ?? 0),
      added_snapshot_id: toBigInt(get(503)) as bigint,
      added_files_count: optionalCount(get(504)),
      existing_files_count: optionalCount(get(505)),
      deleted_files_count: optionalCount(get(506)),
      added_rows_count: optionalCount(get(512)),
      existing_rows_count: optionalCount(get(513)),
      deleted_rows_count: optionalCount(get(514)),
      partitions:
        partitions?.map(
          (p): FieldSummary => ({
            contains_null: valueById(p, summaryFields, 509) as boolean,
            contains_nan: valueById(p, summaryFields, 518) as boolean | null,
            lower_bound: valueById(p, summaryFields, 510) as Buffer | null,
            upper_bound: valueById(p, summaryFields, 511) as Buffer | null,
          }),
        ) ?? null,
      key_metadata: (get(519) as Buffer | null) ?? null,
    };
  });
  const md = file.metadata;
  const id = (v: string | undefined) => (v === undefined || v === 'null' ? null : BigInt(v));
  return {
    files,
    snapshotId: id(md['snapshot-id']),
    parentSnapshotId: id(md['parent-snapshot-id']),
    sequenceNumber: Number(md['sequence-number'] ?? 0),
    formatVersion: Number(md['format-version'] ?? 1),
    avroSchema: file.schema,
  };
}
