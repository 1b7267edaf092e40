import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JdbcCatalog, openCatalog } from '../../src/catalog/index.js';
import { type Duck, openDuck } from '../../src/duck/index.js';
import { type MetaStore, openMetaStore } from '../../src/metastore/index.js';
import { type ObjectStore, openObjectStore, type StorageOptions } from '../../src/storage/index.js';
import {
  appendMetadataLog,
  applyUpdates,
  checkRequirements,
  type LoadedTable,
  metadataFileName,
  metadataFileVersion,
  newTableMetadata,
  parseTableMetadata,
  serializeTableMetadata,
  type TableCatalog,
  type TableIdentifier,
  type TableRequirement,
  type TableUpdate,
  type UnboundPartitionField,
} from '../../src/table/index.js';
import type { StructType } from '../../src/table/types.js';
import { NotFoundError } from '../../src/util/index.js';

const idKey = (id: TableIdentifier) => [...id.namespace, id.name].join('.');

/**
 * A catalog kept in memory whose metadata files are written to the store like a real one;
 * commits are serialised, requirements checked as the real catalog does.
 */
export class MemoryCatalog implements TableCatalog {
  readonly tables = new Map<string, LoadedTable>();
  commits = 0;
  constructor(readonly store: ObjectStore) {}

  async createTable(
    id: TableIdentifier,
    schema: StructType,
    o: { spec?: UnboundPartitionField[]; properties?: Record<string, string> } = {},
  ): Promise<LoadedTable> {
    const location = `${this.store.url}/${[...id.namespace, id.name].join('/')}`;
    const md = newTableMetadata({
      location,
      schema,
      spec: o.spec ? { fields: o.spec } : undefined,
      properties: o.properties,
    });
    const path = `${location}/metadata/${metadataFileName(0)}`;
    await this.store.put(path.slice(this.store.url.length + 1), serializeTableMetadata(md));
    const t = { identifier: id, metadata: md, metadataLocation: path };
    this.tables.set(idKey(id), t);
    return t;
  }

  async loadTable(id: TableIdentifier): Promise<LoadedTable> {
    const t = this.tables.get(idKey(id));
    if (!t) throw new NotFoundError(`table ${idKey(id)} not found`);
    const text = (await this.store.getBytes(t.metadataLocation.slice(this.store.url.length + 1))).toString();
    return { ...t, metadata: parseTableMetadata(text) };
  }

  async commitTable(
    id: TableIdentifier,
    requirements: TableRequirement[],
    updates: TableUpdate[],
  ): Promise<LoadedTable> {
    const t = await this.loadTable(id);
    checkRequirements(t.metadata, requirements);
    let md = applyUpdates(t.metadata, updates);
    md = appendMetadataLog(md, {
      'metadata-file': t.metadataLocation,
      'timestamp-ms': t.metadata['last-updated-ms'],
    });
    const version = (metadataFileVersion(t.metadataLocation) ?? 0) + 1;
    const path = `${md.location}/metadata/${metadataFileName(version)}`;
    await this.store.put(path.slice(this.store.url.length + 1), serializeTableMetadata(md));
    const next = {
      identifier: id,
      metadata: parseTableMetadata(serializeTableMetadata(md)),
      metadataLocation: path,
    };
    this.tables.set(idKey(id), next);
    this.commits++;
    return next;
  }
}

/** A temp directory with a local store, a DuckDB pool and a memory catalog. */
export interface Env {
  dir: string;
  store: ObjectStore;
  duck: Duck;
  catalog: MemoryCatalog;
  close(): Promise<void>;
}

export async function openEnv(): Promise<Env> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-table-'));
  const store = await openObjectStore({ url: `file://${dir}/warehouse` });
  const duck = await openDuck({ threads: 2, memoryLimit: '1GB' });
  return {
    dir,
    store,
    duck,
    catalog: new MemoryCatalog(store),
    async close() {
      await duck.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A schema with fresh ids assigned by newTableMetadata (ids here are placeholders). */
export function schemaOf(fields: [name: string, type: string, required?: boolean][]): StructType {
  return {
    type: 'struct',
    fields: fields.map(([name, type, required], i) => ({
      id: i + 1,
      name,
      type: type as never,
      required: required ?? false,
    })),
  };
}

/** A real catalog (JDBC-catalog tables in a metastore) over a store, with a DuckDB pool. */
export interface CatalogEnv {
  dir: string;
  metaUrl: string;
  storage: StorageOptions;
  store: ObjectStore;
  meta: MetaStore;
  catalog: JdbcCatalog;
  duck: Duck;
  close(): Promise<void>;
}

/** Open a catalog on SQLite in a temp dir (or the given metastore URL) and a local store (or the given storage). */
export async function openCatalogEnv(
  o: { metaUrl?: string; storage?: StorageOptions } = {},
): Promise<CatalogEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-table-'));
  const metaUrl = o.metaUrl ?? `sqlite://${dir}/meta.db`;
  const storage = o.storage ?? { url: `file://${dir}/warehouse` };
  const store = await openObjectStore(storage, { cacheDir: join(dir, 'cache') });
  const meta = await openMetaStore(metaUrl);
  const catalog = openCatalog({ meta, store });
  const duck = await openDuck({ threads: 2, memoryLimit: '1GB' });
  return {
    dir,
    metaUrl,
    storage,
    store,
    meta,
    catalog,
    duck,
    async close() {
      await duck.close();
      await meta.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
