/**
 * Applies {@link MIGRATIONS} inside a transaction the backend has already locked
 * (SQLite: BEGIN IMMEDIATE; PostgreSQL: pg_advisory_xact_lock), so two processes opening
 * the same database at once apply each migration exactly once.
 */
import { SluiceError } from '../util/index.js';
import { MIGRATIONS, type Migration } from './migrations.js';
import type { MetaStore, SqlRunner } from './types.js';

/** The database was migrated by a newer Sluice than this one; downgrades are not supported. */
export class SchemaVersionError extends SluiceError {
  constructor(
    readonly found: number,
    readonly known: number,
    where: string,
  ) {
    super(
      'schema_too_new',
      `the metastore at ${where} has schema version ${found}, but this Sluice only knows versions up to ${known}; downgrading is not supported`,
      'run the Sluice version that last upgraded this database (or newer), or point metastore.url at another database',
    );
  }
}

/** What the migration runner needs from a locked transaction. */
export interface MigrationTarget extends SqlRunner {
  /** Run a script that may hold several statements, without parameters. */
  exec(script: string): Promise<void>;
}

/** Advisory-lock key of PostgreSQL migrations ("sluice" in ASCII). */
export const MIGRATION_LOCK_KEY = 0x736c75696365;

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS sluice_migrations (
  version INTEGER NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  applied_at BIGINT NOT NULL
)`;

/** The newest schema version this code knows. */
export function latestSchemaVersion(): number {
  return MIGRATIONS.at(-1)?.version ?? 0;
}

/** The script of a migration for one backend. */
export function migrationSql(m: Migration, kind: MetaStore['kind']): string {
  return typeof m.sql === 'string' ? m.sql : m.sql[kind];
}

/**
 * Bring the schema up to date; returns the schema version.
 * @throws SchemaVersionError when the database is newer than this code.
 */
export async function applyMigrations(
  tx: MigrationTarget,
  kind: MetaStore['kind'],
  where: string,
  log?: { debug(...a: unknown[]): void },
): Promise<number> {
  await tx.exec(CREATE_MIGRATIONS_TABLE);
  const rows = await tx.query<{ version: number }>('SELECT version FROM sluice_migrations');
  const applied = new Set(rows.map((r) => Number(r.version)));
  const found = Math.max(0, ...applied);
  const known = latestSchemaVersion();
  if (found > known) throw new SchemaVersionError(found, known, where);
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    await tx.exec(migrationSql(m, kind));
    await tx.execute('INSERT INTO sluice_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
      m.version,
      m.name,
      Date.now(),
    ]);
    log?.debug({ component: 'metastore', version: m.version, migration: m.name }, 'applied migration');
  }
  return known;
}

/** The schema version recorded in the database (0 when none). */
export async function schemaVersion(db: SqlRunner): Promise<number> {
  const rows = await db.query<{ v: number | null }>('SELECT MAX(version) AS v FROM sluice_migrations');
  return Number(rows[0]?.v ?? 0);
}
