/**
 * JSON forms of metadata structures (Appendix C) in the key order of the Java reference
 * implementation, so written files look familiar and re-serialize byte for byte.
 */
import { parseJson, stringifyJson } from './json.js';
import type {
  IcebergType,
  NestedField,
  PartitionSpec,
  Schema,
  Snapshot,
  SnapshotRef,
  SortOrder,
  TableMetadata,
} from './types.js';
import { validateTableMetadata } from './validation.js';

function fieldJson(f: NestedField): unknown {
  return {
    id: f.id,
    name: f.name,
    required: f.required,
    type: typeJson(f.type),
    doc: f.doc,
    'initial-default': f['initial-default'],
    'write-default': f['write-default'],
  };
}

/** JSON form of a type. */
export function typeJson(t: IcebergType): unknown {
  if (typeof t === 'string') return t;
  if (t.type === 'struct') return { type: 'struct', fields: t.fields.map(fieldJson) };
  if (t.type === 'list')
    return {
      type: 'list',
      'element-id': t['element-id'],
      element: typeJson(t.element),
      'element-required': t['element-required'],
    };
  return {
    type: 'map',
    'key-id': t['key-id'],
    key: typeJson(t.key),
    'value-id': t['value-id'],
    value: typeJson(t.value),
    'value-required': t['value-required'],
  };
}

/** JSON form of a schema. */
export function schemaJson(s: Schema): unknown {
  return {
    type: 'struct',
    'schema-id': s['schema-id'],
    'identifier-field-ids': s['identifier-field-ids'],
    fields: s.fields.map(fieldJson),
  };
}

/** JSON form of the fields of a partition spec (also the manifest's `partition-spec` value). */
export function specFieldsJson(spec: PartitionSpec): unknown {
  return spec.fields.map((f) => ({
    name: f.name,
    transform: f.transform,
    'source-id': f['source-id'],
    'field-id': f['field-id'],
  }));
}

/** JSON form of a partition spec. */
export function specJson(spec: PartitionSpec): unknown {
  return { 'spec-id': spec['spec-id'], fields: specFieldsJson(spec) };
}

/** JSON form of a sort order. */
export function sortOrderJson(o: SortOrder): unknown {
  return {
    'order-id': o['order-id'],
    fields: o.fields.map((f) => ({
      transform: f.transform,
      'source-id': f['source-id'],
      direction: f.direction,
      'null-order': f['null-order'],
    })),
  };
}

/** JSON form of a snapshot. */
export function snapshotJson(s: Snapshot): unknown {
  return {
    'snapshot-id': s['snapshot-id'],
    'parent-snapshot-id': s['parent-snapshot-id'],
    'sequence-number': s['sequence-number'],
    'timestamp-ms': s['timestamp-ms'],
    summary: s.summary,
    'manifest-list': s['manifest-list'],
    'schema-id': s['schema-id'],
  };
}

function refJson(r: SnapshotRef): unknown {
  return {
    'snapshot-id': r['snapshot-id'],
    type: r.type,
    'min-snapshots-to-keep': r['min-snapshots-to-keep'],
    'max-snapshot-age-ms': r['max-snapshot-age-ms'],
    'max-ref-age-ms': r['max-ref-age-ms'],
  };
}

/** The metadata as a plain JSON-ready object (bigints kept); no current snapshot becomes -1 as Java writes. */
export function tableMetadataJson(md: TableMetadata): Record<string, unknown> {
  return {
    'format-version': md['format-version'],
    'table-uuid': md['table-uuid'],
    location: md.location,
    'last-sequence-number': md['last-sequence-number'],
    'last-updated-ms': md['last-updated-ms'],
    'last-column-id': md['last-column-id'],
    'current-schema-id': md['current-schema-id'],
    schemas: md.schemas.map(schemaJson),
    'default-spec-id': md['default-spec-id'],
    'partition-specs': md['partition-specs'].map(specJson),
    'last-partition-id': md['last-partition-id'],
    'default-sort-order-id': md['default-sort-order-id'],
    'sort-orders': md['sort-orders'].map(sortOrderJson),
    properties: md.properties,
    'current-snapshot-id': md['current-snapshot-id'] ?? -1,
    refs: Object.fromEntries(Object.entries(md.refs).map(([k, v]) => [k, refJson(v)])),
    snapshots: md.snapshots.map(snapshotJson),
    statistics: md.statistics,
    'partition-statistics': md['partition-statistics'],
    'snapshot-log': md['snapshot-log'].map((e) => ({
      'timestamp-ms': e['timestamp-ms'],
      'snapshot-id': e['snapshot-id'],
    })),
    'metadata-log': md['metadata-log'].map((e) => ({
      'timestamp-ms': e['timestamp-ms'],
      'metadata-file': e['metadata-file'],
    })),
  };
}

/** Serialize metadata to JSON text with exact 64-bit snapshot ids. */
export function serializeTableMetadata(md: TableMetadata, opts: { indent?: number } = {}): string {
  return stringifyJson(tableMetadataJson(md), opts);
}

/**
 * Parse a metadata JSON file, keeping 64-bit snapshot ids exact.
 * @throws InvalidInputError for malformed JSON, invalid metadata or format versions other than 2.
 */
export function parseTableMetadata(text: string): TableMetadata {
  return validateTableMetadata(parseJson(text));
}
