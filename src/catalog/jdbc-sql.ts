/**
 * Statements on the JDBC-catalog tables, as apache/iceberg JdbcUtil (schema V1) and
 * PyIceberg's SqlCatalog issue them: rows of `iceberg_tables` with `iceberg_type` 'TABLE'
 * or NULL (written by catalogs that predate views) are tables; a namespace exists when a
 * table or a property row names it or a namespace below it.
 */
import type { SqlRunner } from '../metastore/index.js';
import { namespaceFromString, namespaceToString } from './names.js';

/** The `iceberg_type` of table rows. */
export const TABLE_RECORD_TYPE = 'TABLE';
/** The reserved property JdbcCatalog writes so that a namespace without properties exists. */
export const NAMESPACE_EXISTS_PROPERTY = 'exists';

const IS_TABLE = `(iceberg_type = '${TABLE_RECORD_TYPE}' OR iceberg_type IS NULL)`;

/** A table's pointer row. */
export interface TableRow {
  metadata_location: string | null;
  previous_metadata_location: string | null;
}

/** LIKE pattern (escape "!") matching namespaces strictly below `ns`. */
function childPattern(ns: string): string {
  return `${ns.replace(/[!_%]/g, (c) => `!${c}`)}.%`;
}

/** The pointer row of a table, or undefined. */
export async function selectTable(
  sql: SqlRunner,
  catalog: string,
  ns: readonly string[],
  name: string,
): Promise<TableRow | undefined> {
  const rows = await sql.query<TableRow & Record<string, unknown>>(
    `SELECT metadata_location, previous_metadata_location FROM iceberg_tables
     WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND ${IS_TABLE}`,
    [catalog, namespaceToString(ns), name],
  );
  return rows[0];
}

/** Names of the tables (or, with `recordType` 'VIEW', the views) directly in `ns`, sorted. */
export async function selectTableNames(
  sql: SqlRunner,
  catalog: string,
  ns: readonly string[],
  recordType = TABLE_RECORD_TYPE,
): Promise<string[]> {
  const type = recordType === TABLE_RECORD_TYPE ? IS_TABLE : 'iceberg_type = ?';
  const rows = await sql.query<{ table_name: string }>(
    `SELECT table_name FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND ${type}`,
    recordType === TABLE_RECORD_TYPE
      ? [catalog, namespaceToString(ns)]
      : [catalog, namespaceToString(ns), recordType],
  );
  return rows.map((r) => r.table_name).sort();
}

/**
 * Every stored namespace string equal to `ns` or below it (all namespaces when `ns` is
 * empty), from both catalog tables. LIKE only pre-filters (it ignores case on SQLite);
 * the exact prefix test happens here.
 */
export async function selectNamespaces(
  sql: SqlRunner,
  catalog: string,
  ns: readonly string[],
): Promise<string[][]> {
  const all = ns.length === 0;
  const target = namespaceToString(ns);
  const where = all ? '' : ` AND (%c = ? OR %c LIKE ? ESCAPE '!')`;
  const params = all ? [catalog] : [catalog, target, childPattern(target)];
  const [tables, props] = await Promise.all([
    sql.query<{ ns: string }>(
      `SELECT DISTINCT table_namespace AS ns FROM iceberg_tables WHERE catalog_name = ?${where.replaceAll('%c', 'table_namespace')}`,
      params,
    ),
    sql.query<{ ns: string }>(
      `SELECT DISTINCT namespace AS ns FROM iceberg_namespace_properties WHERE catalog_name = ?${where.replaceAll('%c', 'namespace')}`,
      params,
    ),
  ]);
  const seen = new Set<string>();
  for (const r of [...tables, ...props]) {
    if (all || r.ns === target || r.ns.startsWith(`${target}.`)) seen.add(r.ns);
  }
  return [...seen].sort().map(namespaceFromString);
}

/** True when `ns` exists: it or a namespace below it holds a table or a property. */
export async function namespaceExists(
  sql: SqlRunner,
  catalog: string,
  ns: readonly string[],
): Promise<boolean> {
  return (await selectNamespaces(sql, catalog, ns)).length > 0;
}

/** The stored properties of a namespace (the reserved `exists` marker included). */
export async function selectProperties(
  sql: SqlRunner,
  catalog: string,
  ns: readonly string[],
): Promise<Map<string, string>> {
  const rows = await sql.query<{ property_key: string | null; property_value: string | null }>(
    'SELECT property_key, property_value FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ?',
    [catalog, namespaceToString(ns)],
  );
  const out = new Map<string, string>();
  for (const r of rows) if (r.property_key !== null) out.set(r.property_key, r.property_value ?? '');
  return out;
}

/** Insert or replace namespace properties. */
export async function upsertProperties(
  sql: SqlRunner,
  catalog: string,
  ns: readonly string[],
  props: Record<string, string>,
): Promise<void> {
  for (const [key, value] of Object.entries(props)) {
    await sql.execute(
      `INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value)
       VALUES (?, ?, ?, ?)
       ON CONFLICT (catalog_name, namespace, property_key) DO UPDATE SET property_value = excluded.property_value`,
      [catalog, namespaceToString(ns), key, value],
    );
  }
}

/** Insert the pointer row of a new table (or view); false when the name is taken. */
export async function insertTable(
  sql: SqlRunner,
  catalog: string,
  ns: readonly string[],
  name: string,
  metadataLocation: string,
  recordType = TABLE_RECORD_TYPE,
): Promise<boolean> {
  const { rowCount } = await sql.execute(
    `INSERT INTO iceberg_tables
       (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location, iceberg_type)
     VALUES (?, ?, ?, ?, NULL, ?)
     ON CONFLICT (catalog_name, table_namespace, table_name) DO NOTHING`,
    [catalog, namespaceToString(ns), name, metadataLocation, recordType],
  );
  return rowCount === 1;
}

/** Swap a table's metadata pointer if it still is `expected` (JdbcUtil DO_COMMIT); true if swapped. */
export async function swapPointer(
  sql: SqlRunner,
  catalog: string,
  ns: readonly string[],
  name: string,
  expected: string,
  next: string,
): Promise<boolean> {
  const { rowCount } = await sql.execute(
    `UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ?
     WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ? AND ${IS_TABLE}`,
    [next, expected, catalog, namespaceToString(ns), name, expected],
  );
  return rowCount === 1;
}

/** Delete a table's row; true if it existed. */
export async function deleteTable(
  sql: SqlRunner,
  catalog: string,
  ns: readonly string[],
  name: string,
): Promise<boolean> {
  const { rowCount } = await sql.execute(
    `DELETE FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND ${IS_TABLE}`,
    [catalog, namespaceToString(ns), name],
  );
  return rowCount > 0;
}

/** Move a table's row to a new name; true if it existed. */
export async function renameTableRow(
  sql: SqlRunner,
  catalog: string,
  from: { namespace: readonly string[]; name: string },
  to: { namespace: readonly string[]; name: string },
): Promise<boolean> {
  const { rowCount } = await sql.execute(
    `UPDATE iceberg_tables SET table_namespace = ?, table_name = ?
     WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND ${IS_TABLE}`,
    [namespaceToString(to.namespace), to.name, catalog, namespaceToString(from.namespace), from.name],
  );
  return rowCount === 1;
}

/** Metadata locations of every table of the catalog except one (guards purges of shared prefixes). */
export async function otherMetadataLocations(
  sql: SqlRunner,
  catalog: string,
  ns: readonly string[],
  name: string,
): Promise<string[]> {
  const rows = await sql.query<{ metadata_location: string | null }>(
    `SELECT metadata_location FROM iceberg_tables
     WHERE catalog_name = ? AND NOT (table_namespace = ? AND table_name = ?)`,
    [catalog, namespaceToString(ns), name],
  );
  return rows.flatMap((r) => (r.metadata_location ? [r.metadata_location] : []));
}
