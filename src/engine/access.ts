/**
 * Which lake tables a statement reads and writes, asked of DuckDB's own parser
 * (`json_serialize_sql`), so that the session's access hook is called once per table, and
 * reads of masked columns are rewritten to read a masking subquery instead of the table.
 *
 * The engine knows nothing of users or grants: the hook decides and may throw a
 * PermissionError; it answers a read with the columns to mask.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent } from '../table/index.js';
import { InvalidInputError, PermissionError } from '../util/index.js';
import type { StatementPlan } from './classify.js';
import { SqlError } from './errors.js';
import type { LakeTable, LakeView, LakeViews } from './lake.js';
import type { AccessHook, MaskMethod, TableAccess } from './types.js';

/** Schemas of Sluice's own tables: nobody writes them with SQL (the platform writes them directly). */
const SYSTEM_SCHEMAS = new Set(['sluice_system']);

/**
 * Table functions a session with an access hook may call: they read no files and no tables
 * (`read_parquet`, `query_table`, `iceberg_scan`... would bypass per-table checks).
 */
const SAFE_TABLE_FUNCTIONS =
  /^(range|generate_series|unnest|json_each|json_tree|duckdb_\w+|pragma_\w+|sql_auto_complete|test_all_types|repeat|repeat_row)$/i;

/** Statements without table references (settings, transactions, read-only PRAGMAs). */
const NO_TABLES = new Set(['SET', 'RESET', 'BEGIN', 'COMMIT', 'END', 'ROLLBACK', 'ABORT', 'PRAGMA']);

type Json = Record<string, unknown>;

/** A table reference of the parsed statement, with where it sits (for rewriting). */
interface TableRef {
  node: Json;
  parent: Json | unknown[];
  key: string | number;
  lake: LakeTable;
  /** The name as written (a `t@spec` time-travel name keeps its suffix). */
  written: string;
}

/**
 * Refuse SQL writes of Sluice's own tables (`sluice_system.*`, e.g. the audit trail), for
 * everyone: the platform appends to them through the table layer, never through SQL.
 * @throws PermissionError
 */
export function refuseSystemWrite(plan: StatementPlan): void {
  if (plan.kind === 'duck' || plan.target.length < 2) return;
  const schema = plan.target.at(-2)?.toLowerCase() ?? '';
  if (SYSTEM_SCHEMAS.has(schema))
    throw new PermissionError(
      `permission denied: ${plan.target.slice(-2).join('.')} is a system table; only Sluice writes it`,
    );
}

/** What the check found: the statement to run (rewritten when columns are masked) and the tables. */
export interface AccessResult {
  sql: string;
  /** The plan, with a masked source for writes that read masked columns. */
  plan: StatementPlan;
  read: string[];
  written: string[];
}

/**
 * Check every lake table `sql` reads or writes with the hook; rewrite reads of masked columns.
 * @throws PermissionError (42501) when the hook refuses or the statement reads files; SqlError 0A000 when the tables cannot be determined
 */
export async function checkAccess(
  conn: DuckDBConnection,
  views: LakeViews,
  hook: AccessHook,
  sql: string,
  plan: StatementPlan,
): Promise<AccessResult> {
  const written: string[] = [];
  if (plan.kind !== 'duck') {
    const target = views.resolve(plan.target);
    const view = target ? undefined : views.resolveView(plan.target);
    const found = target ?? view;
    const name = found ? `${found.schema}.${found.name}` : plan.target.slice(-2).join('.');
    if (found || plan.kind === 'create') {
      await hook.authorize('write', accessOf(target, name));
      written.push(name);
    }
  }
  if (!hook.trusted && hidesReads(plan))
    throw new SqlError(
      'cannot tell which tables this statement reads, so it is refused for this user',
      sql,
      '0A000',
      undefined,
      'run it as an administrator, or compute the new values in a SELECT first',
    );
  const query = readingQuery(sql, plan);
  if (query === undefined) return { sql, plan, read: [], written };
  const tree = await serialize(conn, query);
  if (tree === 'parse-error') return { sql, plan, read: [], written };
  if (tree === undefined && hook.trusted) return { sql, plan, read: [], written };
  if (tree === undefined)
    throw new SqlError(
      'cannot tell which tables this statement reads, so it is refused for this user',
      sql,
      '0A000',
      undefined,
      'run it as an administrator, or rewrite it as a SELECT',
    );
  // A view is checked like a table: read access, and its own PII columns (`sluice.pii.columns`
  // of the view's properties) masked on top of the masks of the tables it reads.
  const maskedViews: string[] = [];
  const maskView = async (v: LakeView) => {
    const name = `${v.schema}.${v.name}`;
    const mask =
      (await hook.authorize('read', { name, properties: v.properties, columns: v.columns }))?.mask ?? {};
    if (Object.keys(mask).length > 0) maskedViews.push(name);
    return mask;
  };
  const { refs, read: viewsRead } = await tableRefs(conn, views, tree, hook.trusted, maskView);
  const masks = new Map<LakeTable, Record<string, MaskMethod>>();
  for (const ref of refs) {
    if (masks.has(ref.lake)) continue;
    const answer = await hook.authorize('read', accessOf(ref.lake, `${ref.lake.schema}.${ref.lake.name}`));
    masks.set(ref.lake, answer?.mask ?? {});
  }
  const read = [...viewsRead, ...masks.keys()].map((t) => `${t.schema}.${t.name}`);
  const masked = refs.filter((r) => Object.keys(masks.get(r.lake) ?? {}).length > 0);
  if (masked.length === 0 && maskedViews.length === 0) return { sql, plan, read, written };
  for (const ref of masked)
    ref.parent[ref.key as never] = (await maskedRef(conn, ref, masks.get(ref.lake) ?? {})) as never;
  const rewritten = await deserialize(conn, tree);
  if (plan.kind === 'duck' && plan.statementType !== 'EXPLAIN')
    return { sql: rewritten, plan, read, written };
  // A view keeps its SQL: each reader's masks apply when it is read.
  if (plan.kind === 'create' && plan.objectType === 'VIEW') return { sql, plan, read, written };
  if (plan.kind === 'insert' || plan.kind === 'create')
    return { sql, plan: { ...plan, source: rewritten }, read, written };
  throw new PermissionError(
    `permission denied: this statement reads masked columns of ${[...masked.map((r) => `${r.lake.schema}.${r.lake.name}`), ...maskedViews].join(', ')}`,
    'read them in a SELECT (masked), or ask for the pii privilege',
  );
}

function accessOf(t: LakeTable | undefined, name: string): TableAccess {
  // A table the statement names is loaded; one it reaches otherwise has a view that refuses
  // to be read, and its properties are not known here: refuse, as that view would.
  if (t && !t.metadata)
    throw new InvalidInputError(`table ${t.schema}.${t.name} is not loaded; name it in the statement`);
  return {
    name,
    properties: t?.metadata?.properties ?? {},
    columns: t ? t.columns.fields.map((f) => f.name) : [],
  };
}

/**
 * Whether an UPDATE or MERGE may read tables beyond its target and its USING source (a
 * FROM list or subqueries in SET, WHERE, ON or WHEN clauses), which the parse tree of a
 * SELECT cannot show. Conservative: a keyword inside a string literal counts too.
 */
function hidesReads(plan: StatementPlan): boolean {
  if (plan.kind === 'update') return /\b(select|from)\b/i.test(plan.after);
  if (plan.kind === 'merge') return /\bselect\b/i.test(plan.after.replace(plan.using ?? '', ''));
  return false;
}

/** The SELECT whose table references a statement reads, if any. */
function readingQuery(sql: string, plan: StatementPlan): string | undefined {
  switch (plan.kind) {
    case 'insert':
    case 'create':
      return /^\s*(select|with|values|from|table|\()/i.test(plan.source) ? plan.source : undefined;
    case 'delete':
      return plan.where
        ? `SELECT 1 FROM ${plan.target.map(quoteIdent).join('.')} WHERE ${plan.where}`
        : undefined;
    case 'drop':
      return undefined;
    case 'update':
      return `SELECT 1 FROM ${plan.target.map(quoteIdent).join('.')}`;
    case 'merge':
      return `SELECT 1 FROM ${plan.target.map(quoteIdent).join('.')}, ${plan.using}`;
    default:
      if (NO_TABLES.has(plan.statementType)) return undefined;
      if (plan.statementType === 'EXPLAIN')
        return sql.replace(/^\s*\(*\s*explain(\s+(analyze|analyse|verbose))*/i, '');
      return sql;
  }
}

/** DuckDB's parse tree of a query; 'parse-error' when it does not parse; undefined when it is not a SELECT. */
async function serialize(conn: DuckDBConnection, sql: string): Promise<Json | 'parse-error' | undefined> {
  const reader = await conn.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql]);
  const tree = parseExact(String(reader.getRows()[0]?.[0]));
  if (tree.error) return tree.error_type === 'parser' ? 'parse-error' : undefined;
  return tree;
}

async function deserialize(conn: DuckDBConnection, tree: Json): Promise<string> {
  const reader = await conn.runAndReadAll('SELECT json_deserialize_sql($1::JSON)', [stringifyExact(tree)]);
  return String(reader.getRows()[0]?.[0]);
}

/** Marks numbers too long for a double while the tree is a JS object (constants must survive exactly). */
const BIG = '\u0000big:';
const STRING_OR_LONG_NUMBER = /"(?:[^"\\]|\\.)*"|(?<=[:,[]\s*)-?\d[\d.eE+-]{15,}/g;

function parseExact(text: string): Json {
  return JSON.parse(
    text.replace(STRING_OR_LONG_NUMBER, (m) => (m.startsWith('"') ? m : JSON.stringify(BIG + m))),
  ) as Json;
}

function stringifyExact(tree: Json): string {
  const marker = JSON.stringify(BIG).slice(1, -1);
  return JSON.stringify(tree).replace(
    new RegExp(`"${marker.replace(/\\/g, '\\\\')}([^"]*)"`, 'g'),
    (_, n: string) => n,
  );
}

/** Views nested deeper than this are taken for a cycle. */
const MAX_VIEW_DEPTH = 16;

/**
 * Every lake table reference of the tree, with catalog views replaced by subqueries of their
 * SQL (so the tables a view reads are checked, and masked, for the reader). CTE names shadow
 * tables inside their scope; unqualified names resolve through the session's search path.
 * @throws PermissionError for file-reading table functions and file paths when files are not allowed
 */
async function tableRefs(
  conn: DuckDBConnection,
  views: LakeViews,
  tree: Json,
  trusted: boolean,
  maskView: (view: LakeView) => Promise<Record<string, MaskMethod>>,
): Promise<{ refs: TableRef[]; read: LakeView[] }> {
  const viewMasks = new Map<LakeView, Record<string, MaskMethod>>();
  const read: LakeView[] = [];
  let searchPath: string[] | undefined;
  for (let depth = 0; ; depth++) {
    const out: TableRef[] = [];
    let expanded = false;
    for (const f of baseTables(tree, trusted)) {
      const catalog = String(f.node.catalog_name ?? '');
      const schema = String(f.node.schema_name ?? '');
      const written = String(f.node.table_name ?? '');
      const name = written.replace(/@[^@]*$/, '');
      if (catalog && catalog.toLowerCase() !== 'memory') continue;
      let lake: LakeTable | undefined;
      let view: LakeView | undefined;
      if (schema) {
        lake = views.resolve([schema, name]);
        view = lake ? undefined : views.resolveView([schema, written]);
      } else if (!f.ctes.has(written.toLowerCase())) {
        searchPath ??= await currentSchemas(conn);
        for (const s of searchPath) {
          lake = views.resolve([s, name]);
          view = lake ? undefined : views.resolveView([s, written]);
          if (lake || view) break;
        }
        if (!lake && !view && !trusted && /[/\\*]|\.\w+$/.test(written))
          throw new PermissionError(
            `permission denied: reading the file "${written}" is not allowed for this user`,
            'read lake tables by name (namespace.table)',
          );
      }
      if (view) {
        if (depth >= MAX_VIEW_DEPTH)
          throw new SqlError(
            `views nest more than ${MAX_VIEW_DEPTH} levels deep at ${view.schema}.${view.name} (do they read each other?)`,
            view.sql,
            '42P17',
            undefined,
          );
        let mask = viewMasks.get(view);
        if (!mask) {
          mask = await maskView(view);
          viewMasks.set(view, mask);
        }
        const sql = Object.keys(mask).length
          ? `SELECT ${maskedColumns(mask)} FROM (${view.sql}) AS ${quoteIdent(view.name)}`
          : view.sql;
        f.parent[f.key as never] = (await subquery(conn, f.node, sql, written)) as never;
        if (!read.includes(view)) read.push(view);
        expanded = true;
      } else if (lake) out.push({ node: f.node, parent: f.parent, key: f.key, lake, written });
    }
    if (!expanded) return { refs: out, read };
  }
}

/** The BASE_TABLE nodes of a tree with the CTE names in scope at each. */
function baseTables(tree: Json, trusted: boolean) {
  const found: { node: Json; parent: Json | unknown[]; key: string | number; ctes: Set<string> }[] = [];
  const visit = (value: unknown, parent: Json | unknown[], key: string | number, ctes: Set<string>) => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        visit(v, value, i, ctes);
      });
      return;
    }
    if (!value || typeof value !== 'object') return;
    const node = value as Json;
    if (node.type === 'BASE_TABLE') found.push({ node, parent, key, ctes });
    if (node.type === 'TABLE_FUNCTION' && !trusted) {
      const fn = String((node.function as Json | undefined)?.function_name ?? '');
      if (!SAFE_TABLE_FUNCTIONS.test(fn))
        throw new PermissionError(
          `permission denied: the table function ${fn}() is not allowed for this user`,
          'read lake tables by name (namespace.table)',
        );
    }
    const map = ((node.cte_map as Json | undefined)?.map ?? []) as { key: string; value: Json }[];
    const names = new Set(ctes);
    for (const cte of map) names.add(cte.key.toLowerCase());
    for (const [k, v] of Object.entries(node)) visit(v, node, k, map.length ? names : ctes);
  };
  visit(tree, tree, '', new Set());
  return found;
}

async function currentSchemas(conn: DuckDBConnection): Promise<string[]> {
  const reader = await conn.runAndReadAll('SELECT unnest(current_schemas(true))');
  return reader.getRows().map((r) => String(r[0]));
}

/** A subquery reading the table with masked columns, standing where the table reference was. */
async function maskedRef(
  conn: DuckDBConnection,
  ref: TableRef,
  mask: Record<string, MaskMethod>,
): Promise<Json> {
  const table = `${quoteIdent(ref.lake.schema)}.${quoteIdent(ref.written)}`;
  return subquery(conn, ref.node, `SELECT ${maskedColumns(mask)} FROM ${table}`, ref.written);
}

/** The select list of a masked read: every column, the masked ones replaced. */
function maskedColumns(mask: Record<string, MaskMethod>): string {
  const replace = Object.entries(mask)
    .map(([col, method]) => `${maskExpression(quoteIdent(col), method)} AS ${quoteIdent(col)}`)
    .join(', ');
  return `* REPLACE (${replace})`;
}

/** A subquery of `sql` standing where the table reference `node` was (same alias). */
async function subquery(conn: DuckDBConnection, node: Json, sql: string, written: string): Promise<Json> {
  const alias = String(node.alias || written);
  const tree = await serialize(conn, `SELECT * FROM (${sql}) AS ${quoteIdent(alias)}`);
  if (!tree || tree === 'parse-error') throw new Error(`cannot build the subquery reading ${written}`);
  const statements = tree.statements as { node: Json }[];
  const sub = statements[0]?.node.from_table as Json;
  sub.column_name_alias = node.column_name_alias;
  sub.sample = node.sample;
  return sub;
}

/** The SQL of a masked column: a SHA-256 hex digest of its text, a fixed mark, or NULL. */
export function maskExpression(col: string, method: MaskMethod): string {
  switch (method) {
    case 'hash':
      return `CASE WHEN ${col} IS NULL THEN NULL ELSE sha256(CAST(${col} AS VARCHAR)) END`;
    case 'redact':
      return `CASE WHEN ${col} IS NULL THEN NULL ELSE '****' END`;
    case 'null':
      return 'CAST(NULL AS VARCHAR)';
  }
}
