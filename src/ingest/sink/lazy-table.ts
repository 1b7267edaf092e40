/** A table that may not exist yet: opened when present, created (with its namespace) on first write. */
import type { JdbcCatalog } from '../../catalog/index.js';
import type { Duck } from '../../duck/index.js';
import type { ObjectStore } from '../../storage/index.js';
import {
  type CreateTableRequest,
  openTable,
  type Snapshot,
  type Table,
  type TableIdentifier,
} from '../../table/index.js';
import { NotFoundError } from '../../util/index.js';

/** Shared by the sink table and its quarantine table. */
export class LazyTable {
  readonly #catalog: JdbcCatalog;
  readonly #store: ObjectStore;
  readonly #duck: Duck;
  readonly id: TableIdentifier;
  #table: Table | undefined;

  constructor(catalog: JdbcCatalog, store: ObjectStore, duck: Duck, id: TableIdentifier) {
    this.#catalog = catalog;
    this.#store = store;
    this.#duck = duck;
    this.id = id;
  }

  /** The table (reloaded), or undefined while it does not exist. */
  async table(): Promise<Table | undefined> {
    if (this.#table) return this.#table.refresh();
    try {
      this.#table = await openTable(this.#catalog, this.#store, this.#duck, this.id);
      return this.#table;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /** Snapshots of the table (none before it exists). */
  async snapshots(): Promise<Snapshot[]> {
    return (await this.table())?.snapshots() ?? [];
  }

  /** Create the table (and its namespace) unless another writer just did; then open it. */
  protected async create(req: CreateTableRequest): Promise<Table> {
    const catalog = this.#catalog;
    if (!(await catalog.namespaceExists(this.id.namespace))) {
      await catalog.createNamespace(this.id.namespace).catch(async (err) => {
        if (!(await catalog.namespaceExists(this.id.namespace))) throw err;
      });
    }
    await catalog.createTable(this.id, req).catch(async (err) => {
      if (!(await catalog.tableExists(this.id))) throw err;
    });
    this.#table = await openTable(catalog, this.#store, this.#duck, this.id);
    return this.#table;
  }
}
