// System tables: the platform's own history as Iceberg tables in namespace `sluice_system`.
export {
  defineSystemTable,
  SYSTEM_NAMESPACE,
  type SystemColumn,
  type SystemColumnDef,
  type SystemTable,
  type SystemTableSpec,
} from './definition.js';
export {
  CLAIM_SUMMARY_KEY,
  DEFAULT_CLAIM_LEASE_MS,
  DEFAULT_FLUSH_ROWS,
  type FlushOptions,
  type FlushProgress,
  flushSystemTables,
  OUTBOX_IDS_SUMMARY_KEY,
  type SystemRuntime,
  type TableFlush,
} from './flush.js';
export {
  DEFAULT_FLUSH_INTERVAL_MS,
  type FlusherOptions,
  type SystemTableFlusher,
  startSystemTableFlusher,
} from './flusher.js';
export { recordSystemRows } from './outbox.js';
