/**
 * The catalog of Sluice tables, stored in the metastore's JDBC-catalog tables exactly as
 * apache/iceberg's JdbcCatalog and PyIceberg's SqlCatalog store theirs, so that either,
 * pointed at the same database and storage, reads and commits the same tables.
 */
import type { MetaStore } from '../metastore/index.js';
import type { Logger } from '../observe/index.js';
import type { ObjectStore } from '../storage/index.js';
import { keyForLocation, locationForKey } from '../storage/index.js';
import {
  type Catalog,
  type CommitTableOptions,
  type CreateTableRequest,
  type LoadedTable,
  newTableMetadata,
  type Schema,
  type TableIdentifier,
  type TableRequirement,
  type TableUpdate,
} from '../table/index.js';
import { ConflictError, InvalidInputError } from '../util/index.js';
import {
  type AlsoInTransaction,
  auditCatalogChange,
  type CommitContext,
  commitChanges,
  type TableChange,
} from './commit.js';
import { AlreadyExistsError, NoSuchTableError, NoSuchViewError } from './errors.js';
import * as ns from './jdbc-namespaces.js';
import {
  deleteTable,
  insertTable,
  namespaceExists,
  renameTableRow,
  selectTable,
  selectTableNames,
} from './jdbc-sql.js';
import { discardMetadata, readTableMetadata, writeTableMetadata } from './metadata-io.js';
import { formatIdentifier, namespaceToString, validateIdentifier, validateNamespace } from './names.js';
import { purgeTableFiles } from './purge.js';
import {
  deleteView,
  insertView,
  type LoadedView,
  nextViewMetadata,
  readViewMetadata,
  selectViewNames,
  selectViewPointer,
  swapViewPointer,
  writeViewMetadata,
} from './views.js';

/** Catalog name used when none is configured (the `catalog_name` column). */
export const DEFAULT_CATALOG_NAME = 'sluice';
/** Commit attempts before a commit that keeps losing races gives up. */
export const DEFAULT_MAX_COMMIT_ATTEMPTS = 16;

/** Options of `openCatalog`. */
export interface CatalogOptions {
  meta: MetaStore;
  store: ObjectStore;
  /** The `catalog_name` of the JDBC-catalog rows (default "sluice"). */
  name?: string;
  log?: Logger;
  /** Attempts of a commit that loses races to concurrent commits (default 16). */
  maxCommitAttempts?: number;
}

/** Capabilities beyond the Catalog interface that the REST server uses when present. */
export interface CatalogExtensions {
  /** Where a new table is placed when no location is given. */
  defaultTableLocation(id: TableIdentifier): string;
  /** Views (Iceberg view metadata in the JDBC-catalog tables). */
  listViews(namespace: string[]): Promise<TableIdentifier[]>;
  viewExists(id: TableIdentifier): Promise<boolean>;
  loadView(id: TableIdentifier): Promise<LoadedView>;
  dropView(id: TableIdentifier): Promise<void>;
  /** Commit changes to several tables atomically: all land or none does. */
  commitTransaction(changes: TableChange[], also?: AlsoInTransaction): Promise<LoadedTable[]>;
}

/** Open the catalog stored in `meta` whose table files live in `store`. */
export function openCatalog(o: CatalogOptions): JdbcCatalog {
  return new JdbcCatalog(o);
}

/** A Catalog on the JDBC-catalog tables; holds no state between calls. */
export class JdbcCatalog implements Catalog, CatalogExtensions {
  readonly name: string;
  readonly warehouse: string;
  readonly #meta: MetaStore;
  readonly #store: ObjectStore;
  readonly #log: Logger | undefined;
  readonly #commit: CommitContext;

  constructor(o: CatalogOptions) {
    this.name = o.name ?? DEFAULT_CATALOG_NAME;
    if (!this.name || this.name.length > 255)
      throw new InvalidInputError('catalog name must be 1 to 255 characters');
    this.#meta = o.meta;
    this.#store = o.store;
    this.#log = o.log?.child({ component: 'catalog', catalog: this.name });
    this.warehouse = locationForKey(o.store, '');
    this.#commit = {
      meta: o.meta,
      store: o.store,
      catalog: this.name,
      log: this.#log,
      maxAttempts: o.maxCommitAttempts ?? DEFAULT_MAX_COMMIT_ATTEMPTS,
      defaultLocation: (id) => this.defaultTableLocation(id),
    };
  }

  defaultTableLocation(id: TableIdentifier): string {
    const { namespace, name } = validateIdentifier(id);
    return locationForKey(this.#store, [...namespace, name].join('/'));
  }

  listNamespaces(parent: string[] = []): Promise<string[][]> {
    return ns.listNamespaces(this.#meta, this.name, parent);
  }

  async createNamespace(namespace: string[], properties: Record<string, string> = {}): Promise<void> {
    await ns.createNamespace(this.#meta, this.name, namespace, properties);
    this.#log?.info({ namespace }, 'namespace created');
  }

  namespaceExists(namespace: string[]): Promise<boolean> {
    return namespaceExists(this.#meta, this.name, validateNamespace(namespace));
  }

  loadNamespaceProperties(namespace: string[]): Promise<Record<string, string>> {
    return ns.loadProperties(this.#meta, this.name, namespace);
  }

  updateNamespaceProperties(
    namespace: string[],
    removals: string[],
    updates: Record<string, string>,
  ): Promise<{ updated: string[]; removed: string[]; missing: string[] }> {
    return ns.updateProperties(this.#meta, this.name, namespace, removals, updates);
  }

  async dropNamespace(namespace: string[]): Promise<void> {
    await ns.dropNamespace(this.#meta, this.name, namespace);
    this.#log?.info({ namespace }, 'namespace dropped');
  }

  async listTables(namespace: string[]): Promise<TableIdentifier[]> {
    validateNamespace(namespace);
    await ns.requireNamespace(this.#meta, this.name, namespace);
    const names = await selectTableNames(this.#meta, this.name, namespace);
    return names.map((name) => ({ namespace: [...namespace], name }));
  }

  async tableExists(id: TableIdentifier): Promise<boolean> {
    const { namespace, name } = validateIdentifier(id);
    return (await selectTable(this.#meta, this.name, namespace, name)) !== undefined;
  }

  async loadTable(id: TableIdentifier): Promise<LoadedTable> {
    const { namespace, name } = validateIdentifier(id);
    const row = await selectTable(this.#meta, this.name, namespace, name);
    if (!row) throw noSuchTable(id);
    if (!row.metadata_location)
      throw new InvalidInputError(`table "${formatIdentifier(id)}" has no metadata location in the catalog`);
    const metadata = await readTableMetadata(this.#store, row.metadata_location);
    return { identifier: { namespace, name }, metadata, metadataLocation: row.metadata_location };
  }

  async createTable(id: TableIdentifier, req: CreateTableRequest): Promise<LoadedTable> {
    const identifier = validateIdentifier(id);
    await ns.requireNamespace(this.#meta, this.name, identifier.namespace);
    if (await this.tableExists(identifier)) throw alreadyExists(identifier);
    const location = (req.location ?? this.defaultTableLocation(identifier)).replace(/\/+$/, '');
    keyForLocation(this.#store, location); // refuse locations the store cannot hold before writing anything
    const metadata = newTableMetadata({
      location,
      schema: req.schema,
      spec: req.partitionSpec ? { fields: req.partitionSpec.fields } : undefined,
      sortOrder: req.sortOrder ? { fields: req.sortOrder.fields } : undefined,
      properties: req.properties,
    });
    const metadataLocation = await writeTableMetadata(this.#store, metadata, 0);
    await this.#insert(identifier, metadataLocation, true);
    this.#log?.info({ table: formatIdentifier(identifier), location }, 'table created');
    return { identifier, metadata, metadataLocation };
  }

  async registerTable(id: TableIdentifier, metadataLocation: string): Promise<LoadedTable> {
    const identifier = validateIdentifier(id);
    await ns.requireNamespace(this.#meta, this.name, identifier.namespace);
    if (await this.tableExists(identifier)) throw alreadyExists(identifier);
    const metadata = await readTableMetadata(this.#store, metadataLocation);
    await this.#insert(identifier, metadataLocation, false);
    this.#log?.info({ table: formatIdentifier(identifier), metadataLocation }, 'table registered');
    return { identifier, metadata, metadataLocation };
  }

  async #insert(id: TableIdentifier, metadataLocation: string, ownsFile: boolean): Promise<void> {
    const inserted = await this.#meta.transaction(async (tx) => {
      if (!(await insertTable(tx, this.name, id.namespace, id.name, metadataLocation))) return false;
      await auditCatalogChange(tx, [{ action: ownsFile ? 'create' : 'register', id }]);
      return true;
    });
    if (inserted) return;
    if (ownsFile) await discardMetadata(this.#store, metadataLocation);
    throw alreadyExists(id);
  }

  async renameTable(from: TableIdentifier, to: TableIdentifier): Promise<void> {
    const src = validateIdentifier(from);
    const dst = validateIdentifier(to);
    if (formatIdentifier(src) === formatIdentifier(dst)) return;
    try {
      await this.#meta.transaction(async (tx) => {
        if (!(await selectTable(tx, this.name, src.namespace, src.name))) throw noSuchTable(src);
        await ns.requireNamespace(tx, this.name, dst.namespace);
        const taken = await tx.query(
          'SELECT 1 AS x FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?',
          [this.name, namespaceToString(dst.namespace), dst.name],
        );
        if (taken.length) throw alreadyExists(dst);
        if (!(await renameTableRow(tx, this.name, src, dst))) throw noSuchTable(src);
        await auditCatalogChange(tx, [
          { action: 'rename', id: dst, detail: { from: formatIdentifier(src) } },
        ]);
      });
    } catch (err) {
      if (err instanceof ConflictError && !(err instanceof AlreadyExistsError)) throw alreadyExists(dst);
      throw err;
    }
    this.#log?.info({ from: formatIdentifier(src), to: formatIdentifier(dst) }, 'table renamed');
  }

  async dropTable(id: TableIdentifier, o: { purge?: boolean } = {}): Promise<void> {
    const identifier = validateIdentifier(id);
    const { namespace, name } = identifier;
    let purge: (() => Promise<number>) | undefined;
    if (o.purge) {
      const loaded = await this.loadTable(identifier);
      purge = await purgeTableFiles(this.#meta, this.#store, this.name, loaded);
    }
    const deleted = await this.#meta.transaction(async (tx) => {
      if (!(await deleteTable(tx, this.name, namespace, name))) return false;
      await auditCatalogChange(tx, [{ action: 'drop', id: identifier, detail: { purge: Boolean(o.purge) } }]);
      return true;
    });
    if (!deleted) throw noSuchTable(identifier);
    const files = purge ? await purge() : 0;
    this.#log?.info(
      { table: formatIdentifier(identifier), purged: Boolean(purge), deleted: files },
      'table dropped',
    );
  }

  async commitTable(
    id: TableIdentifier,
    requirements: TableRequirement[],
    updates: TableUpdate[],
    o: CommitTableOptions = {},
  ): Promise<LoadedTable> {
    const [loaded] = await commitChanges(
      this.#commit,
      [{ identifier: id, requirements, updates }],
      undefined,
      o.pending,
    );
    return loaded as LoadedTable;
  }

  async listViews(namespace: string[]): Promise<TableIdentifier[]> {
    validateNamespace(namespace);
    await ns.requireNamespace(this.#meta, this.name, namespace);
    const names = await selectViewNames(this.#meta, this.name, namespace);
    return names.map((name) => ({ namespace: [...namespace], name }));
  }

  async viewExists(id: TableIdentifier): Promise<boolean> {
    return (await selectViewPointer(this.#meta, this.name, validateIdentifier(id))) !== undefined;
  }

  async loadView(id: TableIdentifier): Promise<LoadedView> {
    const identifier = validateIdentifier(id);
    const location = await selectViewPointer(this.#meta, this.name, identifier);
    if (!location) throw noSuchView(identifier);
    return {
      identifier,
      metadata: await readViewMetadata(this.#store, location),
      metadataLocation: location,
    };
  }

  /**
   * Create a view, or (with `replace`) add a new version to an existing one. A table of the
   * same name is never replaced.
   * @throws AlreadyExistsError when the name is taken (by a table, or by a view without `replace`)
   */
  async createView(
    id: TableIdentifier,
    o: { sql: string; schema: Schema; replace?: boolean; properties?: Record<string, string> },
  ): Promise<LoadedView> {
    const identifier = validateIdentifier(id);
    await ns.requireNamespace(this.#meta, this.name, identifier.namespace);
    for (let attempt = 1; ; attempt++) {
      const current = await selectViewPointer(this.#meta, this.name, identifier);
      if (current && !o.replace)
        throw new AlreadyExistsError(
          `view "${formatIdentifier(identifier)}" already exists`,
          'use CREATE OR REPLACE VIEW, or drop it first',
        );
      if (!current && (await this.tableExists(identifier)))
        throw new AlreadyExistsError(
          `"${formatIdentifier(identifier)}" is a table`,
          'drop the table first (DROP TABLE), or choose another name for the view',
        );
      const previous = current ? await readViewMetadata(this.#store, current) : undefined;
      const metadata = nextViewMetadata(previous, {
        location: this.defaultTableLocation(identifier),
        sql: o.sql,
        schema: o.schema,
        namespace: identifier.namespace,
        properties: o.properties,
      });
      const written = await writeViewMetadata(this.#store, metadata);
      const ok = current
        ? await swapViewPointer(this.#meta, this.name, identifier, current, written)
        : await insertView(this.#meta, this.name, identifier, written);
      if (ok) {
        this.#log?.info({ view: formatIdentifier(identifier) }, current ? 'view replaced' : 'view created');
        return { identifier, metadata, metadataLocation: written };
      }
      await discardMetadata(this.#store, written);
      if (attempt >= this.#commit.maxAttempts)
        throw new ConflictError(
          `view "${formatIdentifier(identifier)}" keeps changing concurrently`,
          'retry later',
        );
    }
  }

  /**
   * Write the metadata file of a view's next version (or of a new view) without pointing the
   * catalog at it: the caller swaps the pointer, e.g. in a transaction with other changes.
   */
  async stageView(
    id: TableIdentifier,
    o: { sql: string; schema: Schema; properties?: Record<string, string> },
  ): Promise<string> {
    const identifier = validateIdentifier(id);
    const current = await selectViewPointer(this.#meta, this.name, identifier);
    const previous = current ? await readViewMetadata(this.#store, current) : undefined;
    const metadata = nextViewMetadata(previous, {
      location: this.defaultTableLocation(identifier),
      sql: o.sql,
      schema: o.schema,
      namespace: identifier.namespace,
      properties: o.properties,
    });
    return writeViewMetadata(this.#store, metadata);
  }

  async dropView(id: TableIdentifier): Promise<void> {
    const identifier = validateIdentifier(id);
    if (!(await deleteView(this.#meta, this.name, identifier))) throw noSuchView(identifier);
    this.#log?.info({ view: formatIdentifier(identifier) }, 'view dropped');
  }

  /**
   * Commit changes to several tables atomically; `also` changes more catalog rows (views) in
   * the same metastore transaction. A lost race runs the whole commit again.
   */
  commitTransaction(changes: TableChange[], also?: AlsoInTransaction): Promise<LoadedTable[]> {
    if (changes.length === 0 && !also) return Promise.resolve([]);
    return commitChanges(this.#commit, changes, also);
  }
}

function noSuchView(id: TableIdentifier): NoSuchViewError {
  return new NoSuchViewError(`view "${formatIdentifier(id)}" does not exist`);
}

function noSuchTable(id: TableIdentifier): NoSuchTableError {
  return new NoSuchTableError(`table "${formatIdentifier(id)}" does not exist`);
}

function alreadyExists(id: TableIdentifier): AlreadyExistsError {
  return new AlreadyExistsError(
    `table "${formatIdentifier(id)}" already exists`,
    'choose another name or drop it first',
  );
}
