/**
 * The source database side: prerequisite checks (wal_level, privileges), table descriptions
 * (columns, key, replica identity), the publication and the replication slot's state.
 */
import pg from 'pg';
import { BackendError, InvalidInputError, PermissionError } from '../../util/index.js';
import { parseLsn } from './pgoutput.js';
import { type CdcSource, splitTableName } from './spec.js';
import { pgIdent, type SourceColumn } from './types.js';

/** A replicated table as the source describes it. */
export interface SourceTable {
  /** `schema.table`. */
  name: string;
  schema: string;
  table: string;
  oid: number;
  columns: SourceColumn[];
  /** Key columns: the primary key, or the declared key. */
  key: string[];
}

/** A replication slot's state on the source. */
export interface SlotInfo {
  name: string;
  confirmedFlushLsn: bigint | undefined;
  walStatus: string | null;
  /** WAL the slot holds back, in bytes. */
  lagBytes: number;
  /** The database the slot decodes (slots are per cluster, names are not per database). */
  database: string;
  plugin: string;
}

/** Open a regular `pg` connection to the source. @throws BackendError when it cannot connect. */
export async function connectSource(url: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 10_000,
    application_name: 'sluice-cdc',
  });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    throw new BackendError(`cannot connect to the CDC source: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
  return client;
}

/**
 * Check that the source can feed logical replication and describe the configured tables.
 * @throws InvalidInputError when wal_level is not logical, a table is missing or has no key.
 * @throws PermissionError when the user may not replicate or read a table.
 */
export async function describeSource(client: pg.Client, source: CdcSource): Promise<SourceTable[]> {
  const wal = (await client.query<{ wal_level: string }>('SHOW wal_level')).rows[0]?.wal_level;
  if (wal !== 'logical')
    throw new InvalidInputError(
      `the CDC source has wal_level=${wal}; logical replication needs wal_level=logical`,
      'set wal_level = logical in postgresql.conf (or ALTER SYSTEM SET wal_level = logical) and restart PostgreSQL',
    );
  const role = (
    await client.query<{ name: string; ok: boolean }>(
      'SELECT rolname AS name, rolsuper OR rolreplication AS ok FROM pg_roles WHERE rolname = current_user',
    )
  ).rows[0];
  if (!role?.ok)
    throw new PermissionError(
      `the CDC source user "${role?.name}" may not use replication`,
      `ALTER ROLE ${role?.name} REPLICATION (or connect as a user with the REPLICATION attribute)`,
    );
  const out: SourceTable[] = [];
  for (const name of source.tables) out.push(await describeTable(client, name, source.keys[name]));
  return out;
}

async function describeTable(
  client: pg.Client,
  name: string,
  declared: string[] | undefined,
): Promise<SourceTable> {
  const { schema, table } = splitTableName(name);
  const rel = (
    await client.query<{ oid: number; replident: string; readable: boolean }>(
      `SELECT c.oid::int AS oid, c.relreplident AS replident, has_table_privilege(c.oid, 'SELECT') AS readable
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
      [schema, table],
    )
  ).rows[0];
  if (!rel)
    throw new InvalidInputError(
      `CDC source table ${schema}.${table} does not exist`,
      'check `tables:` of the source',
    );
  if (!rel.readable)
    throw new PermissionError(
      `the CDC source user may not read ${schema}.${table}`,
      `GRANT SELECT ON ${pgIdent(schema)}.${pgIdent(table)} TO <user>`,
    );
  const columns = (
    await client.query<{ name: string; type_oid: number; typmod: number }>(
      `SELECT attname AS name, atttypid::int AS type_oid, atttypmod AS typmod FROM pg_attribute
        WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [rel.oid],
    )
  ).rows.map((r) => ({ name: r.name, typeOid: r.type_oid, typmod: r.typmod }));
  const pk = (
    await client.query<{ name: string }>(
      `SELECT a.attname AS name FROM pg_index i
         JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord`,
      [rel.oid],
    )
  ).rows.map((r) => r.name);
  const key = declared ?? pk;
  if (key.length === 0)
    throw new InvalidInputError(
      `CDC source table ${schema}.${table} has no primary key, so changes cannot be matched to rows`,
      `add a primary key, or declare one under keys: { ${name}: [column, ...] } and run ALTER TABLE ${pgIdent(schema)}.${pgIdent(table)} REPLICA IDENTITY FULL`,
    );
  for (const k of key)
    if (!columns.some((c) => c.name === k))
      throw new InvalidInputError(`declared key column "${k}" does not exist in ${schema}.${table}`);
  if (pk.length === 0 && rel.replident !== 'f')
    throw new InvalidInputError(
      `CDC source table ${schema}.${table} has a declared key but no primary key, so its updates and deletes do not carry the key`,
      `ALTER TABLE ${pgIdent(schema)}.${pgIdent(table)} REPLICA IDENTITY FULL`,
    );
  return { name: `${schema}.${table}`, schema, table, oid: rel.oid, columns, key };
}

/** Create the publication for the tables, or add the tables it lacks. */
export async function ensurePublication(
  client: pg.Client,
  name: string,
  tables: SourceTable[],
): Promise<void> {
  const list = (ts: SourceTable[]) => ts.map((t) => `${pgIdent(t.schema)}.${pgIdent(t.table)}`).join(', ');
  const exists = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [name]);
  if (exists.rowCount === 0) {
    await client.query(`CREATE PUBLICATION ${pgIdent(name)} FOR TABLE ${list(tables)}`);
    return;
  }
  const have = new Set(
    (
      await client.query<{ n: string }>(
        "SELECT schemaname || '.' || tablename AS n FROM pg_publication_tables WHERE pubname = $1",
        [name],
      )
    ).rows.map((r) => r.n),
  );
  const missing = tables.filter((t) => !have.has(t.name));
  if (missing.length > 0) await client.query(`ALTER PUBLICATION ${pgIdent(name)} ADD TABLE ${list(missing)}`);
}

/** The slot's state, or undefined when it does not exist. */
export async function slotInfo(client: pg.Client, name: string): Promise<SlotInfo | undefined> {
  const row = (
    await client.query<{
      lsn: string | null;
      wal_status: string | null;
      lag: string | null;
      database: string;
      plugin: string;
    }>(
      `SELECT confirmed_flush_lsn::text AS lsn, wal_status, database, plugin,
              pg_wal_lsn_diff(pg_current_wal_lsn(), COALESCE(confirmed_flush_lsn, restart_lsn))::text AS lag
         FROM pg_replication_slots WHERE slot_name = $1`,
      [name],
    )
  ).rows[0];
  if (!row) return undefined;
  return {
    name,
    confirmedFlushLsn: row.lsn ? parseLsn(row.lsn) : undefined,
    walStatus: row.wal_status,
    lagBytes: Number(row.lag ?? 0),
    database: row.database,
    plugin: row.plugin,
  };
}

/**
 * The current rows of `keys` (text values, in key column order) as text values by column,
 * keyed by the JSON of their key's text values; keys no longer in the table are absent.
 * Keys are parsed by PostgreSQL into the table's row type, so the key index is used.
 */
export async function readSourceRows(
  client: pg.Client,
  t: SourceTable,
  keys: readonly (readonly (string | null)[])[],
): Promise<Map<string, Map<string, string | null>>> {
  const out = new Map<string, Map<string, string | null>>();
  if (keys.length === 0) return out;
  const rel = `${pgIdent(t.schema)}.${pgIdent(t.table)}`;
  const keyCols = t.key.map(pgIdent);
  const wanted = keys.map((k) => Object.fromEntries(t.key.map((c, i) => [c, k[i] ?? null])));
  const res = await client.query<(string | null)[]>({
    text: `SELECT ${t.columns.map((c) => `${pgIdent(c.name)}::text`).join(', ')} FROM ${rel} WHERE (${keyCols.map((k) => `${rel}.${k}`).join(', ')}) IN (SELECT ${keyCols.map((k) => `__k.${k}`).join(', ')} FROM json_populate_recordset(NULL::${rel}, $1::json) AS __k)`,
    values: [JSON.stringify(wanted)],
    rowMode: 'array',
  });
  const at = t.key.map((k) => t.columns.findIndex((c) => c.name === k));
  for (const row of res.rows)
    out.set(
      JSON.stringify(at.map((i) => row[i] ?? null)),
      new Map(t.columns.map((c, i) => [c.name, row[i] ?? null])),
    );
  return out;
}
