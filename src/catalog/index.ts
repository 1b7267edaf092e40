// Catalog: namespaces and tables in the JDBC-catalog tables; the Iceberg REST catalog server.
export type { AlsoInTransaction, TableChange } from './commit.js';
export {
  AlreadyExistsError,
  CommitFailedError,
  icebergTypeOf,
  NamespaceNotEmptyError,
  NoSuchNamespaceError,
  NoSuchTableError,
} from './errors.js';
export {
  type CatalogExtensions,
  type CatalogOptions,
  DEFAULT_CATALOG_NAME,
  DEFAULT_MAX_COMMIT_ATTEMPTS,
  JdbcCatalog,
  openCatalog,
} from './jdbc-catalog.js';
export { readTableMetadata } from './metadata-io.js';
export {
  formatIdentifier,
  MAX_NAME_LENGTH,
  parseIdentifier,
  validateIdentifier,
  validateNamespace,
} from './names.js';
export {
  type CatalogAction,
  type CatalogResource,
  createIcebergRestApp,
  type IcebergRestOptions,
  restTableConfig,
} from './rest/app.js';
export { type RollbackResult, rollbackTable } from './rollback.js';
export {
  deleteView,
  insertView,
  type LoadedView,
  swapViewPointer,
  VIEW_RECORD_TYPE,
  type ViewMetadata,
  viewSchema,
  viewSql,
} from './views.js';
