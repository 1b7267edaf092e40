/** Roll a table's main branch back to an earlier snapshot, as one optimistic catalog commit. */
import { isAncestorOf, MAIN_BRANCH, snapshotById, type TableIdentifier } from '../table/index.js';
import { ConflictError, NotFoundError } from '../util/index.js';
import type { JdbcCatalog } from './jdbc-catalog.js';
import { formatIdentifier } from './names.js';

export interface RollbackResult {
  table: string;
  from: bigint | null;
  to: bigint;
  /** False when `to` already was the current snapshot. */
  changed: boolean;
}

/**
 * Make `target` the current snapshot of `id`. Unless `force`, it must be an ancestor of the
 * current one; the commit asserts main has not moved since it was read, so a concurrent
 * write is never silently undone. Later snapshots are kept.
 * @throws NotFoundError for an unknown snapshot, ConflictError for a non-ancestor or a lost race
 */
export async function rollbackTable(
  catalog: JdbcCatalog,
  id: TableIdentifier,
  target: bigint,
  o: { force?: boolean } = {},
): Promise<RollbackResult> {
  const { metadata: md } = await catalog.loadTable(id);
  const table = formatIdentifier(id);
  if (!snapshotById(md, target)) {
    const recent = md.snapshots.slice(-5).map((s) => String(s['snapshot-id']));
    throw new NotFoundError(
      `table "${table}" has no snapshot ${target}`,
      recent.length ? `recent snapshots: ${recent.join(', ')}` : 'the table has no snapshots',
    );
  }
  const current = md['current-snapshot-id'];
  if (current !== null && !o.force && !isAncestorOf(md, current, target)) {
    throw new ConflictError(
      `snapshot ${target} is not an ancestor of the current snapshot ${current} of "${table}"`,
      'rolling back moves to an earlier state of the current history; pass --force (or "force": true over HTTP) to make any snapshot current',
    );
  }
  if (current === target) return { table, from: current, to: target, changed: false };
  const main = md.refs[MAIN_BRANCH];
  await catalog.commitTable(
    id,
    [{ type: 'assert-ref-snapshot-id', ref: MAIN_BRANCH, 'snapshot-id': current }],
    [{ ...main, action: 'set-snapshot-ref', 'ref-name': MAIN_BRANCH, type: 'branch', 'snapshot-id': target }],
  );
  return { table, from: current, to: target, changed: true };
}
