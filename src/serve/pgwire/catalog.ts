/**
 * PostgreSQL catalog compatibility: rewrites of what clients send (psql, drivers, BI tools)
 * into SQL DuckDB runs, and direct answers for the catalog queries DuckDB's pg_catalog
 * cannot serve (psql's `\d table`, drivers' array-type discovery).
 */
import { LAKE_VIEW_COMMENT } from '../../engine/lake.js';
import type { EngineSession } from '../../engine/types.js';
import { ARRAY_OF, OID } from './oids.js';
import { literalValue, maskLiterals, quoteLiteral, unmask } from './sql-text.js';

/** A column of a result answered by this server. */
export interface LocalColumn {
  name: string;
  oid: number;
}

/** Rows (text values) and command tag of a locally answered statement. */
export interface LocalRows {
  rows: (string | null)[][];
  tag: string;
}

/** A statement answered here, without running the client's SQL in the engine. */
export interface LocalAnswer {
  /** null: the statement returns no rows (NoData). */
  columns: LocalColumn[] | null;
  run(session: EngineSession, signal: AbortSignal): Promise<LocalRows>;
}

/** The server_version reported to clients (and by version()). */
export const SERVER_VERSION = '15.0';

/** Rewrite PostgreSQL-only syntax into DuckDB's; `settings` answers current_setting(). */
export function rewriteForDuckDb(sql: string, settings: (name: string) => string | undefined): string {
  const m = maskLiterals(
    sql.replace(/\s+COLLATE\s+(pg_catalog\.)?("default"|default|"C"|"POSIX")/gi, '').replace(/\bE'/g, "'"),
  );
  m.text = m.text
    .replace(/OPERATOR\s*\(\s*pg_catalog\s*\.\s*([~!=<>*@#%^&|`?+\-/]+)\s*\)/gi, ' $1 ')
    .replace(/(\uE000\d+\uE000)\s*::\s*(pg_catalog\.)?regclass\b/gi, (_, lit: string) => regclass(m, lit))
    .replace(/::\s*(pg_catalog\.)?reg(class|type|namespace|proc|procedure|role|oper|operator|config)\b/gi, '')
    .replace(/::\s*pg_catalog\./gi, '::')
    .replace(/\b(pg_catalog\.)?pg_get_userbyid\s*\([\w."]*\)/gi, "'sluice'")
    .replace(/\b(pg_catalog\.)?pg_encoding_to_char\s*\([\w."]*\)/gi, "'UTF8'")
    .replace(
      /\b(pg_catalog\.)?pg_get_expr\s*\(([^(),]+),([^(),]+),\s*(true|false)\s*\)/gi,
      'pg_get_expr($2,$3)',
    )
    .replace(
      /^(\s*select\s+)(pg_catalog\.)?version\s*\(\s*\)(\s*;?\s*)$/i,
      `$1${quoteLiteral(versionString())} AS version$3`,
    )
    .replace(/\b(pg_catalog\.)?version\s*\(\s*\)/gi, quoteLiteral(versionString()))
    .replace(/(?<![.\w])(current_user|session_user|current_role)\b(?!\s*\()/gi, (all) => {
      const user = settings('session_authorization');
      return user === undefined ? all : quoteLiteral(user);
    })
    .replace(
      /\b(pg_catalog\.)?current_setting\s*\(\s*(\uE000\d+\uE000)\s*(,\s*\w+\s*)?\)/gi,
      (all, _p, lit: string) => {
        const value = settings(literalValue(m, lit)?.toLowerCase() ?? '');
        return value === undefined ? all : quoteLiteral(value);
      },
    )
    .replace(/\bpg_catalog\.(\w+)\s*\(/gi, '$1(')
    .replace(RELATIONS, (_all, keyword: string, _schema, alias: string | undefined) => {
      return `${keyword} ${LAKE_RELATIONS} ${alias?.trim() || 'pg_class'}`;
    });
  return unmask(m);
}

/** pg_class in FROM/JOIN position, with its alias (reserved words are not aliases). */
const RELATIONS =
  /\b(FROM|JOIN)\s+(pg_catalog\.)?pg_class\b((?:\s+AS)?\s+(?!(?:WHERE|ON|USING|JOIN|LEFT|RIGHT|INNER|FULL|CROSS|NATURAL|GROUP|ORDER|LIMIT|OFFSET|UNION|EXCEPT|INTERSECT|HAVING|WINDOW)\b)[A-Za-z_]\w*)?/gi;

/**
 * Lake tables are served as views over their current snapshot; clients (psql's \dt, BI tools)
 * should see them as tables, so pg_class reports views with relkind 'r', except the catalog's
 * views (psql's \dv), which carry LAKE_VIEW_COMMENT.
 */
const LAKE_RELATIONS = `(SELECT * REPLACE (CASE WHEN relkind = 'v' AND oid NOT IN (SELECT view_oid FROM duckdb_views() WHERE comment = '${LAKE_VIEW_COMMENT}') THEN 'r' ELSE relkind END AS relkind) FROM pg_catalog.pg_class)`;

/** `'shop.orders'::regclass` → the relation's oid; a numeric literal stays a number. */
function regclass(m: ReturnType<typeof maskLiterals>, lit: string): string {
  const value = literalValue(m, lit) ?? '';
  if (/^\d+$/.test(value)) return value;
  const parts = value.split('.').map((p) => p.replace(/^"|"$/g, ''));
  const table = parts.pop() ?? '';
  const schema = parts.pop();
  const where = schema ? ` AND n.nspname = ${quoteLiteral(schema)}` : '';
  return `(SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = ${quoteLiteral(table)}${where} LIMIT 1)`;
}

/** What version() returns: PostgreSQL's shape, so tools that parse it are satisfied. */
export function versionString(): string {
  return `PostgreSQL ${SERVER_VERSION} (Sluice; DuckDB engine) on x86_64-pc-linux-gnu, compiled by node, 64-bit`;
}

/** Catalog tables DuckDB lacks and that hold nothing for lake tables: queries on them return no rows. */
const EMPTY_CATALOGS =
  /\bpg_catalog\.(pg_policy|pg_statistic_ext|pg_publication\w*|pg_inherits|pg_trigger|pg_rewrite|pg_foreign_table|pg_partitioned_table|pg_event_trigger|pg_subscription\w*|pg_extension)\b/i;

/** A direct answer for catalog queries DuckDB cannot run, or undefined to run the SQL. */
export function answerCatalogQuery(sql: string): LocalAnswer | undefined {
  if (/\bSELECT\s+c\.relchecks,\s*c\.relkind/i.test(sql)) return relationInfo();
  const attrs =
    /FROM\s+pg_catalog\.pg_attribute\s+a\s+WHERE\s+a\.attrelid\s*=\s*'(\d+)'\s+AND\s+a\.attnum\s*>\s*0/i.exec(
      sql,
    );
  if (attrs) return attributes(attrs[1] as string, /\ba\.attstorage\b/i.test(sql));
  if (/\bFROM\s+pg_catalog\.pg_database\s+d\b/i.test(sql) && /d\.datname\s+as\s+"Name"/i.test(sql))
    return databases();
  if (/\btypcategory\s*=\s*'A'/i.test(sql) && /\btyparray\b/i.test(sql)) return arrayTypes();
  if (EMPTY_CATALOGS.test(sql))
    return {
      columns: [{ name: '?column?', oid: OID.text }],
      run: async () => ({ rows: [], tag: 'SELECT 0' }),
    };
  return undefined;
}

/** psql's `\d` header query: every lake relation is shown as a plain table. */
function relationInfo(): LocalAnswer {
  const names = [
    ['relchecks', OID.int2],
    ['relkind', OID.text],
    ['relhasindex', OID.bool],
    ['relhasrules', OID.bool],
    ['relhastriggers', OID.bool],
    ['relrowsecurity', OID.bool],
    ['relforcerowsecurity', OID.bool],
    ['relhasoids', OID.bool],
    ['relispartition', OID.bool],
    ['reloptions', OID.text],
    ['reltablespace', OID.oid],
    ['reloftype', OID.text],
    ['relpersistence', OID.text],
    ['relreplident', OID.text],
    ['amname', OID.text],
  ] as const;
  return {
    columns: names.map(([name, oid]) => ({ name, oid })),
    run: async () => ({
      rows: [['0', 'r', 'f', 'f', 'f', 'f', 'f', 'f', 'f', '', '0', '', 'p', 'd', '']],
      tag: 'SELECT 1',
    }),
  };
}

/** psql's `\d` column query, answered from information_schema.columns of the relation's oid. */
function attributes(oid: string, verbose: boolean): LocalAnswer {
  const columns = [
    { name: 'attname', oid: OID.name },
    { name: 'format_type', oid: OID.text },
    { name: 'pg_get_expr', oid: OID.text },
    { name: 'attnotnull', oid: OID.bool },
    { name: 'attcollation', oid: OID.name },
    { name: 'attidentity', oid: OID.text },
    { name: 'attgenerated', oid: OID.text },
  ];
  // \d+ adds storage, compression, statistics target and the column comment.
  const extra = verbose
    ? [
        { name: 'attstorage', oid: OID.text },
        { name: 'attcompression', oid: OID.text },
        { name: 'attstattarget', oid: OID.int4 },
        { name: 'col_description', oid: OID.text },
      ]
    : [];
  return {
    columns: [...columns, ...extra],
    async run(session, signal) {
      const sql = `SELECT col.column_name, col.data_type, col.column_default, col.is_nullable
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        JOIN information_schema.columns col ON col.table_schema = n.nspname AND col.table_name = c.relname
        WHERE c.oid = ${Number(oid)} ORDER BY col.ordinal_position`;
      const result = await session.run(sql, { signal });
      const rows: (string | null)[][] = [];
      for await (const batch of result.batches()) {
        for (const [name, type, def, nullable] of batch) {
          rows.push([
            String(name),
            pgTypeName(String(type)),
            def === null ? null : String(def),
            nullable === 'NO' ? 't' : 'f',
            null,
            '',
            '',
            ...(verbose ? ['x', '', null, null] : []),
          ]);
        }
      }
      return { rows, tag: `SELECT ${rows.length}` };
    },
  };
}

const TYPE_NAMES: Record<string, string> = {
  BOOLEAN: 'boolean',
  TINYINT: 'smallint',
  SMALLINT: 'smallint',
  INTEGER: 'integer',
  BIGINT: 'bigint',
  HUGEINT: 'numeric',
  FLOAT: 'real',
  DOUBLE: 'double precision',
  VARCHAR: 'text',
  BLOB: 'bytea',
  DATE: 'date',
  TIME: 'time without time zone',
  TIMESTAMP: 'timestamp without time zone',
  'TIMESTAMP WITH TIME ZONE': 'timestamp with time zone',
  INTERVAL: 'interval',
  UUID: 'uuid',
  JSON: 'json',
};

/** DuckDB's type name (information_schema.data_type) → PostgreSQL's format_type() spelling. */
export function pgTypeName(duck: string): string {
  const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(duck);
  if (decimal) return `numeric(${decimal[1]},${decimal[2]})`;
  if (duck.endsWith('[]')) return `${pgTypeName(duck.slice(0, -2))}[]`;
  return TYPE_NAMES[duck] ?? duck.toLowerCase();
}

/** psql's `\l`: the one database every connection reaches. */
function databases(): LocalAnswer {
  const names = ['Name', 'Owner', 'Encoding', 'Collate', 'Ctype', 'Access privileges'];
  return {
    columns: names.map((name) => ({ name, oid: OID.text })),
    run: async () => ({ rows: [['sluice', 'sluice', 'UTF8', 'C', 'C', null]], tag: 'SELECT 1' }),
  };
}

/** Array-type discovery of drivers (postgres.js): element OID → array OID pairs. */
function arrayTypes(): LocalAnswer {
  return {
    columns: [
      { name: 'oid', oid: OID.oid },
      { name: 'typarray', oid: OID.oid },
    ],
    run: async () => {
      const rows = Object.entries(ARRAY_OF).map(([elem, arr]) => [elem, String(arr)]);
      return { rows, tag: `SELECT ${rows.length}` };
    },
  };
}
