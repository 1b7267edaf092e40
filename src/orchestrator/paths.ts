import { relative } from 'node:path';

/** `path` relative to `dir` when inside it, else as given. */
export function relativeTo(dir: string, path: string): string {
  const rel = relative(dir, path);
  return rel && !rel.startsWith('..') ? rel : path;
}
