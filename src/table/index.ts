// Apache Iceberg v2 tables: formats (metadata JSON, Avro manifests, transforms, values).
export * from './avro/manifest.js';
export * from './avro/manifest-list.js';
export * from './avro/summary.js';
export * from './bounds.js';
export * from './catalog-api.js';
// Data plane: writing files, scans, commits of snapshots, change feeds and maintenance.
export * from './changes.js';
export { currentSchemaOf } from './current-schema.js';
export * from './decimal.js';
export * from './duckdb-types.js';
export { type FileColumns, type FileNode, nestedNamesStable, readFileColumns } from './file-schema.js';
export { dataDir, type LiveEntry, metadataDir, TableIO } from './io.js';
export * from './json.js';
export * from './lookup.js';
export * from './maintenance.js';
export * from './metadata.js';
export * from './metadata-json.js';
export { collectMetrics, type FileMetrics, type LeafColumn, leafColumns } from './metrics.js';
export * from './partition.js';
export { canonicalPrimitive, decimalParams, isPrimitive, parsePrimitive } from './primitives.js';
export * from './requirements.js';
export * from './scan.js';
export { type ColumnPredicate, type ParsedFilter, parseFilter } from './scan-filter.js';
export * from './scan-prune.js';
export * from './scan-sql.js';
export * from './schema.js';
export * from './schema-evolution.js';
export { openTable, type Table } from './table.js';
export {
  type CommitResult,
  MAX_COMMIT_ATTEMPTS,
  type SnapshotChange,
  type TableContext,
} from './table-commit.js';
export { type CreateTableAsOptions, createTableAs, creationUpdates } from './table-create.js';
export { defaultPartitionFieldName, type PartitionFieldInput } from './table-meta.js';
export type { OverwriteOptions, WriteOptions } from './table-ops.js';
export { type QueryColumn, replacementSchema } from './table-replace.js';
export type { RewriteOptions, RewriteResult } from './table-rewrite.js';
export type { UpsertOptions } from './table-upsert.js';
export * from './temporal.js';
export * from './transforms.js';
export * from './transforms-sql.js';
export * from './types.js';
export * from './updates.js';
export {
  loadTableSchemas,
  parseTableRequirements,
  parseTableUpdates,
  validateTableMetadata,
} from './validation.js';
export * from './values.js';
export * from './writer.js';
export { assertWritableSchema, assignable, describeSql, sourceSql, type WriteSource } from './writer-sql.js';
