import type { PartitionSpec, Schema, SortOrder, TableMetadata } from './types.js';
import type { TableRequirement, TableUpdate } from './updates.js';

/** A table's name: its namespace levels and its own name. */
export interface TableIdentifier {
  namespace: string[];
  name: string;
}

/** A table as the catalog holds it: current metadata and where that metadata file lives. */
export interface LoadedTable {
  identifier: TableIdentifier;
  metadata: TableMetadata;
  /** Absolute URI of the current metadata JSON file. */
  metadataLocation: string;
}

export interface CreateTableRequest {
  schema: Schema;
  partitionSpec?: PartitionSpec;
  sortOrder?: SortOrder;
  properties?: Record<string, string>;
  /** Table location URI; default `<warehouse>/<namespace levels>/<name>`. */
  location?: string;
}

/**
 * What table operations need from a catalog: load the current metadata, and commit a
 * change atomically. Implemented by src/catalog; defined here so tables do not depend on it.
 */
export interface TableCatalog {
  /** The current metadata. @throws NotFoundError when the table does not exist. */
  loadTable(id: TableIdentifier): Promise<LoadedTable>;
  /**
   * Check `requirements` against the current metadata, apply `updates`, write a new
   * metadata file and swap the catalog pointer with compare-and-swap. If the pointer moved
   * concurrently, the requirements are re-checked against the newer metadata and the
   * updates re-applied (never a lost commit). A missing table is created when the
   * requirements include `assert-create` (staged creates, as Spark and PyIceberg send them).
   * @throws ConflictError when a requirement fails ("expected X, found Y").
   * @throws NotFoundError when the table does not exist and the commit does not create it.
   */
  commitTable(
    id: TableIdentifier,
    requirements: TableRequirement[],
    updates: TableUpdate[],
    o?: CommitTableOptions,
  ): Promise<LoadedTable>;
}

/** Options of `TableCatalog.commitTable`. */
export interface CommitTableOptions {
  /**
   * Writes of files the new metadata refers to (manifests, manifest list), still in flight:
   * the metadata file is written meanwhile, and the catalog pointer is swapped only once they
   * have all succeeded (not at all when one fails), so every file of a commit is durable before
   * any reader can see it.
   */
  pending?: Promise<unknown>;
}

/** A catalog of namespaces and tables (the JDBC-catalog tables in the metastore). */
export interface Catalog extends TableCatalog {
  /** Catalog name, the `catalog_name` column of the JDBC-catalog tables. */
  readonly name: string;
  /** Root location URI under which new tables are placed. */
  readonly warehouse: string;
  /** Namespaces directly under `parent` (top level when omitted). @throws NotFoundError for a missing parent */
  listNamespaces(parent?: string[]): Promise<string[][]>;
  /** @throws ConflictError when it exists */
  createNamespace(ns: string[], properties?: Record<string, string>): Promise<void>;
  namespaceExists(ns: string[]): Promise<boolean>;
  /** @throws NotFoundError */
  loadNamespaceProperties(ns: string[]): Promise<Record<string, string>>;
  /** @throws NotFoundError */
  updateNamespaceProperties(
    ns: string[],
    removals: string[],
    updates: Record<string, string>,
  ): Promise<{ updated: string[]; removed: string[]; missing: string[] }>;
  /** @throws NotFoundError; ConflictError when the namespace still holds tables or namespaces */
  dropNamespace(ns: string[]): Promise<void>;
  /** @throws NotFoundError for a missing namespace */
  listTables(ns: string[]): Promise<TableIdentifier[]>;
  /** @throws ConflictError when it exists; NotFoundError for a missing namespace */
  createTable(id: TableIdentifier, req: CreateTableRequest): Promise<LoadedTable>;
  tableExists(id: TableIdentifier): Promise<boolean>;
  /** @throws NotFoundError for the source; ConflictError when the target exists */
  renameTable(from: TableIdentifier, to: TableIdentifier): Promise<void>;
  /** Remove the table from the catalog; with `purge`, delete its files too. @throws NotFoundError */
  dropTable(id: TableIdentifier, o?: { purge?: boolean }): Promise<void>;
  /** Register an existing metadata file as a table. @throws ConflictError when it exists */
  registerTable(id: TableIdentifier, metadataLocation: string): Promise<LoadedTable>;
}
