/** Reading and writing table metadata JSON files through the object store. */
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { ObjectStore } from '../storage/index.js';
import { joinLocation, keyForLocation } from '../storage/index.js';
import {
  loadTableSchemas,
  metadataFileName,
  metadataFileVersion,
  parseTableMetadata,
  serializeTableMetadata,
  type TableMetadata,
} from '../table/index.js';
import { BackendError, InvalidInputError, NotFoundError } from '../util/index.js';

/** Table property naming where metadata files are written (default `<location>/metadata`). */
export const WRITE_METADATA_PATH = 'write.metadata.path';

/**
 * The text of the metadata file at `location` (gzip-compressed files are accepted).
 * @throws NotFoundError when the file is missing.
 */
export async function readMetadataText(store: ObjectStore, location: string): Promise<string> {
  const key = keyForLocation(store, location);
  let bytes: Buffer;
  try {
    bytes = await store.getBytes(key);
  } catch (err) {
    if (err instanceof NotFoundError)
      throw new NotFoundError(`metadata file ${location} does not exist`, undefined, { cause: err });
    throw err;
  }
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
}

/**
 * Validate `text`, read from the metadata file at `location`.
 * @throws InvalidInputError naming the file when it is not valid v2 metadata.
 */
export async function parseMetadataFile(location: string, text: string): Promise<TableMetadata> {
  await loadTableSchemas();
  try {
    return parseTableMetadata(text);
  } catch (err) {
    throw new InvalidInputError(`metadata file ${location}: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
}

/** Metadata files committed lately through each store, by location, most recent last. */
const remembered = new WeakMap<ObjectStore, Map<string, TableMetadata>>();
/** Metadata files remembered per store. */
const REMEMBERED_METADATA = 64;

/**
 * Remember the metadata just committed at `location`, so that loading the table again needs
 * neither a read nor a validation. Metadata files never change once written.
 */
export function rememberMetadata(store: ObjectStore, location: string, md: TableMetadata): void {
  let cache = remembered.get(store);
  if (!cache) {
    cache = new Map();
    remembered.set(store, cache);
  }
  cache.delete(location);
  cache.set(location, md);
  if (cache.size > REMEMBERED_METADATA) cache.delete(cache.keys().next().value as string);
}

/** Metadata remembered for `location` (see `rememberMetadata`), if any. */
export function rememberedMetadata(store: ObjectStore, location: string): TableMetadata | undefined {
  return remembered.get(store)?.get(location);
}

/**
 * Read and validate the metadata file at `location` (gzip-compressed files are accepted),
 * unless it was committed through this store lately.
 * @throws NotFoundError when the file is missing; InvalidInputError when it is not valid v2 metadata.
 */
export async function readTableMetadata(store: ObjectStore, location: string): Promise<TableMetadata> {
  return (
    rememberedMetadata(store, location) ??
    parseMetadataFile(location, await readMetadataText(store, location))
  );
}

/** The directory new metadata files of `md` go to. */
export function metadataDir(md: TableMetadata): string {
  return md.properties[WRITE_METADATA_PATH] ?? joinLocation(md.location, 'metadata');
}

/** Version number the metadata file following `previous` gets (0 for a new table). */
export function nextMetadataVersion(previous: string | undefined, md?: TableMetadata): number {
  if (previous === undefined) return 0;
  return (metadataFileVersion(previous) ?? md?.['metadata-log'].length ?? 0) + 1;
}

/**
 * Write `md` as a new metadata file `<dir>/<NNNNN>-<uuid>.metadata.json`, never replacing an
 * existing object. Returns the file's location.
 */
export async function writeTableMetadata(
  store: ObjectStore,
  md: TableMetadata,
  version: number,
): Promise<string> {
  const body = serializeTableMetadata(md);
  for (let attempt = 0; attempt < 3; attempt++) {
    const location = joinLocation(metadataDir(md), metadataFileName(version, randomUUID()));
    if (await store.putIfAbsent(keyForLocation(store, location), body)) return location;
  }
  throw new BackendError(
    `could not write a new metadata file under ${metadataDir(md)}: every name was taken`,
  );
}

/** Remove a metadata file that lost a commit race (best effort: an orphan is harmless). */
export async function discardMetadata(store: ObjectStore, location: string): Promise<void> {
  await store.delete([keyForLocation(store, location)]).catch(() => undefined);
}
