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

/* Users, roles, service tokens and grants (src/auth). Secrets are stored hashed only. */
const AUTH_TABLES = `
CREATE TABLE sluice_users (
  name VARCHAR(255) NOT NULL PRIMARY KEY,
  password_hash TEXT,
  scram_verifier TEXT,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE sluice_roles (
  name VARCHAR(255) NOT NULL PRIMARY KEY,
  description TEXT,
  created_at BIGINT NOT NULL
);
CREATE TABLE sluice_user_roles (
  user_name VARCHAR(255) NOT NULL,
  role_name VARCHAR(255) NOT NULL,
  PRIMARY KEY (user_name, role_name)
);
CREATE TABLE sluice_tokens (
  id VARCHAR(32) NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  user_name VARCHAR(255) NOT NULL,
  token_hash VARCHAR(64) NOT NULL,
  scopes TEXT,
  expires_at BIGINT,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT,
  last_used_at BIGINT
);
CREATE INDEX sluice_tokens_user ON sluice_tokens (user_name);
CREATE TABLE sluice_grants (
  role_name VARCHAR(255) NOT NULL,
  resource_kind VARCHAR(32) NOT NULL,
  resource_name VARCHAR(1000) NOT NULL,
  privilege VARCHAR(16) NOT NULL,
  granted_by VARCHAR(255),
  granted_at BIGINT NOT NULL,
  PRIMARY KEY (role_name, resource_kind, resource_name, privilege)
);
INSERT INTO sluice_roles (name, description, created_at) VALUES ('admin', 'may do anything, including managing users and grants', 0);`;

/*
 * System tables: rows recorded with an area's own metastore writes wait in this outbox until
 * the flusher appends them to the Iceberg tables of `sluice_system`. A flusher claims rows
 * (claim_id, lease until claim_until), commits them with the claim id in the snapshot summary,
 * then deletes them. Definitions are stored by hash so any process can flush any table.
 */
const SYSTEM_OUTBOX_COLUMNS = `
  table_name VARCHAR(255) NOT NULL,
  definition_hash VARCHAR(64) NOT NULL,
  payload TEXT NOT NULL,
  claim_id VARCHAR(64),
  claim_until BIGINT,
  created_at BIGINT NOT NULL
);
CREATE INDEX sluice_system_outbox_table ON sluice_system_outbox (table_name, claim_id, id);
CREATE TABLE sluice_system_definitions (
  hash VARCHAR(64) NOT NULL PRIMARY KEY,
  table_name VARCHAR(255) NOT NULL,
  definition TEXT NOT NULL,
  created_at BIGINT NOT NULL
);`;

/*
 * The raw-zone ledger: one row per payload fetched (HTTP page, file, PostgreSQL chunk), written
 * before the payload is loaded. `epoch`/`seq` order the payloads of one fetch of one stream;
 * `next_request` is where that fetch continues (NULL after its last payload).
 */
const RAW_LEDGER = `
CREATE TABLE sluice_raw_objects (
  id VARCHAR(1000) NOT NULL PRIMARY KEY,
  task VARCHAR(255) NOT NULL,
  stream VARCHAR(255) NOT NULL,
  epoch VARCHAR(64) NOT NULL,
  seq INTEGER NOT NULL,
  run_id VARCHAR(64) NOT NULL,
  source_uri VARCHAR(2000),
  name VARCHAR(1000),
  request TEXT,
  next_request TEXT,
  headers TEXT,
  format VARCHAR(16) NOT NULL,
  compression VARCHAR(16),
  size BIGINT NOT NULL,
  record_count BIGINT,
  checksum VARCHAR(64) NOT NULL,
  fetched_at BIGINT NOT NULL,
  malformed TEXT,
  status VARCHAR(16) NOT NULL,
  snapshot_id VARCHAR(32),
  committed_at BIGINT
);
CREATE INDEX sluice_raw_objects_task ON sluice_raw_objects (task, status, epoch, seq);
CREATE INDEX sluice_raw_objects_checksum ON sluice_raw_objects (task, checksum);
CREATE INDEX sluice_raw_objects_name ON sluice_raw_objects (task, name);`;

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

/*
 * The event bus registry: event types (the Nakadi definition as JSON), every schema version,
 * subscriptions (unique per owning application + sorted event types + consumer group) and
 * their committed cursors.
 */
const BUS_TABLES = `
CREATE TABLE bus_event_types (
  name VARCHAR(255) NOT NULL PRIMARY KEY,
  definition TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE bus_schemas (
  event_type VARCHAR(255) NOT NULL,
  version VARCHAR(64) NOT NULL,
  seq INTEGER NOT NULL,
  schema_type VARCHAR(32) NOT NULL,
  schema_text TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (event_type, version)
);
CREATE TABLE bus_subscriptions (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  key_text VARCHAR(2000) NOT NULL UNIQUE,
  owning_application VARCHAR(255) NOT NULL,
  consumer_group VARCHAR(255) NOT NULL,
  definition TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE bus_subscription_cursors (
  subscription_id VARCHAR(64) NOT NULL,
  event_type VARCHAR(255) NOT NULL,
  partition_id VARCHAR(32) NOT NULL,
  committed_offset VARCHAR(64) NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (subscription_id, event_type, partition_id)
);`;

/*
 * Monitor rules: when each rule is next due (claimed by one evaluator with a guarded update),
 * and the state of each rule per dimension value, changed only by guarded updates so a
 * transition is noticed (and notified) once.
 */
const MONITOR_TABLES = `
CREATE TABLE monitor_schedule (
  monitor VARCHAR(255) NOT NULL PRIMARY KEY,
  due_at BIGINT NOT NULL,
  checked_at BIGINT,
  error TEXT,
  updated_at BIGINT NOT NULL
);
CREATE TABLE monitor_states (
  monitor VARCHAR(255) NOT NULL,
  dimension_value VARCHAR(1000) NOT NULL,
  state VARCHAR(16) NOT NULL,
  measured DOUBLE PRECISION,
  expected VARCHAR(255) NOT NULL,
  reason VARCHAR(2000) NOT NULL,
  since BIGINT NOT NULL,
  checked_at BIGINT NOT NULL,
  PRIMARY KEY (monitor, dimension_value)
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
  { version: 2, name: 'raw-zone ledger', sql: RAW_LEDGER },
  {
    version: 3,
    name: 'orchestrator: runs, task instances, attempts, logs; job priorities and limits',
    sql: ORCHESTRATOR,
  },
  { version: 4, name: 'event bus registry, subscriptions and cursors', sql: BUS_TABLES },
  {
    version: 5,
    name: 'system table outbox',
    sql: {
      sqlite: `CREATE TABLE sluice_system_outbox (\n  id INTEGER PRIMARY KEY AUTOINCREMENT,${SYSTEM_OUTBOX_COLUMNS}`,
      postgres: `CREATE TABLE sluice_system_outbox (\n  id BIGSERIAL PRIMARY KEY,${SYSTEM_OUTBOX_COLUMNS}`,
    },
  },
  {
    version: 6,
    name: 'users, roles, tokens, grants',
    sql: AUTH_TABLES,
  },
  { version: 7, name: 'monitor rules: schedule and state per dimension value', sql: MONITOR_TABLES },
];
