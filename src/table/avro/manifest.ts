/**
 * Manifest files (spec "Manifests"): Avro container files of `manifest_entry` records with
 * the key-value metadata the spec requires (`schema`, `schema-id`, `partition-spec`,
 * `partition-spec-id`, `format-version`, `content`).
 */
import { InvalidInputError } from '../../util/index.js';
import { parseJson, stringifyJson } from '../json.js';
import { schemaJson, specFieldsJson } from '../metadata-json.js';
import { bindPartitionSpec, partitionType } from '../partition.js';
import type {
  DataFile,
  EntryStatus,
  FileContent,
  FileFormat,
  ManifestEntry,
  ManifestFile,
  PartitionField,
  PartitionSpec,
  Schema,
} from '../types.js';
import { schemaOrUndefined } from '../validation.js';
import { decodeIntMap, encodeIntMap, toBigInt, toNumber, valueById, WriterSchema } from './by-id.js';
import { type AvroCodec, readContainer, writeContainer } from './container.js';
import { decodePartition, encodePartition } from './partition-values.js';
import { manifestEntrySchema } from './schemas.js';

/** Options of `encodeManifest`. */
export interface ManifestWriteOptions {
  schema: Schema;
  spec: PartitionSpec;
  formatVersion: 2;
  content: 'data' | 'deletes';
  codec?: AvroCodec;
}

/** A decoded manifest: its entries and the metadata stored in the file. */
export interface DecodedManifest {
  entries: ManifestEntry[];
  schema: Schema | undefined;
  spec: PartitionSpec;
  formatVersion: number;
  content: 'data' | 'deletes';
  /** The writer's Avro schema as stored in the file. */
  avroSchema: unknown;
}

const buf = (v: Uint8Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
const big = (v: number) => BigInt(v);

function checkEntry(e: ManifestEntry, content: 'data' | 'deletes'): void {
  const path = e.data_file.file_path;
  if (e.sequence_number === null && e.status !== 1) {
    throw new InvalidInputError(
      `manifest entry for ${path}: only ADDED entries may have a null sequence number`,
    );
  }
  const isDelete = e.data_file.content !== 0;
  if (isDelete !== (content === 'deletes')) {
    throw new InvalidInputError(
      `manifest entry for ${path}: content ${e.data_file.content} does not belong in a ${content} manifest`,
    );
  }
}

/**
 * Encode manifest entries as a v2 manifest file (deflate codec by default). Leave
 * `snapshot_id` and sequence numbers null on ADDED entries to inherit them at commit.
 * @throws InvalidInputError for entries that do not fit the spec or the manifest content.
 */
export async function encodeManifest(
  entries: readonly ManifestEntry[],
  opts: ManifestWriteOptions,
): Promise<Buffer> {
  if (opts.formatVersion !== 2)
    throw new InvalidInputError(`cannot write manifests for format version ${opts.formatVersion}`);
  const partition = partitionType(opts.spec, opts.schema);
  const records = entries.map((e) => {
    checkEntry(e, opts.content);
    const f = e.data_file;
    return {
      status: e.status,
      snapshot_id: e.snapshot_id,
      sequence_number: e.sequence_number === null ? null : big(e.sequence_number),
      file_sequence_number: e.file_sequence_number === null ? null : big(e.file_sequence_number),
      data_file: {
        content: f.content,
        file_path: f.file_path,
        file_format: f.file_format.toUpperCase(),
        partition: encodePartition(partition, f.partition),
        record_count: big(f.record_count),
        file_size_in_bytes: big(f.file_size_in_bytes),
        column_sizes: encodeIntMap(f.column_sizes, big),
        value_counts: encodeIntMap(f.value_counts, big),
        null_value_counts: encodeIntMap(f.null_value_counts, big),
        nan_value_counts: encodeIntMap(f.nan_value_counts, big),
        lower_bounds: encodeIntMap(f.lower_bounds, buf),
        upper_bounds: encodeIntMap(f.upper_bounds, buf),
        key_metadata: f.key_metadata ? buf(f.key_metadata) : null,
        split_offsets: f.split_offsets ? f.split_offsets.map(big) : null,
        equality_ids: f.equality_ids ?? null,
        sort_order_id: f.sort_order_id ?? null,
        referenced_data_file: f.referenced_data_file ?? null,
      },
    };
  });
  const metadata = {
    schema: stringifyJson(schemaJson(opts.schema)),
    'schema-id': String(opts.schema['schema-id']),
    'partition-spec': stringifyJson(specFieldsJson(opts.spec)),
    'partition-spec-id': String(opts.spec['spec-id']),
    'format-version': '2',
    content: opts.content,
  };
  return writeContainer(manifestEntrySchema(partition), records, metadata, opts.codec);
}

function partitionNames(spec: PartitionSpec, schema: Schema | undefined) {
  const out = new Map<
    number,
    { name: string; type?: ReturnType<typeof bindPartitionSpec>[number]['resultType'] }
  >();
  for (const f of spec.fields) out.set(f['field-id'], { name: f.name });
  if (!schema) return out;
  try {
    for (const b of bindPartitionSpec(spec, schema))
      out.set(b.field['field-id'], { name: b.field.name, type: b.resultType });
  } catch {
    return out;
  }
  return out;
}

/**
 * Decode a manifest file written by any implementation (fields are read by field id). When
 * the manifest's list entry is given, null snapshot ids and sequence numbers are inherited
 * from it (spec "Sequence Number Inheritance").
 * @throws InvalidInputError for files that are not valid manifests.
 */
export function decodeManifest(data: Buffer, manifest?: ManifestFile): DecodedManifest {
  const file = readContainer(data);
  const md = file.metadata;
  const formatVersion = Number(md['format-version'] ?? 1);
  const schema = md.schema ? schemaOrUndefined(parseJson(md.schema)) : undefined;
  const specFields = (md['partition-spec']
    ? parseJson(md['partition-spec'])
    : []) as unknown as PartitionField[];
  const specId = Number(md['partition-spec-id'] ?? manifest?.partition_spec_id ?? 0);
  const spec: PartitionSpec = {
    'spec-id': specId,
    fields: specFields.map((f, i) => ({ ...f, 'field-id': f['field-id'] ?? 1000 + i })),
  };
  const content = md.content === 'deletes' ? 'deletes' : 'data';
  const w = new WriterSchema(file.schema);
  const entryFields = w.fieldsById(file.schema);
  const dataFileSchema = entryFields.get(2)?.type;
  if (!dataFileSchema) throw new InvalidInputError('not an Iceberg manifest: no data_file field (id 2)');
  const fileFields = w.fieldsById(dataFileSchema);
  const partFields = fileFields.get(102) ? w.fieldsById(fileFields.get(102)?.type) : new Map();
  const names = partitionNames(spec, schema);
  const entries = file.records.map((rec): ManifestEntry => {
    const df = valueById(rec, entryFields, 2);
    const get = (id: number) => valueById(df, fileFields, id);
    const seq = valueById(rec, entryFields, 3);
    const fileSeq = valueById(rec, entryFields, 4);
    const dataFile: DataFile = {
      content: (get(134) ?? 0) as FileContent,
      file_path: get(100) as string,
      file_format: String(get(101)).toUpperCase() as FileFormat,
      partition: decodePartition(get(102) ?? {}, partFields, names),
      record_count: toNumber(get(103)),
      file_size_in_bytes: toNumber(get(104)),
      column_sizes: decodeIntMap(get(108), toNumber),
      value_counts: decodeIntMap(get(109), toNumber),
      null_value_counts: decodeIntMap(get(110), toNumber),
      nan_value_counts: decodeIntMap(get(137), toNumber),
      lower_bounds: decodeIntMap(get(125), (v) => v as Buffer),
      upper_bounds: decodeIntMap(get(128), (v) => v as Buffer),
      key_metadata: (get(131) as Buffer | null) ?? null,
      split_offsets: (get(132) as unknown[] | null)?.map(toNumber) ?? null,
      equality_ids: (get(135) as unknown[] | null)?.map(toNumber) ?? null,
      sort_order_id: (get(140) as number | null) ?? null,
      referenced_data_file: (get(143) as string | null) ?? null,
    };
    const entry: ManifestEntry = {
      status: valueById(rec, entryFields, 0) as EntryStatus,
      snapshot_id: toBigInt(valueById(rec, entryFields, 1)),
      sequence_number: seq === null ? null : toNumber(seq),
      file_sequence_number: fileSeq === null ? null : toNumber(fileSeq),
      data_file: dataFile,
    };
    return manifest ? inheritFromManifest(entry, manifest) : entry;
  });
  return { entries, schema, spec, formatVersion, content, avroSchema: file.schema };
}

/**
 * Fill an entry's null snapshot id and sequence numbers from its manifest list entry:
 * the snapshot id always, sequence numbers for ADDED entries (and for v1 manifests,
 * whose manifest sequence number is 0).
 */
export function inheritFromManifest(entry: ManifestEntry, manifest: ManifestFile): ManifestEntry {
  const inherit = entry.status === 1 || manifest.sequence_number === 0;
  return {
    ...entry,
    snapshot_id: entry.snapshot_id ?? manifest.added_snapshot_id,
    sequence_number: entry.sequence_number ?? (inherit ? manifest.sequence_number : null),
    file_sequence_number: entry.file_sequence_number ?? (inherit ? manifest.sequence_number : null),
  };
}
