/**
 * Building table metadata (format v2): new tables with fresh ids, snapshot id generation,
 * the metadata log, and metadata file names.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { InvalidInputError } from '../util/index.js';
import { bindPartitionSpec } from './partition.js';
import { assignFreshIds, findFieldById, validateSchema } from './schema.js';
import { canTransform, parseTransform } from './transforms.js';
import type {
  MetadataLogEntry,
  PartitionField,
  PartitionSpec,
  Schema,
  SortField,
  SortOrder,
  StructType,
  TableMetadata,
} from './types.js';

/** The table format version Sluice reads and writes. */
export const FORMAT_VERSION = 2;
/** First partition field id; an unpartitioned table has last-partition-id 999. */
export const PARTITION_DATA_ID_START = 1000;
/** The branch whose head is the current snapshot. */
export const MAIN_BRANCH = 'main';
/** Table property bounding the metadata log. */
export const METADATA_PREVIOUS_VERSIONS_MAX = 'write.metadata.previous-versions-max';
/** Default of `write.metadata.previous-versions-max`. */
export const METADATA_PREVIOUS_VERSIONS_MAX_DEFAULT = 100;

/** A partition field before ids are assigned. */
export type UnboundPartitionField = Omit<PartitionField, 'field-id'> & { 'field-id'?: number };

/** Options of `newTableMetadata`; source ids of spec and sort order refer to `schema`'s ids. */
export interface NewTableOptions {
  location: string;
  schema: StructType & { 'identifier-field-ids'?: number[] };
  spec?: { fields: UnboundPartitionField[] };
  sortOrder?: { fields: SortField[] };
  properties?: Record<string, string>;
  tableUuid?: string;
  nowMs?: number;
}

function remap(idMap: Map<number, number>, id: number, what: string): number {
  const mapped = idMap.get(id);
  if (mapped === undefined) throw new InvalidInputError(`${what} refers to unknown source column id ${id}`);
  return mapped;
}

/** Check that partition names are unique and do not shadow other columns (identity of the same column excepted). */
export function checkPartitionSpec(spec: PartitionSpec, schema: Schema): void {
  bindPartitionSpec(spec, schema);
  const names = new Set<string>();
  for (const f of spec.fields) {
    if (names.has(f.name)) throw new InvalidInputError(`duplicate partition field name "${f.name}"`);
    names.add(f.name);
    const column = schema.fields.find((c) => c.name === f.name);
    if (column && !(parseTransform(f.transform).kind === 'identity' && column.id === f['source-id'])) {
      throw new InvalidInputError(
        `partition field "${f.name}" conflicts with a column of the same name`,
        'choose another partition field name',
      );
    }
  }
}

/** Check that every sort field refers to a column the transform applies to. */
export function checkSortOrder(order: SortOrder, schema: Schema): void {
  for (const f of order.fields) {
    const column = findFieldById(schema, f['source-id']);
    if (!column) throw new InvalidInputError(`sort field refers to unknown column id ${f['source-id']}`);
    if (!canTransform(f.transform, column.type))
      throw new InvalidInputError(
        `sort transform ${f.transform} cannot be applied to column "${column.name}"`,
      );
  }
}

/**
 * Metadata of a new table: fresh column ids from 1, spec id 0 with partition field ids from
 * 1000, sort order id 1 (or the unsorted order 0), last-sequence-number 0, no snapshots.
 * @throws InvalidInputError for invalid schemas, specs or sort orders.
 */
export function newTableMetadata(opts: NewTableOptions): TableMetadata {
  const fresh = assignFreshIds(opts.schema, 0);
  validateSchema(fresh.schema);
  const specFields = (opts.spec?.fields ?? []).map((f, i) => ({
    'source-id': remap(fresh.idMap, f['source-id'], `partition field "${f.name}"`),
    'field-id': PARTITION_DATA_ID_START + i,
    name: f.name,
    transform: f.transform,
  }));
  const spec: PartitionSpec = { 'spec-id': 0, fields: specFields };
  checkPartitionSpec(spec, fresh.schema);
  const sortFields = (opts.sortOrder?.fields ?? []).map((f) => ({
    ...f,
    'source-id': remap(fresh.idMap, f['source-id'], 'sort field'),
  }));
  const order: SortOrder = { 'order-id': sortFields.length ? 1 : 0, fields: sortFields };
  checkSortOrder(order, fresh.schema);
  return {
    'format-version': 2,
    'table-uuid': opts.tableUuid ?? randomUUID(),
    location: opts.location.replace(/\/+$/, ''),
    'last-sequence-number': 0,
    'last-updated-ms': opts.nowMs ?? Date.now(),
    'last-column-id': fresh.lastColumnId,
    schemas: [fresh.schema],
    'current-schema-id': 0,
    'partition-specs': [spec],
    'default-spec-id': 0,
    'last-partition-id': PARTITION_DATA_ID_START - 1 + specFields.length,
    properties: { ...(opts.properties ?? {}) },
    'current-snapshot-id': null,
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
    'sort-orders': [order],
    'default-sort-order-id': order['order-id'],
    refs: {},
    statistics: [],
    'partition-statistics': [],
  };
}

const MAX_LONG = (1n << 63n) - 1n;

/**
 * A new random positive 63-bit snapshot id not used by the table (ids are random like the
 * Java reference implementation's, never derived from time).
 */
export function newSnapshotId(existing?: TableMetadata | Iterable<bigint>): bigint {
  const used = new Set<bigint>();
  if (existing && 'snapshots' in existing) for (const s of existing.snapshots) used.add(s['snapshot-id']);
  else if (existing) for (const id of existing as Iterable<bigint>) used.add(id);
  for (;;) {
    const id = randomBytes(8).readBigUInt64BE() & MAX_LONG;
    if (id !== 0n && !used.has(id)) return id;
  }
}

/**
 * Record the previous metadata file in the metadata log of the next metadata, keeping at
 * most `write.metadata.previous-versions-max` (default 100) entries, oldest dropped first.
 */
export function appendMetadataLog(md: TableMetadata, previous: MetadataLogEntry): TableMetadata {
  const raw = Number(md.properties[METADATA_PREVIOUS_VERSIONS_MAX] ?? METADATA_PREVIOUS_VERSIONS_MAX_DEFAULT);
  const max = Number.isInteger(raw) && raw >= 1 ? raw : METADATA_PREVIOUS_VERSIONS_MAX_DEFAULT;
  const log = [...md['metadata-log'], previous];
  return { ...md, 'metadata-log': log.slice(Math.max(0, log.length - max)) };
}

/** Name of a metadata file: `00001-<uuid>.metadata.json` (the Java convention). */
export function metadataFileName(version: number, uuid: string = randomUUID()): string {
  return `${String(version).padStart(5, '0')}-${uuid}.metadata.json`;
}

/** Version number of a metadata file path (`.../00042-<uuid>.metadata.json` → 42, `v3.metadata.json` → 3). */
export function metadataFileVersion(path: string): number | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const m = /^(\d+)-[^/]*\.metadata\.json(\.gz)?$/.exec(name) ?? /^v(\d+)(\.gz)?\.metadata\.json$/.exec(name);
  return m ? Number(m[1]) : undefined;
}
