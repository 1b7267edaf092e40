// Ingestion: sources (HTTP, files, PostgreSQL), the raw zone and its ledger, sinks and quarantine.
export { SUMMARY as INGEST_SUMMARY_KEYS } from './commit-log.js';
export { listRawObjects, type RawObject, type RawObjectFilter } from './ledger.js';
export {
  type FilesSourceSpec,
  type HttpSourceSpec,
  type IngestSpec,
  ingestSpecSchema,
  type PostgresSourceSpec,
  type SinkSpec,
} from './spec.js';
export { ingestTaskKind } from './task.js';
