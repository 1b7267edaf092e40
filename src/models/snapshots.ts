/**
 * dbt snapshots: type-2 slowly changing dimensions of a query. The first build creates the
 * table with the query's rows plus `dbt_scd_id`, `dbt_updated_at`, `dbt_valid_from` and
 * `dbt_valid_to` (NULL: the current version); each later build is ONE `MERGE` (one commit
 * through the table layer) that closes the current version of every changed row
 * (`dbt_valid_to` set) and inserts its new version, and inserts rows with new keys.
 *
 * - `strategy='timestamp'`: a row changed when its `updated_at` column is newer than the
 *   current version's `dbt_updated_at`; versions are stamped with that column.
 * - `strategy='check'`: a row changed when one of `check_cols` (or any column with `all`)
 *   differs from the current version; versions are stamped with the build's start time.
 */
import { quoteIdent } from '../table/index.js';
import type { ModelNode } from './types.js';

/** The dbt columns a snapshot adds. */
export const SNAPSHOT_COLUMNS = ['dbt_scd_id', 'dbt_updated_at', 'dbt_valid_from', 'dbt_valid_to'];

function keyExpr(node: ModelNode, alias: string): string {
  const cols = node.config.uniqueKey ?? [];
  if (cols.length === 1) return `${alias}.${quoteIdent(cols[0] as string)}`;
  return `concat_ws('|', ${cols.map((c) => `${alias}.${quoteIdent(c)}`).join(', ')})`;
}

/** The version stamp of a source row, and the condition "this source row changed". */
function strategy(node: ModelNode, columns: string[], startedAt: string) {
  const s = node.config.snapshot;
  if (s?.strategy === 'timestamp') {
    const upd = `src.${quoteIdent(s.updatedAt as string)}`;
    return { stamp: upd, changed: `${upd} > cur.dbt_updated_at` };
  }
  const key = new Set(node.config.uniqueKey ?? []);
  const cols = s?.checkCols === 'all' || !s?.checkCols ? columns.filter((c) => !key.has(c)) : s.checkCols;
  const diff = cols.map((c) => `src.${quoteIdent(c)} IS DISTINCT FROM cur.${quoteIdent(c)}`);
  return { stamp: `TIMESTAMP '${startedAt}'`, changed: diff.length ? `(${diff.join(' OR ')})` : 'false' };
}

/** The rows of a snapshot's first build. */
export function firstSnapshotSql(
  node: ModelNode,
  select: string,
  columns: string[],
  startedAt: string,
): string {
  const { stamp } = strategy(node, columns, startedAt);
  return `SELECT src.*, md5(CAST(${keyExpr(node, 'src')} AS VARCHAR) || '|' || CAST(${stamp} AS VARCHAR)) AS dbt_scd_id,
  ${stamp} AS dbt_updated_at, ${stamp} AS dbt_valid_from, NULLIF(${stamp}, ${stamp}) AS dbt_valid_to
FROM (${select}) AS src`;
}

/** The MERGE of a later build: close changed versions, insert new versions and new keys. */
export function mergeSnapshotSql(
  node: ModelNode,
  relation: string,
  select: string,
  columns: string[],
  startedAt: string,
): string {
  const { stamp, changed } = strategy(node, columns, startedAt);
  const srcKey = keyExpr(node, 'src');
  const curKey = keyExpr(node, 'cur');
  const all = [...columns, ...SNAPSHOT_COLUMNS].map(quoteIdent);
  const staged = `WITH src AS (${select}),
  cur AS (SELECT * FROM ${relation} WHERE dbt_valid_to IS NULL),
  ins AS (
    SELECT src.*, md5(CAST(${srcKey} AS VARCHAR) || '|' || CAST(${stamp} AS VARCHAR)) AS dbt_scd_id,
      ${stamp} AS dbt_updated_at, ${stamp} AS dbt_valid_from, NULLIF(${stamp}, ${stamp}) AS dbt_valid_to,
      'insert' AS dbt_change_type
    FROM src LEFT JOIN cur ON ${curKey} = ${srcKey}
    WHERE cur.dbt_scd_id IS NULL OR ${changed}),
  upd AS (
    SELECT cur.* REPLACE (${stamp} AS dbt_valid_to), 'update' AS dbt_change_type
    FROM src JOIN cur ON ${curKey} = ${srcKey}
    WHERE ${changed})
  SELECT * FROM ins UNION ALL BY NAME SELECT * FROM upd`;
  return `MERGE INTO ${relation} AS t USING (${staged}) AS s ON t.dbt_scd_id = s.dbt_scd_id
WHEN MATCHED AND t.dbt_valid_to IS NULL AND s.dbt_change_type = 'update' THEN UPDATE SET dbt_valid_to = s.dbt_valid_to
WHEN NOT MATCHED AND s.dbt_change_type = 'insert' THEN INSERT (${all.join(', ')}) VALUES (${all.map((c) => `s.${c}`).join(', ')})`;
}
