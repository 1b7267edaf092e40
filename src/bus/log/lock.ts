/**
 * The lock file of an embedded log directory: one process owns the log. The file holds the
 * owner's pid; a lock left by a process that no longer runs (a crash) is taken over.
 */

import { open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { ConflictError, processAlive } from '../../util/index.js';

const held = new Set<string>();

/** A held lock; `release` removes the file. */
export interface DirLock {
  release(): Promise<void>;
}

/**
 * Take `<dir>/LOCK`.
 * @throws ConflictError when this or another live process holds it
 */
export async function lockDir(dir: string): Promise<DirLock> {
  const path = join(resolve(dir), 'LOCK');
  const hint =
    'one process owns the embedded event log: stop the other sluice process using this project, or use a kafka:// bus.log';
  if (held.has(path)) throw new ConflictError(`event log ${dir} is already open in this process`, hint);
  const me = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() });
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx');
      try {
        await fh.writeFile(me);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw err;
    }
    const owner = await readOwner(path);
    if (owner && owner.pid !== process.pid && owner.host === hostname() && processAlive(owner.pid)) {
      throw new ConflictError(
        `event log ${dir} is in use by process ${owner.pid} (since ${owner.since})`,
        `${hint}; if process ${owner.pid} is not sluice (its pid was reused after a crash), delete ${path}`,
      );
    }
    if (owner && owner.host !== hostname()) {
      throw new ConflictError(
        `event log ${dir} is in use by process ${owner.pid} on host ${owner.host}`,
        hint,
      );
    }
    // Left by a process that is gone: take it over.
    await rm(path, { force: true });
  }
  held.add(path);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      held.delete(path);
      await rm(path, { force: true });
    },
  };
}

async function readOwner(path: string): Promise<{ pid: number; host: string; since: string } | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as {
      pid?: unknown;
      host?: unknown;
      since?: unknown;
    };
    if (typeof parsed.pid !== 'number') return undefined;
    return { pid: parsed.pid, host: String(parsed.host ?? ''), since: String(parsed.since ?? '?') };
  } catch {
    return undefined;
  }
}
