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
  { version: 4, name: 'event bus registry, subscriptions and cursors', sql: BUS_TABLES },
];
