/**
 * The Avro schemas of v2 manifests and manifest lists, field by field from the spec's
 * tables (names, field ids, nullability) in the layout the Java implementation writes:
 * optional fields are `["null", T]` unions with default null, nested records are named
 * `r<field-id>`, int-keyed maps are arrays of `k<key-id>_v<value-id>` records with
 * `logicalType: map`, list element ids are `element-id` on the array.
 */
import { decimalRequiredBytes, parsePrimitive } from '../primitives.js';
import type { PrimitiveType, StructType } from '../types.js';

/** An Avro schema fragment as JSON. */
export type AvroSchema = string | AvroSchema[] | { [key: string]: unknown };

interface Field {
  name: string;
  type: AvroSchema;
  default?: null;
  doc?: string;
  'field-id': number;
  'iceberg-field-name'?: string;
}

const required = (id: number, name: string, type: AvroSchema, doc?: string): Field => ({
  name,
  type,
  ...(doc ? { doc } : {}),
  'field-id': id,
});
const optional = (id: number, name: string, type: AvroSchema, doc?: string): Field => ({
  name,
  type: ['null', type],
  default: null,
  ...(doc ? { doc } : {}),
  'field-id': id,
});

const intMap = (keyId: number, valueId: number, value: 'long' | 'bytes'): AvroSchema => ({
  type: 'array',
  items: {
    type: 'record',
    name: `k${keyId}_v${valueId}`,
    fields: [required(keyId, 'key', 'int'), required(valueId, 'value', value)],
  },
  logicalType: 'map',
});

/** Avro-safe field name, as Java's `AvroSchemaUtil.sanitize` (`_x2D` for `-`, `_` before a leading digit). */
export function sanitizeAvroName(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i] as string;
    const ok = /[A-Za-z_]/.test(c) || (i > 0 && /[0-9]/.test(c));
    if (ok) out += c;
    else if (/[0-9]/.test(c)) out += `_${c}`;
    else out += `_x${c.charCodeAt(0).toString(16).toUpperCase()}`;
  }
  return out;
}

/** Avro type of a primitive partition value (spec Appendix A); named fixed types are defined once. */
export function avroPrimitive(type: PrimitiveType, defined: Set<string>): AvroSchema {
  const info = parsePrimitive(type);
  const named = (name: string, schema: Record<string, unknown>): AvroSchema => {
    if (defined.has(name)) return name;
    defined.add(name);
    return { type: 'fixed', name, ...schema };
  };
  switch (info.kind) {
    case 'boolean':
    case 'int':
    case 'long':
    case 'float':
    case 'double':
    case 'string':
      return info.kind;
    case 'binary':
      return 'bytes';
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'time':
      return { type: 'long', logicalType: 'time-micros' };
    case 'timestamp':
    case 'timestamptz':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': info.kind === 'timestamptz' };
    case 'uuid':
      return named('uuid_fixed', { size: 16, logicalType: 'uuid' });
    case 'fixed':
      return named(`fixed_${info.length}`, { size: info.length });
    case 'decimal':
      return named(`decimal_${info.precision}_${info.scale}`, {
        size: decimalRequiredBytes(info.precision),
        logicalType: 'decimal',
        precision: info.precision,
        scale: info.scale,
      });
  }
}

/** The `r102` partition record of a partition tuple type (all fields optional). */
export function partitionRecord(partition: StructType): AvroSchema {
  const defined = new Set<string>();
  return {
    type: 'record',
    name: 'r102',
    fields: partition.fields.map((f) => {
      const name = sanitizeAvroName(f.name);
      const field = optional(f.id, name, avroPrimitive(f.type as PrimitiveType, defined));
      return name === f.name ? field : { ...field, 'iceberg-field-name': f.name };
    }),
  };
}

/** The v2 `manifest_entry` schema for a partition tuple type. */
export function manifestEntrySchema(partition: StructType): AvroSchema {
  const dataFile = {
    type: 'record',
    name: 'r2',
    fields: [
      required(134, 'content', 'int', 'Contents of the file: 0=data, 1=position deletes, 2=equality deletes'),
      required(100, 'file_path', 'string', 'Location URI with FS scheme'),
      required(101, 'file_format', 'string', 'File format name: avro, orc, or parquet'),
      required(
        102,
        'partition',
        partitionRecord(partition),
        'Partition data tuple, schema based on the partition spec',
      ),
      required(103, 'record_count', 'long', 'Number of records in the file'),
      required(104, 'file_size_in_bytes', 'long', 'Total file size in bytes'),
      optional(108, 'column_sizes', intMap(117, 118, 'long'), 'Map of column id to total size on disk'),
      optional(
        109,
        'value_counts',
        intMap(119, 120, 'long'),
        'Map of column id to total count, including null and NaN',
      ),
      optional(110, 'null_value_counts', intMap(121, 122, 'long'), 'Map of column id to null value count'),
      optional(
        137,
        'nan_value_counts',
        intMap(138, 139, 'long'),
        'Map of column id to number of NaN values in the column',
      ),
      optional(125, 'lower_bounds', intMap(126, 127, 'bytes'), 'Map of column id to lower bound'),
      optional(128, 'upper_bounds', intMap(129, 130, 'bytes'), 'Map of column id to upper bound'),
      optional(131, 'key_metadata', 'bytes', 'Encryption key metadata blob'),
      optional(
        132,
        'split_offsets',
        { type: 'array', items: 'long', 'element-id': 133 },
        'Splittable offsets',
      ),
      optional(
        135,
        'equality_ids',
        { type: 'array', items: 'int', 'element-id': 136 },
        'Equality comparison field IDs',
      ),
      optional(140, 'sort_order_id', 'int', 'Sort order ID'),
      optional(
        143,
        'referenced_data_file',
        'string',
        'Fully qualified location (URI with FS scheme) of a data file that all deletes reference',
      ),
    ],
  };
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      required(0, 'status', 'int'),
      optional(1, 'snapshot_id', 'long'),
      optional(3, 'sequence_number', 'long'),
      optional(4, 'file_sequence_number', 'long'),
      required(2, 'data_file', dataFile),
    ],
  };
}

/** The v2 `manifest_file` schema of manifest lists. */
export function manifestFileSchema(): AvroSchema {
  const fieldSummary = {
    type: 'record',
    name: 'r508',
    fields: [
      required(509, 'contains_null', 'boolean', 'True if any file has a null partition value'),
      optional(518, 'contains_nan', 'boolean', 'True if any file has a nan partition value'),
      optional(510, 'lower_bound', 'bytes', 'Partition lower bound for all files'),
      optional(511, 'upper_bound', 'bytes', 'Partition upper bound for all files'),
    ],
  };
  return {
    type: 'record',
    name: 'manifest_file',
    fields: [
      required(500, 'manifest_path', 'string', 'Location URI with FS scheme'),
      required(501, 'manifest_length', 'long', 'Total file size in bytes'),
      required(502, 'partition_spec_id', 'int', 'Spec ID used to write'),
      required(517, 'content', 'int', 'Contents of the manifest: 0=data, 1=deletes'),
      required(515, 'sequence_number', 'long', 'Sequence number when the manifest was added'),
      required(516, 'min_sequence_number', 'long', 'Lowest sequence number in the manifest'),
      required(503, 'added_snapshot_id', 'long', 'Snapshot ID that added the manifest'),
      required(504, 'added_files_count', 'int', 'Added entry count'),
      required(505, 'existing_files_count', 'int', 'Existing entry count'),
      required(506, 'deleted_files_count', 'int', 'Deleted entry count'),
      required(512, 'added_rows_count', 'long', 'Added rows count'),
      required(513, 'existing_rows_count', 'long', 'Existing rows count'),
      required(514, 'deleted_rows_count', 'long', 'Deleted rows count'),
      optional(
        507,
        'partitions',
        { type: 'array', items: fieldSummary, 'element-id': 508 },
        'Summary for each partition',
      ),
      optional(519, 'key_metadata', 'bytes', 'Encryption key metadata blob'),
    ],
  };
}
