/**
 * The metastore schema, as an ordered list of forward-only migrations. To change the
 * schema, append one entry with the next version; never edit an entry that has shipped.
 */

/** One schema step: portable SQL, or one script per backend. Scripts may hold several statements. */
export interface Migration {
  version: number;
  name: string;
  sql: string | { sqlite: string; postgres: string };
}

/*
 * The Iceberg JDBC-catalog tables, as apache/iceberg creates them in
 * core/src/main/java/org/apache/iceberg/jdbc/JdbcUtil.java (V0_CREATE_CATALOG_SQL plus
 * V1_UPDATE_CATALOG_SQL, which adds `iceberg_type VARCHAR(5)`, and
 * CREATE_NAMESPACE_PROPERTIES_TABLE_SQL). apache/iceberg-python pyiceberg/catalog/sql.py
 * (SqlCatalog) maps the same names and types; it declares property_key/property_value
 * NOT NULL and has no iceberg_type, so tables it created are read the same way.
 * IF NOT EXISTS lets Sluice adopt a database a JDBC catalog already uses.
 */
const ICEBERG_CATALOG = `
CREATE TABLE IF NOT EXISTS iceberg_tables (
  catalog_name VARCHAR(255) NOT NULL,
  table_namespace VARCHAR(255) NOT NULL,
  table_name VARCHAR(255) NOT NULL,
  metadata_location VARCHAR(1000),
  previous_metadata_location VARCHAR(1000),
  iceberg_type VARCHAR(5),
  PRIMARY KEY (catalog_name, table_namespace, table_name)
);
CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
  catalog_name VARCHAR(255) NOT NULL,
  namespace VARCHAR(255) NOT NULL,
  property_key VARCHAR(255),
  property_value VARCHAR(1000),
  PRIMARY KEY (catalog_name, namespace, property_key)
);`;

/* Times are epoch milliseconds (BIGINT) so both backends compare them the same way. */
const SLUICE_TABLES = `
CREATE TABLE sluice_state (
  scope VARCHAR(255) NOT NULL,
  key VARCHAR(255) NOT NULL,
  value TEXT,
  version BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (scope, key)
);
CREATE TABLE sluice_jobs (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  queue VARCHAR(255) NOT NULL,
  payload TEXT NOT NULL,
  dedupe_key VARCHAR(255),
  status VARCHAR(16) NOT NULL DEFAULT 'queued',
  run_at BIGINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_owner VARCHAR(255),
  lease_until BIGINT,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  UNIQUE (queue, dedupe_key)
);
CREATE INDEX sluice_jobs_due ON sluice_jobs (queue, status, run_at);
CREATE INDEX sluice_jobs_lease ON sluice_jobs (queue, status, lease_until);`;

/* PostgreSQL delivers notifications with LISTEN/NOTIFY; SQLite processes poll this table. */
const SQLITE_NOTIFICATIONS = `
CREATE TABLE sluice_notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  channel VARCHAR(63) NOT NULL,
  payload TEXT NOT NULL,
  origin VARCHAR(64) NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX sluice_notifications_created ON sluice_notifications (created_at);`;

/*
 * Orchestrator: job priorities, attempt limits and dead jobs on the queue; pipeline
 * versions (the definition each run is pinned to), scheduling state, runs, task instances,
 * attempts, per-attempt logs and the workers seen.
 */
const ORCHESTRATOR = `
ALTER TABLE sluice_jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sluice_jobs ADD COLUMN max_attempts INTEGER;
ALTER TABLE sluice_jobs ADD COLUMN finished_at BIGINT;
CREATE INDEX sluice_jobs_finished ON sluice_jobs (queue, status, finished_at);
CREATE TABLE sluice_pipeline_versions (
  pipeline VARCHAR(255) NOT NULL,
  hash VARCHAR(64) NOT NULL,
  definition TEXT NOT NULL,
  source VARCHAR(1000),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (pipeline, hash)
);
CREATE TABLE sluice_pipelines (
  pipeline VARCHAR(255) NOT NULL PRIMARY KEY,
  paused INTEGER NOT NULL DEFAULT 0,
  last_interval_end BIGINT,
  updated_at BIGINT NOT NULL
);
CREATE TABLE sluice_runs (
  run_id VARCHAR(64) NOT NULL PRIMARY KEY,
  pipeline VARCHAR(255) NOT NULL,
  version_hash VARCHAR(64) NOT NULL,
  trigger_kind VARCHAR(16) NOT NULL,
  run_key VARCHAR(255),
  data_interval_start BIGINT NOT NULL,
  data_interval_end BIGINT NOT NULL,
  params TEXT NOT NULL,
  state VARCHAR(16) NOT NULL,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  ended_at BIGINT,
  sla_missed INTEGER NOT NULL DEFAULT 0,
  lock_version BIGINT NOT NULL DEFAULT 0,
  UNIQUE (pipeline, run_key)
);
CREATE INDEX sluice_runs_state ON sluice_runs (state, pipeline);
CREATE INDEX sluice_runs_pipeline ON sluice_runs (pipeline, created_at);
CREATE TABLE sluice_task_runs (
  run_id VARCHAR(64) NOT NULL,
  task_id VARCHAR(255) NOT NULL,
  state VARCHAR(16) NOT NULL,
  tries INTEGER NOT NULL DEFAULT 0,
  gen INTEGER NOT NULL DEFAULT 0,
  pool VARCHAR(255),
  priority INTEGER NOT NULL DEFAULT 0,
  job_id VARCHAR(64),
  worker_id VARCHAR(255),
  queued_at BIGINT,
  started_at BIGINT,
  ended_at BIGINT,
  next_try_at BIGINT,
  error TEXT,
  progress TEXT,
  summary TEXT,
  PRIMARY KEY (run_id, task_id)
);
CREATE INDEX sluice_task_runs_state ON sluice_task_runs (state, pool);
CREATE TABLE sluice_task_attempts (
  run_id VARCHAR(64) NOT NULL,
  task_id VARCHAR(255) NOT NULL,
  attempt INTEGER NOT NULL,
  worker_id VARCHAR(255) NOT NULL,
  state VARCHAR(16) NOT NULL,
  started_at BIGINT NOT NULL,
  ended_at BIGINT,
  error TEXT,
  PRIMARY KEY (run_id, task_id, attempt)
);
CREATE TABLE sluice_task_logs (
  run_id VARCHAR(64) NOT NULL,
  task_id VARCHAR(255) NOT NULL,
  attempt INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  stream VARCHAR(8) NOT NULL,
  at BIGINT NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (run_id, task_id, attempt, seq)
);
CREATE TABLE sluice_workers (
  worker_id VARCHAR(255) NOT NULL PRIMARY KEY,
  host VARCHAR(255) NOT NULL,
  pid INTEGER NOT NULL,
  role VARCHAR(32) NOT NULL,
  started_at BIGINT NOT NULL,
  seen_at BIGINT NOT NULL
);`;

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'iceberg catalog, state, jobs, notifications',
    sql: {
      sqlite: ICEBERG_CATALOG + SLUICE_TABLES + SQLITE_NOTIFICATIONS,
      postgres: ICEBERG_CATALOG + SLUICE_TABLES,
    },
  },
  {
    version: 3,
    name: 'orchestrator: runs, task instances, attempts, logs; job priorities and limits',
    sql: ORCHESTRATOR,
  },
];
