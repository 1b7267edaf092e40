import { InvalidInputError, redactUrl } from '../util/index.js';
import type { OpenStoreOptions, StorageOptions, StoreFactory } from './options.js';
import type { ObjectStore } from './types.js';

export type { ReadCacheStats } from './cache.js';
export { compareKeys, MAX_KEY_LENGTH, validateKey, validatePrefix } from './keys.js';
export { fsyncDir, mkdirDurably } from './local-fs.js';
export type { OpenStoreOptions, StorageLogger, StorageOptions } from './options.js';
export type { Body, GetOptions, ListOptions, ObjectInfo, ObjectStore, SignalOptions } from './types.js';

/** Store implementations by URL scheme, loaded on first use so that S3 code loads only when used. */
const stores = new Map<string, () => Promise<StoreFactory>>([
  ['file:', () => import('./local-store.js').then((m) => m.openLocalStore)],
  ['s3:', () => import('./s3-store.js').then((m) => m.openS3Store)],
]);

/** URL schemes openObjectStore accepts. */
export const STORAGE_SCHEMES: readonly string[] = [...stores.keys()];

/**
 * Open the object store that `config.url` names: `file:///absolute/dir` or `s3://bucket/prefix`.
 * @throws InvalidInputError for a malformed URL or an unknown scheme; BackendError when the backend is unusable.
 */
export async function openObjectStore(
  config: StorageOptions,
  o: OpenStoreOptions = {},
): Promise<ObjectStore> {
  const forms = 'file:///absolute/dir or s3://bucket/prefix';
  const hint = `use ${forms}`;
  if (typeof config?.url !== 'string' || config.url === '') {
    throw new InvalidInputError('storage.url is required', hint);
  }
  let url: URL;
  try {
    url = new URL(config.url);
  } catch (err) {
    throw new InvalidInputError(`storage.url ${JSON.stringify(redactUrl(config.url))} is not a URL`, hint, {
      cause: err,
    });
  }
  const load = stores.get(url.protocol);
  if (!load) {
    throw new InvalidInputError(
      `unknown storage scheme "${url.protocol}" in ${JSON.stringify(redactUrl(config.url))}`,
      `accepted schemes: ${STORAGE_SCHEMES.join(', ')} (${forms})`,
    );
  }
  const open = await load();
  return open(url, config, o);
}

/**
 * Remove temp files that crashed writes left in a local store (`file:///dir`) older than `olderThanMs`
 * (default one day); stores also do this when they open. Returns how many were removed.
 */
export async function cleanLocalTemp(url: string, o: { olderThanMs?: number } = {}): Promise<number> {
  const { localRoot } = await import('./local-store.js');
  const { removeStaleTemp } = await import('./local-fs.js');
  return removeStaleTemp(localRoot(new URL(url)), o.olderThanMs ?? 24 * 3600_000);
}
export { joinLocation, keyForLocation, locationForKey } from './locations.js';
