/**
 * Query results written to files by DuckDB (Parquet downloads), kept in `exports/` of the
 * engine's temp directory while a client reads them. A file's name starts with the id of the
 * process that wrote it, so an engine that starts removes what a crashed process left behind
 * without touching the files of a live one sharing the directory.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../util/index.js';

/** A query's rows in a file; delete it with `remove` once it is read. */
export interface ExportedFile {
  path: string;
  /** Rows written. */
  rows: number;
  /** Delete the file (safe to call twice, also after it is gone). */
  remove(): Promise<void>;
}

/** The directory of exported files under an engine's temp directory. */
export function exportDir(tempDir: string): string {
  return join(tempDir, 'exports');
}

/** A new file name in `dir` for this process, with its extension. */
export async function newExportPath(dir: string, ext: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return join(dir, `${process.pid}-${randomUUID()}.${ext}`);
}

/** The file at `path` as an export of `rows` rows. */
export function exportedFile(path: string, rows: number): ExportedFile {
  return { path, rows, remove: () => rm(path, { force: true }) };
}

/** Remove the exports of processes that are gone (a crash during a download). Answers how many. */
export async function removeStaleExports(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || processAlive(pid)) continue;
    await rm(join(dir, name), { force: true });
    removed += 1;
  }
  return removed;
}
