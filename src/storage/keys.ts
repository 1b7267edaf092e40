import { InvalidInputError } from '../util/index.js';

/** Longest key accepted, in characters (S3 allows 1024 bytes of UTF-8). */
export const MAX_KEY_LENGTH = 1024;

const KEY_HINT = 'keys are relative and "/"-separated, like "tables/t1/data/part-0.parquet"';

/**
 * Check an object key: relative, `/`-separated, no empty, `.` or `..` segments, no backslash,
 * no control characters, at most 1024 characters. Nothing that passes can escape a store's root.
 * @throws InvalidInputError naming the key and the rule it breaks.
 */
export function validateKey(key: string): string {
  const reason = keyProblem(key);
  if (reason) throw new InvalidInputError(`invalid object key ${JSON.stringify(key)}: ${reason}`, KEY_HINT);
  return key;
}

/**
 * Check a listing prefix: empty, or a key (a trailing `/` allowed) that may end in a partial segment.
 * @throws InvalidInputError
 */
export function validatePrefix(prefix: string): string {
  if (prefix === '') return prefix;
  const body = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  const reason = keyProblem(body);
  if (reason)
    throw new InvalidInputError(`invalid key prefix ${JSON.stringify(prefix)}: ${reason}`, KEY_HINT);
  return prefix;
}

function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return 'not a string';
  if (key.length === 0) return 'empty';
  if (key.length > MAX_KEY_LENGTH) return `longer than ${MAX_KEY_LENGTH} characters`;
  if (hasControlChar(key)) return 'contains a control character';
  if (key.includes('\\')) return 'contains a backslash';
  if (key.startsWith('/')) return 'starts with "/"';
  for (const segment of key.split('/')) {
    if (segment === '') return 'has an empty segment';
    if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
  }
  return undefined;
}

/** Order of keys in listings: byte order of their UTF-8 encoding, as S3 lists them. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  // UTF-16 order equals UTF-8 byte order unless a surrogate pair meets a code unit >= U+E000.
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      if (x < 0xd800 || y < 0xd800) return x - y;
      const from = i > 0 && isHighSurrogate(a.charCodeAt(i - 1)) ? i - 1 : i;
      return Buffer.compare(Buffer.from(a.slice(from)), Buffer.from(b.slice(from)));
    }
  }
  return a.length - b.length;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** C0 controls, DEL and C1 controls (NUL included) are never valid in a key. */
function hasControlChar(key: string): boolean {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}
