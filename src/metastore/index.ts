/**
 * The metadata store: catalog pointers, queues, state and notifications, on SQLite
 * (embedded) or PostgreSQL (scale-out), chosen by URL scheme.
 *
 * Values are the same on both backends: 64-bit integers come back as numbers when they are
 * safe integers and as bigint otherwise; integral number parameters bind as integers;
 * booleans bind as 1/0 and Dates as ISO-8601 text. Keep times in BIGINT epoch milliseconds
 * and flags in INTEGER columns. PostgreSQL-only types (NUMERIC as string, timestamptz as
 * Date, boolean) keep the pg driver's mapping.
 */
import { BackendError, InvalidInputError, redactUrl } from '../util/index.js';
import type { MetaStoreOptions } from './store-options.js';
import type { MetaStore } from './types.js';

export { latestSchemaVersion, SchemaVersionError } from './migrate.js';
export { MIGRATIONS, type Migration } from './migrations.js';
export type { MetaStoreOptions } from './store-options.js';
export { announceTrigger, TRIGGER_CHANNEL, type TriggerEvent } from './trigger-events.js';
export type {
  CasRequest,
  ClaimOptions,
  DeadJob,
  EnqueueOptions,
  Job,
  MetaStore,
  Row,
  SqlRunner,
  SqlValue,
} from './types.js';

type OpenStore = (url: string, o: MetaStoreOptions) => Promise<MetaStore>;

/** URL scheme → backend, imported only when used; `module` is what to install if it is missing. */
const backends: Record<string, { module: string; load: () => Promise<OpenStore> }> = {
  'sqlite:': {
    module: 'better-sqlite3',
    load: () => import('./sqlite-store.js').then((m) => m.openSqliteStore),
  },
  'postgres:': { module: 'pg', load: () => import('./postgres-store.js').then((m) => m.openPostgresStore) },
  'postgresql:': { module: 'pg', load: () => import('./postgres-store.js').then((m) => m.openPostgresStore) },
};

/**
 * Open the metastore named by `url` (`sqlite://./.sluice/meta.db`, `sqlite:///abs/meta.db`,
 * `postgres://user:password@host:5432/db`) and apply pending migrations.
 * @throws InvalidInputError for an unknown scheme; BackendError when the database cannot be
 * reached; SchemaVersionError when the database is newer than this code.
 */
export async function openMetaStore(url: string, o: MetaStoreOptions = {}): Promise<MetaStore> {
  const scheme = /^([a-z][a-z0-9+.-]*:)/i.exec(url)?.[1]?.toLowerCase();
  const backend = scheme ? backends[scheme] : undefined;
  if (!backend) {
    const accepted = Object.keys(backends).join(', ');
    throw new InvalidInputError(
      scheme
        ? `unsupported metastore URL scheme "${scheme}" in ${redactUrl(url)}; accepted: ${accepted}`
        : `metastore URL ${redactUrl(url)} has no scheme; accepted: ${accepted}`,
      'use sqlite://./.sluice/meta.db (embedded) or postgres://user@host:5432/db',
    );
  }
  let open: OpenStore;
  try {
    open = await backend.load();
  } catch (err) {
    throw new BackendError(
      `cannot load the ${scheme} metastore backend`,
      `install its driver: npm install ${backend.module}`,
      { cause: err },
    );
  }
  return open(url, o);
}
