/**
 * A new table with its first rows in one catalog commit (`CREATE TABLE ... AS SELECT`): the
 * data files, manifest and manifest list are written under the new table's location first,
 * then one metadata file holding the table and its first snapshot is committed with
 * `assert-create`. Until that commit the table does not exist for anyone; a crash before it
 * leaves only unreferenced files, never an empty or half-written table.
 */
import type { Duck } from '../duck/index.js';
import type { ObjectStore } from '../storage/index.js';
import type { TableCatalog, TableIdentifier } from './catalog-api.js';
import { TableIO } from './io.js';
import { currentSchema, defaultSortOrder, defaultSpec } from './lookup.js';
import { newTableMetadata } from './metadata.js';
import { Table } from './table.js';
import { type CommitResult, commitSnapshot, type TableContext } from './table-commit.js';
import { type WriteOptions, writeCurrent } from './table-ops.js';
import type { Schema, TableMetadata } from './types.js';
import type { TableUpdate } from './updates.js';
import type { WriteSource } from './writer-sql.js';

/** Updates that make `md` (a table's first metadata, without snapshots) from nothing. */
export function creationUpdates(md: TableMetadata): TableUpdate[] {
  const spec = defaultSpec(md);
  const updates: TableUpdate[] = [
    { action: 'assign-uuid', uuid: md['table-uuid'] },
    { action: 'upgrade-format-version', 'format-version': md['format-version'] },
    { action: 'add-schema', schema: currentSchema(md), 'last-column-id': md['last-column-id'] },
    { action: 'set-current-schema', 'schema-id': -1 },
    { action: 'add-spec', spec: { 'spec-id': spec['spec-id'], fields: spec.fields } },
    { action: 'set-default-spec', 'spec-id': -1 },
    { action: 'add-sort-order', 'sort-order': defaultSortOrder(md) },
    { action: 'set-default-sort-order', 'sort-order-id': -1 },
    { action: 'set-location', location: md.location },
  ];
  if (Object.keys(md.properties).length > 0)
    updates.push({ action: 'set-properties', updates: md.properties });
  return updates;
}

/** Options of `createTableAs`. */
export interface CreateTableAsOptions extends WriteOptions {
  /** The new table's location (the catalog's default location for it). */
  location: string;
  schema: Schema;
  /** Table properties of the new table. */
  tableProperties?: Record<string, string>;
}

/**
 * Create a table holding the source's rows, in one commit (table and first snapshot).
 * @throws ConflictError (from the catalog) when a table of that name was created meanwhile;
 * the files written are deleted then.
 */
export async function createTableAs(
  catalog: TableCatalog,
  store: ObjectStore,
  duck: Duck,
  id: TableIdentifier,
  source: WriteSource,
  o: CreateTableAsOptions,
): Promise<{ table: Table; commit: CommitResult }> {
  const md = newTableMetadata({ location: o.location, schema: o.schema, properties: o.tableProperties });
  const ctx: TableContext = {
    id,
    catalog,
    io: new TableIO(store),
    duck,
    loaded: { identifier: id, metadata: md, metadataLocation: '' },
  };
  const written = await duck.withConnection((c) => writeCurrent(c, ctx, source, o), o);
  const commit = await commitSnapshot(ctx, {
    operation: 'append',
    added: written.files,
    schema: currentSchema(md),
    spec: defaultSpec(md),
    removed: [],
    baseSnapshotId: null,
    create: creationUpdates(md),
    properties: o.properties,
    signal: o.signal,
  });
  return { table: new Table(ctx), commit };
}
