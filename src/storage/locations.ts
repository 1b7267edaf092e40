/**
 * Table locations (absolute URIs written into Iceberg metadata) ↔ object-store keys
 * (relative to the store's root). Only locations under the store's root can be read or
 * written by Sluice; anything else is refused with a clear error.
 */
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../util/index.js';
import { validatePrefix } from './keys.js';
import type { ObjectStore } from './types.js';

const S3_RE = /^s3[an]?:\/\/([^/?#]+)(?:\/(.*))?$/;

function outside(store: ObjectStore, uri: string): InvalidInputError {
  return new InvalidInputError(
    `location ${JSON.stringify(uri)} is outside the object store ${store.url}`,
    'Sluice reads and writes table files only through its storage; use a location under storage.url',
  );
}

function strip(path: string): string {
  return path.replace(/\/+$/, '');
}

/** The path of a local location (`file:///abs`, `file:/abs` or `/abs`), or undefined. */
function localPath(uri: string): string | undefined {
  if (uri.startsWith('/')) return posix.normalize(uri);
  if (!/^file:/i.test(uri)) return undefined;
  try {
    return posix.normalize(fileURLToPath(new URL(uri)));
  } catch {
    return undefined;
  }
}

/**
 * The store key of a location URI: `''` for the store's root, else a validated relative key.
 * Keys follow the root verbatim (`<store.url>/<key>`, as Java's FileIO and the data plane
 * write them); `file:` URLs in other spellings (`file:/abs`, %-escaped) and absolute paths are
 * accepted for local stores, `s3a://` and `s3n://` for S3 stores.
 * @throws InvalidInputError when the location is not under the store's root.
 */
export function keyForLocation(store: ObjectStore, uri: string): string {
  const root = strip(store.url);
  let rel: string | undefined;
  if (uri === root || uri === `${root}/`) rel = '';
  else if (uri.startsWith(`${root}/`)) rel = strip(uri.slice(root.length + 1));
  else if (root.startsWith('file:')) {
    const base = strip(fileURLToPath(root));
    const path = localPath(uri);
    if (path !== undefined) {
      const p = strip(path);
      if (p === base) rel = '';
      else if (p.startsWith(`${base}/`)) rel = p.slice(base.length + 1);
    }
  } else {
    const r = S3_RE.exec(root);
    const u = S3_RE.exec(uri);
    if (r && u && r[1] === u[1]) {
      const base = strip(r[2] ?? '');
      const path = strip(u[2] ?? '');
      if (path === base) rel = '';
      else if (base === '') rel = path;
      else if (path.startsWith(`${base}/`)) rel = path.slice(base.length + 1);
    }
  }
  if (rel === undefined) throw outside(store, uri);
  if (rel === '') return '';
  try {
    return validatePrefix(rel);
  } catch (err) {
    throw new InvalidInputError(
      `location ${JSON.stringify(uri)} cannot be stored: ${(err as Error).message}`,
    );
  }
}

/** The absolute location URI of a store key (`''` is the store's root): `<store.url>/<key>`. */
export function locationForKey(store: ObjectStore, key: string): string {
  const k = key.replace(/^\/+|\/+$/g, '');
  return k === '' ? strip(store.url) : `${strip(store.url)}/${k}`;
}

/** Join a location URI and a relative path with exactly one "/". */
export function joinLocation(location: string, ...parts: string[]): string {
  return [strip(location), ...parts.map((p) => p.replace(/^\/+|\/+$/g, ''))].join('/');
}
