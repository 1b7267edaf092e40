/**
 * The incremental cursor of a task in the metastore state table, updated with
 * compare-and-swap right after each table commit. The commit's snapshot summary carries the
 * same cursor and wins when the two disagree (a crash between commit and update).
 */
import type { MetaStore } from '../metastore/index.js';

const SCOPE = 'ingest.cursor';

/** The stored cursor of a task and its version. */
export async function loadCursor(
  meta: MetaStore,
  task: string,
): Promise<{ cursor: Record<string, string>; version: number } | undefined> {
  const [row] = await meta.query<{ value: string | null; version: number | bigint }>(
    'SELECT value, version FROM sluice_state WHERE scope = ? AND key = ?',
    [SCOPE, task],
  );
  if (!row) return undefined;
  return {
    cursor: row.value ? (JSON.parse(row.value) as Record<string, string>) : {},
    version: Number(row.version),
  };
}

/** Store a task's cursor (compare-and-swap on the version; retried when another writer moved it). */
export async function saveCursor(
  meta: MetaStore,
  task: string,
  cursor: Record<string, string>,
): Promise<void> {
  const value = JSON.stringify(cursor);
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await loadCursor(meta, task);
    if (!current) {
      const { rowCount } = await meta.execute(
        'INSERT INTO sluice_state (scope, key, value, version) VALUES (?, ?, ?, 1) ON CONFLICT (scope, key) DO NOTHING',
        [SCOPE, task, value],
      );
      if (rowCount > 0) return;
      continue;
    }
    const swapped = await meta.compareAndSwap({
      table: 'sluice_state',
      key: { scope: SCOPE, key: task },
      expected: { version: current.version },
      set: { value, version: current.version + 1 },
    });
    if (swapped) return;
  }
}
