/** Deleting a dropped table's files: everything under its location (and its metadata path). */
import type { MetaStore } from '../metastore/index.js';
import type { ObjectStore } from '../storage/index.js';
import { keyForLocation } from '../storage/index.js';
import type { LoadedTable } from '../table/index.js';
import { InvalidInputError } from '../util/index.js';
import { otherMetadataLocations } from './jdbc-sql.js';
import { WRITE_METADATA_PATH } from './metadata-io.js';
import { formatIdentifier } from './names.js';

const DELETE_BATCH = 1000;

function mapped(store: ObjectStore, location: string): string | undefined {
  try {
    return keyForLocation(store, location);
  } catch {
    return undefined;
  }
}

/**
 * Check that the table's files can be purged safely and return the function that deletes
 * them (to run once the catalog row is gone); it returns how many objects it deleted.
 * @throws InvalidInputError when the location is the store's root, lies outside the store, or
 * holds another table's metadata.
 */
export async function purgeTableFiles(
  meta: MetaStore,
  store: ObjectStore,
  catalog: string,
  table: LoadedTable,
): Promise<() => Promise<number>> {
  const name = formatIdentifier(table.identifier);
  const md = table.metadata;
  const hint = 'drop the table without --purge and delete its files by hand';
  const prefixes = [md.location, md.properties[WRITE_METADATA_PATH]]
    .filter((l): l is string => Boolean(l))
    .map((l) => {
      const key = mapped(store, l);
      if (key === undefined)
        throw new InvalidInputError(`cannot purge "${name}": location ${l} is outside ${store.url}`, hint);
      if (key === '')
        throw new InvalidInputError(`cannot purge "${name}": its location is the storage root`, hint);
      return `${key}/`;
    });
  const others = await otherMetadataLocations(
    meta,
    catalog,
    table.identifier.namespace,
    table.identifier.name,
  );
  for (const other of others) {
    const key = mapped(store, other);
    if (key !== undefined && prefixes.some((p) => key.startsWith(p))) {
      throw new InvalidInputError(
        `cannot purge "${name}": another table's metadata (${other}) lies under its location`,
        hint,
      );
    }
  }
  return async () => {
    let deleted = 0;
    for (const prefix of new Set(prefixes)) {
      let batch: string[] = [];
      for await (const info of store.list(prefix)) {
        batch.push(info.key);
        if (batch.length >= DELETE_BATCH) {
          await store.delete(batch);
          deleted += batch.length;
          batch = [];
        }
      }
      if (batch.length) await store.delete(batch);
      deleted += batch.length;
    }
    return deleted;
  };
}
