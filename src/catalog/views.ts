/**
 * Views of the catalog, stored as apache/iceberg's JdbcCatalog (schema V1) stores them: a row
 * of `iceberg_tables` with `iceberg_type` 'VIEW' whose `metadata_location` points to an Iceberg
 * view metadata file (format version 1) holding the view's SQL (dialect `duckdb`) and columns.
 * A new version of a view is a new metadata file and a pointer swap, like a table commit.
 */
import { randomUUID } from 'node:crypto';
import type { SqlRunner } from '../metastore/index.js';
import type { ObjectStore } from '../storage/index.js';
import { joinLocation, keyForLocation } from '../storage/index.js';
import type { Schema, TableIdentifier } from '../table/index.js';
import { BackendError, InvalidInputError, NotFoundError } from '../util/index.js';
import { insertTable, selectTableNames } from './jdbc-sql.js';
import { namespaceToString } from './names.js';

/** The `iceberg_type` of view rows. */
export const VIEW_RECORD_TYPE = 'VIEW';
/** The SQL dialect Sluice writes (and runs) in view representations. */
export const VIEW_DIALECT = 'duckdb';

/** One version of a view (Iceberg view spec). */
export interface ViewVersion {
  'version-id': number;
  'timestamp-ms': number;
  'schema-id': number;
  summary: Record<string, string>;
  representations: { type: 'sql'; sql: string; dialect: string }[];
  'default-namespace': string[];
  'default-catalog'?: string;
}

/** Iceberg view metadata (format version 1). */
export interface ViewMetadata {
  'view-uuid': string;
  'format-version': 1;
  location: string;
  'current-version-id': number;
  versions: ViewVersion[];
  'version-log': { 'timestamp-ms': number; 'version-id': number }[];
  schemas: Schema[];
  properties: Record<string, string>;
}

/** A view as the catalog holds it. */
export interface LoadedView {
  identifier: TableIdentifier;
  metadata: ViewMetadata;
  metadataLocation: string;
}

/** The SQL a view runs (its `duckdb` representation, else its first SQL one). */
export function viewSql(md: ViewMetadata): string {
  const version = md.versions.find((v) => v['version-id'] === md['current-version-id']);
  const reps = version?.representations ?? [];
  const rep = reps.find((r) => r.dialect?.toLowerCase() === VIEW_DIALECT) ?? reps[0];
  if (!rep) throw new InvalidInputError(`view metadata at ${md.location} has no SQL for its current version`);
  return rep.sql;
}

/** The columns of a view's current version. */
export function viewSchema(md: ViewMetadata): Schema | undefined {
  const version = md.versions.find((v) => v['version-id'] === md['current-version-id']);
  return md.schemas.find((s) => s['schema-id'] === version?.['schema-id']);
}

/** Metadata of a view's next version (a new view when `previous` is undefined). */
export function nextViewMetadata(
  previous: ViewMetadata | undefined,
  o: {
    location: string;
    sql: string;
    schema: Schema;
    namespace: string[];
    properties?: Record<string, string>;
  },
): ViewMetadata {
  const now = Date.now();
  const versionId = (previous?.versions.reduce((m, v) => Math.max(m, v['version-id']), 0) ?? 0) + 1;
  const schemaId = (previous?.schemas.reduce((m, s) => Math.max(m, s['schema-id']), -1) ?? -1) + 1;
  const version: ViewVersion = {
    'version-id': versionId,
    'timestamp-ms': now,
    'schema-id': schemaId,
    summary: { 'engine-name': 'sluice' },
    representations: [{ type: 'sql', sql: o.sql, dialect: VIEW_DIALECT }],
    'default-namespace': o.namespace,
  };
  return {
    'view-uuid': previous?.['view-uuid'] ?? randomUUID(),
    'format-version': 1,
    location: previous?.location ?? o.location,
    'current-version-id': versionId,
    versions: [...(previous?.versions ?? []), version],
    'version-log': [...(previous?.['version-log'] ?? []), { 'timestamp-ms': now, 'version-id': versionId }],
    schemas: [...(previous?.schemas ?? []), { ...o.schema, 'schema-id': schemaId }],
    properties: { ...(previous?.properties ?? {}), ...(o.properties ?? {}) },
  };
}

/**
 * Read a view metadata file.
 * @throws NotFoundError when it is missing; InvalidInputError when it is not view metadata.
 */
export async function readViewMetadata(store: ObjectStore, location: string): Promise<ViewMetadata> {
  let text: string;
  try {
    text = (await store.getBytes(keyForLocation(store, location))).toString('utf8');
  } catch (err) {
    if (err instanceof NotFoundError)
      throw new NotFoundError(`view metadata file ${location} does not exist`, undefined, { cause: err });
    throw err;
  }
  let md: ViewMetadata;
  try {
    md = JSON.parse(text) as ViewMetadata;
  } catch (err) {
    throw new InvalidInputError(`view metadata file ${location} is not JSON`, undefined, { cause: err });
  }
  if (md['format-version'] !== 1 || !Array.isArray(md.versions) || !Array.isArray(md.schemas))
    throw new InvalidInputError(`view metadata file ${location} is not Iceberg view metadata (format 1)`);
  return md;
}

/** Write a view metadata file next to the view's earlier ones; returns its location. */
export async function writeViewMetadata(store: ObjectStore, md: ViewMetadata): Promise<string> {
  const version = String(md.versions.length).padStart(5, '0');
  const body = JSON.stringify(md);
  for (let attempt = 0; attempt < 3; attempt++) {
    const location = joinLocation(md.location, `metadata/${version}-${randomUUID()}.metadata.json`);
    if (await store.putIfAbsent(keyForLocation(store, location), body)) return location;
  }
  throw new BackendError(`could not write a view metadata file under ${md.location}/metadata`);
}

const IS_VIEW = `iceberg_type = '${VIEW_RECORD_TYPE}'`;

/** The pointer of a view, or undefined. */
export async function selectViewPointer(
  sql: SqlRunner,
  catalog: string,
  id: TableIdentifier,
): Promise<string | undefined> {
  const rows = await sql.query<{ metadata_location: string | null }>(
    `SELECT metadata_location FROM iceberg_tables
     WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND ${IS_VIEW}`,
    [catalog, namespaceToString(id.namespace), id.name],
  );
  return rows[0]?.metadata_location ?? undefined;
}

/** Names of the views directly in `ns`, sorted. */
export function selectViewNames(sql: SqlRunner, catalog: string, ns: readonly string[]): Promise<string[]> {
  return selectTableNames(sql, catalog, ns, VIEW_RECORD_TYPE);
}

/** Insert a view's row; false when the name is taken (by a table or a view). */
export function insertView(
  sql: SqlRunner,
  catalog: string,
  id: TableIdentifier,
  location: string,
): Promise<boolean> {
  return insertTable(sql, catalog, id.namespace, id.name, location, VIEW_RECORD_TYPE);
}

/** Swap a view's pointer if it still is `expected`. */
export async function swapViewPointer(
  sql: SqlRunner,
  catalog: string,
  id: TableIdentifier,
  expected: string,
  next: string,
): Promise<boolean> {
  const { rowCount } = await sql.execute(
    `UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ?
     WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ? AND ${IS_VIEW}`,
    [next, expected, catalog, namespaceToString(id.namespace), id.name, expected],
  );
  return rowCount === 1;
}

/** Delete a view's row; true if it existed. */
export async function deleteView(sql: SqlRunner, catalog: string, id: TableIdentifier): Promise<boolean> {
  const { rowCount } = await sql.execute(
    `DELETE FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND ${IS_VIEW}`,
    [catalog, namespaceToString(id.namespace), id.name],
  );
  return rowCount > 0;
}
