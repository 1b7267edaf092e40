import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compareKeys } from './keys.js';
import { errCode, TEMP_DIR } from './local-fs.js';

/** One file found by walkKeys. */
export interface FoundKey {
  key: string;
  path: string;
}

interface Entry {
  name: string;
  isDir: boolean;
  /** The key of a file, or the key prefix (`a/b/`) shared by everything under a directory. */
  sortKey: string;
}

/**
 * Files under `root` whose key starts with `prefix` and sorts after `startAfter`, in key order.
 * Reads one directory at a time, only when the consumer pulls: a huge tree is never loaded at once.
 * Sorting a directory's entries by `name` for files and `name/` for directories yields
 * the keys of the whole subtree in order, because no key below `d/` can sort between `d/` and
 * its next sibling.
 */
export async function* walkKeys(
  root: string,
  prefix: string,
  startAfter: string | undefined,
  signal?: AbortSignal,
): AsyncIterable<FoundKey> {
  // Start at the deepest directory the prefix names: "a/b/c" starts in "a/b".
  const cut = prefix.lastIndexOf('/');
  const base = cut < 0 ? '' : prefix.slice(0, cut + 1);
  if (base.startsWith(`${TEMP_DIR}/`)) return;
  const dir = base === '' ? root : join(root, ...base.slice(0, -1).split('/'));
  yield* walkDir(dir, base, prefix, startAfter, signal);
}

async function* walkDir(
  dir: string,
  keyPrefix: string,
  prefix: string,
  startAfter: string | undefined,
  signal: AbortSignal | undefined,
): AsyncIterable<FoundKey> {
  signal?.throwIfAborted();
  let dirents: Dirent[];
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = errCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw err;
  }
  const entries: Entry[] = [];
  for (const d of dirents) {
    // Symlinks and special files are not objects; the temp directory holds unfinished writes.
    if (keyPrefix === '' && d.name === TEMP_DIR) continue;
    if (d.isFile()) entries.push({ name: d.name, isDir: false, sortKey: keyPrefix + d.name });
    else if (d.isDirectory()) entries.push({ name: d.name, isDir: true, sortKey: `${keyPrefix}${d.name}/` });
  }
  entries.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
  for (const e of entries) {
    const k = e.sortKey;
    const underPrefix = k.startsWith(prefix);
    if (!underPrefix && !(e.isDir && prefix.startsWith(k))) {
      if (compareKeys(k, prefix) > 0) return; // sorted: nothing further can match
      continue;
    }
    if (e.isDir) {
      if (startAfter !== undefined && compareKeys(k, startAfter) < 0 && !startAfter.startsWith(k)) continue;
      yield* walkDir(join(dir, e.name), k, prefix, startAfter, signal);
    } else {
      if (startAfter !== undefined && compareKeys(k, startAfter) <= 0) continue;
      yield { key: k, path: join(dir, e.name) };
    }
  }
}
