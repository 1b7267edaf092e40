/**
 * Table locations (absolute URIs written into Iceberg metadata) ↔ object-store keys
 * (relative to the store's root). Only locations under the store's root can be read or
 * written by Sluice; anything else is refused with a clear error.
 *
 * Locations of local stores are written `file://` + the plain absolute path, spaces and
 * non-ASCII characters as they are, never %-escaped: Java's Hadoop file IO writes them so,
 * and readers take the path of the URI without decoding it (PyIceberg's
 * `urlparse(location).path`, Hadoop's `new Path(location)`), so an escaped `my%20data` would
 * send them to a directory that does not exist. Keys follow the root verbatim, as Java's
 * FileIO writes them (a partition value escaped as `a%2Fb` stays `a%2Fb`).
 */
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../util/index.js';
import { validatePrefix } from './keys.js';
import type { ObjectStore } from './types.js';

const S3_RE = /^s3[an]?:\/\/([^/?#]+)(?:\/(.*))?$/;
/** `file:/abs`, `file:///abs`, `file://localhost/abs`: the path as written. */
const FILE_RE = /^file:(?:\/\/(?:localhost)?)?(\/.*)$/i;

function outside(store: ObjectStore, uri: string): InvalidInputError {
  return new InvalidInputError(
    `location ${JSON.stringify(uri)} is outside the object store ${store.url}`,
    'Sluice reads and writes table files only through its storage; use a location under storage.url',
  );
}

function strip(path: string): string {
  return path.replace(/\/+$/, '');
}

/** The directory of a local store (its `file:` URL decoded), or undefined for other stores. */
function localBase(store: ObjectStore): string | undefined {
  if (!/^file:/i.test(store.url)) return undefined;
  return strip(fileURLToPath(store.url)) || '/';
}

/** `rel` when `path` is `base` or lies under it, else undefined. */
function under(base: string, path: string): string | undefined {
  const p = strip(path);
  if (p === base) return '';
  const prefix = base === '/' ? '/' : `${base}/`;
  return p.startsWith(prefix) ? p.slice(prefix.length) : undefined;
}

/** The key of a location in a local store, trying the plain path first, then the %-decoded one. */
function localKey(base: string, uri: string): string | undefined {
  const plain = uri.startsWith('/') ? uri : FILE_RE.exec(uri)?.[1];
  if (plain !== undefined) {
    const rel = under(base, posix.normalize(plain));
    if (rel !== undefined) return rel;
  }
  if (!/^file:/i.test(uri)) return undefined;
  try {
    return under(base, posix.normalize(fileURLToPath(new URL(uri))));
  } catch {
    return undefined;
  }
}

/**
 * The store key of a location URI: `''` for the store's root, else a validated relative key.
 * Accepted for local stores: `file://` + plain path (what Sluice writes), `<store.url>/<key>`
 * with the root %-escaped (what earlier versions wrote), `file:/abs`, fully %-escaped `file:`
 * URLs and absolute paths; for S3 stores `s3://`, `s3a://` and `s3n://`.
 * @throws InvalidInputError when the location is not under the store's root.
 */
export function keyForLocation(store: ObjectStore, uri: string): string {
  const root = strip(store.url);
  const base = localBase(store);
  let rel: string | undefined;
  if (uri === root || uri === `${root}/`) rel = '';
  else if (uri.startsWith(`${root}/`)) rel = strip(uri.slice(root.length + 1));
  else if (base !== undefined) rel = localKey(base, uri);
  else {
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

/**
 * The absolute location URI of a store key (`''` is the store's root): `<root>/<key>`, where
 * the root of a local store is `file://` + its plain path (see the module comment).
 */
export function locationForKey(store: ObjectStore, key: string): string {
  const base = localBase(store);
  const root = base === undefined ? strip(store.url) : `file://${base === '/' ? '' : base}`;
  const k = key.replace(/^\/+|\/+$/g, '');
  return k === '' ? root : `${root}/${k}`;
}

/** Join a location URI and a relative path with exactly one "/". */
export function joinLocation(location: string, ...parts: string[]): string {
  return [strip(location), ...parts.map((p) => p.replace(/^\/+|\/+$/g, ''))].join('/');
}
