/** Shared types of the Iceberg REST server. */
import type { Logger } from '../../observe/index.js';
import type { Catalog } from '../../table/index.js';
import type { CatalogExtensions } from '../jdbc-catalog.js';

/** What a request does, as the authorization hook sees it. */
export type CatalogAction =
  | 'config:read'
  | 'namespace:list'
  | 'namespace:create'
  | 'namespace:read'
  | 'namespace:update'
  | 'namespace:drop'
  | 'table:list'
  | 'table:create'
  | 'table:read'
  | 'table:commit'
  | 'table:drop'
  | 'table:rename'
  | 'table:register'
  | 'table:metrics';

/** What a request acts on (a namespace, a table in it, or the catalog when both are absent). */
export interface CatalogResource {
  namespace?: string[];
  table?: string;
}

/**
 * Decides whether a request may do `action` on `resource`; resolves to allow, throws a
 * SluiceError with code `unauthorized` (401) or `forbidden` (403) to refuse.
 */
export type Authorize = (req: Request, action: CatalogAction, resource: CatalogResource) => Promise<void>;

/** What the route modules share. */
export interface RestDeps {
  catalog: Catalog & Partial<CatalogExtensions>;
  log: Logger | undefined;
  authorize: Authorize;
  /** The `config` of every LoadTableResult (FileIO settings for clients). */
  tableConfig: Record<string, string>;
}
