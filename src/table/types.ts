/**
 * Iceberg format v2 structures. JSON structures keep the spec's kebab-case keys verbatim
 * (Appendix C) so metadata round-trips and the REST catalog can pass them through;
 * Avro structures (manifests, manifest lists) keep the spec's snake_case field names.
 * Every snapshot id is a `bigint`: other engines generate ids above 2^53.
 */

/** A JSON value as parsed by `parseJson`: integers outside the safe range are bigints. */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Primitive type names as serialized in schema JSON (Appendix C). */
export type PrimitiveType =
  | 'boolean'
  | 'int'
  | 'long'
  | 'float'
  | 'double'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'string'
  | 'uuid'
  | 'binary'
  | `decimal(${number},${number})`
  | `fixed[${number}]`;

/** A field of a struct (or of the top-level schema). */
export interface NestedField {
  id: number;
  name: string;
  required: boolean;
  type: IcebergType;
  doc?: string;
  'initial-default'?: JsonValue;
  'write-default'?: JsonValue;
}

/** A struct: an ordered list of named fields. */
export interface StructType {
  type: 'struct';
  fields: NestedField[];
}

/** A list with an element id. */
export interface ListType {
  type: 'list';
  'element-id': number;
  element: IcebergType;
  'element-required': boolean;
}

/** A map with key and value ids; keys are always required. */
export interface MapType {
  type: 'map';
  'key-id': number;
  key: IcebergType;
  'value-id': number;
  value: IcebergType;
  'value-required': boolean;
}

/** A struct, list or map. */
export type NestedType = StructType | ListType | MapType;
/** Any Iceberg type in its JSON form. */
export type IcebergType = PrimitiveType | NestedType;

/** A table schema: a struct with an id and optional identifier fields. */
export interface Schema extends StructType {
  'schema-id': number;
  'identifier-field-ids'?: number[];
}

/** A field of a partition spec; `field-id` is unique across all specs of a table. */
export interface PartitionField {
  'source-id': number;
  'field-id': number;
  name: string;
  transform: string;
}

/** A partition spec. */
export interface PartitionSpec {
  'spec-id': number;
  fields: PartitionField[];
}

/** Direction of a sort field. */
export type SortDirection = 'asc' | 'desc';
/** Where nulls sort. */
export type NullOrder = 'nulls-first' | 'nulls-last';

/** A field of a sort order. */
export interface SortField {
  transform: string;
  'source-id': number;
  direction: SortDirection;
  'null-order': NullOrder;
}

/** A sort order; id 0 is the unsorted order. */
export interface SortOrder {
  'order-id': number;
  fields: SortField[];
}

/** The `operation` of a snapshot summary. */
export type SnapshotOperation = 'append' | 'replace' | 'overwrite' | 'delete';

/** Snapshot summary: `operation` plus string metrics. */
export interface SnapshotSummary {
  operation: SnapshotOperation;
  [key: string]: string;
}

/** A snapshot of the table. */
export interface Snapshot {
  'snapshot-id': bigint;
  'parent-snapshot-id'?: bigint;
  'sequence-number': number;
  'timestamp-ms': number;
  'manifest-list': string;
  summary: SnapshotSummary;
  'schema-id'?: number;
}

/** Kind of snapshot reference. */
export type SnapshotRefType = 'branch' | 'tag';

/** A branch or tag and its retention settings. */
export interface SnapshotRef {
  'snapshot-id': bigint;
  type: SnapshotRefType;
  'min-snapshots-to-keep'?: number;
  'max-snapshot-age-ms'?: number;
  'max-ref-age-ms'?: number;
}

/** An entry of the snapshot log (changes of the current snapshot). */
export interface SnapshotLogEntry {
  'snapshot-id': bigint;
  'timestamp-ms': number;
}

/** An entry of the metadata log (previous metadata files). */
export interface MetadataLogEntry {
  'metadata-file': string;
  'timestamp-ms': number;
}

/** Metadata of one blob of a statistics file. */
export interface BlobMetadata {
  type: string;
  'snapshot-id': bigint;
  'sequence-number': number;
  fields: number[];
  properties?: Record<string, string>;
}

/** A Puffin statistics file of a snapshot. */
export interface StatisticsFile {
  'snapshot-id': bigint;
  'statistics-path': string;
  'file-size-in-bytes': number;
  'file-footer-size-in-bytes': number;
  'key-metadata'?: string;
  'blob-metadata': BlobMetadata[];
}

/** A partition statistics file of a snapshot. */
export interface PartitionStatisticsFile {
  'snapshot-id': bigint;
  'statistics-path': string;
  'file-size-in-bytes': number;
}

/**
 * Table metadata, format v2. Optional collections of the spec are always present in memory
 * (possibly empty); `current-snapshot-id` is null when the table has no current snapshot.
 */
export interface TableMetadata {
  'format-version': 2;
  'table-uuid': string;
  location: string;
  'last-sequence-number': number;
  'last-updated-ms': number;
  'last-column-id': number;
  schemas: Schema[];
  'current-schema-id': number;
  'partition-specs': PartitionSpec[];
  'default-spec-id': number;
  'last-partition-id': number;
  properties: Record<string, string>;
  'current-snapshot-id': bigint | null;
  snapshots: Snapshot[];
  'snapshot-log': SnapshotLogEntry[];
  'metadata-log': MetadataLogEntry[];
  'sort-orders': SortOrder[];
  'default-sort-order-id': number;
  refs: Record<string, SnapshotRef>;
  statistics: StatisticsFile[];
  'partition-statistics': PartitionStatisticsFile[];
}

/**
 * In-memory value of a primitive: boolean; int/date → number (date = days from epoch);
 * long/time/timestamp/timestamptz → bigint (microseconds for time types); float/double →
 * number; decimal → bigint unscaled value; string/uuid → string; fixed/binary → Uint8Array.
 */
export type PrimitiveValue = boolean | number | bigint | string | Uint8Array;

/** Partition tuple of a data file, keyed by partition field name. */
export type PartitionData = Record<string, PrimitiveValue | null>;

/** Manifest entry status. */
export const EntryStatus = { EXISTING: 0, ADDED: 1, DELETED: 2 } as const;
/** Status code of a manifest entry. */
export type EntryStatus = (typeof EntryStatus)[keyof typeof EntryStatus];

/** Content of a data file. */
export const FileContent = { DATA: 0, POSITION_DELETES: 1, EQUALITY_DELETES: 2 } as const;
/** Content code of a data file. */
export type FileContent = (typeof FileContent)[keyof typeof FileContent];

/** Content of a manifest. */
export const ManifestContent = { DATA: 0, DELETES: 1 } as const;
/** Content code of a manifest. */
export type ManifestContent = (typeof ManifestContent)[keyof typeof ManifestContent];

/** File format names as written by the Java and Python implementations. */
export type FileFormat = 'PARQUET' | 'AVRO' | 'ORC' | 'PUFFIN';

/** The `data_file` struct of a manifest entry (field ids 100-145). */
export interface DataFile {
  content: FileContent;
  file_path: string;
  file_format: FileFormat;
  partition: PartitionData;
  record_count: number;
  file_size_in_bytes: number;
  column_sizes?: Map<number, number> | null;
  value_counts?: Map<number, number> | null;
  null_value_counts?: Map<number, number> | null;
  nan_value_counts?: Map<number, number> | null;
  lower_bounds?: Map<number, Uint8Array> | null;
  upper_bounds?: Map<number, Uint8Array> | null;
  key_metadata?: Uint8Array | null;
  split_offsets?: number[] | null;
  equality_ids?: number[] | null;
  sort_order_id?: number | null;
  referenced_data_file?: string | null;
}

/** A `manifest_entry` record. Null sequence numbers and snapshot id are inherited on read. */
export interface ManifestEntry {
  status: EntryStatus;
  snapshot_id: bigint | null;
  sequence_number: number | null;
  file_sequence_number: number | null;
  data_file: DataFile;
}

/** A `field_summary` of a manifest list entry (bounds in binary single-value form). */
export interface FieldSummary {
  contains_null: boolean;
  contains_nan?: boolean | null;
  lower_bound?: Uint8Array | null;
  upper_bound?: Uint8Array | null;
}

/**
 * A `manifest_file` record of a manifest list. Counts are required in v2; they are null
 * only when read from a v1 manifest list, meaning unknown (assume non-zero).
 */
export interface ManifestFile {
  manifest_path: string;
  manifest_length: number;
  partition_spec_id: number;
  content: ManifestContent;
  sequence_number: number;
  min_sequence_number: number;
  added_snapshot_id: bigint;
  added_files_count: number | null;
  existing_files_count: number | null;
  deleted_files_count: number | null;
  added_rows_count: number | null;
  existing_rows_count: number | null;
  deleted_rows_count: number | null;
  partitions?: FieldSummary[] | null;
  key_metadata?: Uint8Array | null;
}
