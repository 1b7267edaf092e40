/**
 * What a statement does, decided from its leading keywords: read, session setting, a write
 * of a lake table (run through the table layer), a session-local object, or refused.
 */
import { PermissionError } from '../util/index.js';
import { SqlError } from './errors.js';
import { isKeyword, nameAt, type Token, tokenize } from './lexer.js';

/** A statement as the engine executes it. */
export type StatementPlan =
  /** Runs in DuckDB as written (queries, SET of session settings, transactions). */
  | { kind: 'duck'; statementType: string; mutates: boolean }
  | {
      kind: 'insert';
      target: string[];
      columns?: string[];
      byName: boolean;
      replace: boolean;
      source: string;
    }
  | {
      kind: 'create';
      /** A lake table (CREATE TABLE AS) or a catalog view (CREATE VIEW AS). */
      objectType: 'TABLE' | 'VIEW';
      target: string[];
      ifNotExists: boolean;
      orReplace: boolean;
      source: string;
    }
  | { kind: 'delete'; target: string[]; where?: string }
  | RowChangePlan
  | { kind: 'drop'; target: string[]; ifExists: boolean; objectType: string };

/**
 * UPDATE or MERGE of a table: run by DuckDB on a temp copy of the affected rows. `before` +
 * the temp table's name + `after` is the statement to run there; `alias` names the target
 * in it.
 */
export interface RowChangePlan {
  kind: 'update' | 'merge';
  target: string[];
  before: string;
  after: string;
  alias: string;
  /** UPDATE without FROM: its WHERE condition on the table's columns (prunes files). */
  where?: string;
  /** MERGE: the USING source and ON condition (to check no target row matches twice). */
  using?: string;
  on?: string;
  /** MERGE: whether a WHEN MATCHED clause can update or delete rows. */
  matchedClause?: boolean;
}

/** Statements whose leading keyword makes them read-only queries. */
const QUERIES = new Set([
  'SELECT',
  'WITH',
  'VALUES',
  'TABLE',
  'FROM',
  'DESCRIBE',
  'DESC',
  'SHOW',
  'SUMMARIZE',
  'PIVOT',
  'UNPIVOT',
]);
/** Leading keywords of statements whose result is rows of a query (what COPY (...) TO takes). */
const ROW_QUERIES = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE', 'FROM', 'PIVOT', 'UNPIVOT']);

/** The statement's leading keyword (upper case), and whether it starts a query of rows. */
export function queryKeyword(sql: string): { query: boolean; keyword: string } {
  const tokens = tokenize(sql);
  let start = 0;
  while (tokens[start]?.text === '(') start++;
  const keyword = tokens[start]?.text.toUpperCase() ?? '';
  return { query: ROW_QUERIES.has(keyword), keyword };
}

/** Every other keyword DuckDB starts a statement with (refused or planned below). */
const OTHER_STATEMENTS = new Set(
  'INSERT CREATE DELETE DROP UPDATE MERGE COPY EXPORT IMPORT ALTER ANALYZE ATTACH DETACH CALL CHECKPOINT FORCE COMMENT INSTALL LOAD PREPARE EXECUTE DEALLOCATE TRUNCATE VACUUM UPSERT'.split(
    ' ',
  ),
);
const TRANSACTION = new Set(['BEGIN', 'START', 'COMMIT', 'END', 'ROLLBACK', 'ABORT']);
const DML = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY']);
/** Settings a session may change: they affect only its own results. */
const SESSION_SETTINGS = new Set([
  'search_path',
  'schema',
  'timezone',
  'calendar',
  'default_order',
  'default_null_order',
  'preserve_insertion_order',
]);
/** PRAGMAs that only read. */
const READ_PRAGMAS = new Set([
  'table_info',
  'show_tables',
  'show_tables_expanded',
  'show_databases',
  'database_list',
  'show',
  'version',
  'functions',
  'collations',
  'storage_info',
]);

function refused(what: string, hint?: string): PermissionError {
  return new PermissionError(`${what} is not allowed in the SQL engine`, hint);
}

function readOnlyRefusal(statementType: string): PermissionError {
  return new PermissionError(
    `permission denied: read-only users cannot run ${statementType} statements`,
    'connect as a user allowed to write',
  );
}

/** The text of `sql` from token `i` on. */
function rest(sql: string, tokens: readonly Token[], i: number): string {
  const t = tokens[i];
  return t ? sql.slice(t.start).trim() : '';
}

function statementTypeOf(first: string): string {
  if (first === 'WITH' || first === 'VALUES' || first === 'TABLE' || first === 'FROM') return 'SELECT';
  if (first === 'DESC') return 'DESCRIBE';
  return first;
}

function planSet(tokens: readonly Token[], first: string): StatementPlan {
  let i = 1;
  if (isKeyword(tokens[i], 'SESSION', 'LOCAL')) i++;
  if (isKeyword(tokens[i], 'GLOBAL'))
    throw refused('SET GLOBAL', 'settings of the engine come from sluice.yaml `engine:`');
  const name = tokens[i]?.text.toLowerCase() ?? '';
  if (first === 'RESET' && name === 'all') return { kind: 'duck', statementType: first, mutates: false };
  if (!SESSION_SETTINGS.has(name))
    throw refused(
      `${first} ${name || '(nothing)'}`,
      `sessions may set ${[...SESSION_SETTINGS].join(', ')}; engine limits come from sluice.yaml \`engine:\``,
    );
  return { kind: 'duck', statementType: first, mutates: false };
}

function planInsert(sql: string, tokens: readonly Token[]): StatementPlan {
  let i = 1;
  let replace = false;
  if (isKeyword(tokens[i], 'OR')) {
    if (!isKeyword(tokens[i + 1], 'REPLACE'))
      throw refused('INSERT OR IGNORE', 'use INSERT OR REPLACE (upsert by the identifier columns) or INSERT');
    replace = true;
    i += 2;
  }
  if (!isKeyword(tokens[i], 'INTO')) throw refused('INSERT without INTO');
  const name = nameAt(tokens, i + 1);
  if (!name) throw refused('INSERT without a table name');
  i = name.next;
  let byName = false;
  if (isKeyword(tokens[i], 'BY') && isKeyword(tokens[i + 1], 'NAME')) {
    byName = true;
    i += 2;
  }
  let columns: string[] | undefined;
  if (tokens[i]?.text === '(' && !isKeyword(tokens[i + 1], 'SELECT', 'WITH', 'VALUES', 'FROM', 'TABLE')) {
    columns = [];
    i++;
    while (tokens[i] && tokens[i]?.text !== ')') {
      const t = tokens[i] as Token;
      if (t.kind === 'word' || t.kind === 'quoted') columns.push(t.text);
      i++;
    }
    i++;
  }
  if (isKeyword(tokens[i], 'DEFAULT'))
    throw refused('INSERT ... DEFAULT VALUES', 'insert a SELECT or VALUES');
  const tail = tokens.slice(i).find((t) => isKeyword(t, 'ON', 'RETURNING'));
  if (tail && (isKeyword(tail, 'RETURNING') || tokens.some((t) => isKeyword(t, 'CONFLICT'))))
    throw refused(
      `INSERT ... ${tail.text.toUpperCase()}`,
      'use INSERT OR REPLACE INTO for upserts by the identifier columns',
    );
  return { kind: 'insert', target: name.parts, columns, byName, replace, source: rest(sql, tokens, i) };
}

function planCreate(sql: string, tokens: readonly Token[]): StatementPlan {
  let i = 1;
  let orReplace = false;
  if (isKeyword(tokens[i], 'OR') && isKeyword(tokens[i + 1], 'REPLACE')) {
    orReplace = true;
    i += 2;
  }
  if (isKeyword(tokens[i], 'TEMP', 'TEMPORARY'))
    return { kind: 'duck', statementType: 'CREATE', mutates: true };
  if (isKeyword(tokens[i], 'SCHEMA'))
    throw refused('CREATE SCHEMA', 'namespaces are created with `sluice tables` or the Iceberg REST catalog');
  if (!isKeyword(tokens[i], 'TABLE', 'VIEW'))
    throw refused(
      `CREATE ${tokens[i]?.text.toUpperCase() ?? ''}`.trim(),
      'lake tables are created with CREATE TABLE ns.t AS SELECT ..., views with CREATE VIEW ns.v AS SELECT ...; session objects with CREATE TEMP ...',
    );
  const objectType = tokens[i]?.text.toUpperCase() === 'VIEW' ? 'VIEW' : 'TABLE';
  i++;
  let ifNotExists = false;
  if (isKeyword(tokens[i], 'IF') && isKeyword(tokens[i + 1], 'NOT') && isKeyword(tokens[i + 2], 'EXISTS')) {
    ifNotExists = true;
    i += 3;
  }
  const name = nameAt(tokens, i);
  if (!name) throw refused(`CREATE ${objectType} without a name`);
  if (!isKeyword(tokens[name.next], 'AS'))
    throw refused(
      `CREATE ${objectType} with column definitions`,
      `create lake ${objectType.toLowerCase()}s from a query: CREATE ${objectType} ns.t AS SELECT ...`,
    );
  return {
    kind: 'create',
    objectType,
    target: name.parts,
    ifNotExists,
    orReplace,
    source: rest(sql, tokens, name.next + 1),
  };
}

function planDelete(sql: string, tokens: readonly Token[]): StatementPlan {
  if (!isKeyword(tokens[1], 'FROM')) throw refused('DELETE without FROM');
  const name = nameAt(tokens, 2);
  if (!name) throw refused('DELETE without a table name');
  const next = tokens[name.next];
  if (next && !isKeyword(next, 'WHERE'))
    throw refused(
      `DELETE ... ${next.text.toUpperCase()}`,
      'write DELETE FROM ns.t WHERE <condition on its columns>',
    );
  return { kind: 'delete', target: name.parts, where: next ? rest(sql, tokens, name.next + 1) : undefined };
}

const RESERVED_AFTER_TARGET = new Set(['SET', 'USING', 'WHERE', 'FROM', 'ON']);

/** The target name (and alias) of UPDATE/MERGE starting at token `i`. */
function changeTarget(sql: string, tokens: readonly Token[], i: number, what: string) {
  const name = nameAt(tokens, i);
  if (!name) throw refused(`${what} without a table name`);
  let next = name.next;
  let alias: string | undefined;
  if (isKeyword(tokens[next], 'AS')) next++;
  const a = tokens[next];
  if (a && (a.kind === 'quoted' || (a.kind === 'word' && !RESERVED_AFTER_TARGET.has(a.text.toUpperCase())))) {
    alias = a.text;
    next++;
  }
  const first = tokens[i] as Token;
  const last = tokens[next - 1] as Token;
  return {
    target: name.parts,
    alias: alias ?? (name.parts[name.parts.length - 1] as string),
    before: sql.slice(0, first.start),
    after: sql.slice(last.end),
    next,
  };
}

function refuseReturning(tokens: readonly Token[], what: string): void {
  if (topLevel(tokens).some((t) => isKeyword(t, 'RETURNING')))
    throw refused(`${what} ... RETURNING`, 'query the table after the statement');
}

function planUpdate(sql: string, tokens: readonly Token[]): StatementPlan {
  refuseReturning(tokens, 'UPDATE');
  const t = changeTarget(sql, tokens, 1, 'UPDATE');
  if (!isKeyword(tokens[t.next], 'SET')) throw refused('UPDATE without SET');
  const top = topLevel(tokens.slice(t.next));
  const hasFrom = top.some((x) => isKeyword(x, 'FROM'));
  const where = top.find((x) => isKeyword(x, 'WHERE'));
  return {
    kind: 'update',
    target: t.target,
    alias: t.alias,
    before: t.before,
    after: t.after,
    where: where && !hasFrom ? sql.slice(where.end).trim() : undefined,
  };
}

function planMerge(sql: string, tokens: readonly Token[]): StatementPlan {
  refuseReturning(tokens, 'MERGE');
  if (!isKeyword(tokens[1], 'INTO')) throw refused('MERGE without INTO');
  const t = changeTarget(sql, tokens, 2, 'MERGE');
  const top = topLevel(tokens.slice(t.next));
  const using = top[0];
  if (!isKeyword(using, 'USING'))
    throw refused('MERGE without USING', 'write MERGE INTO ns.t USING source ON condition WHEN ...');
  const on = top.find((x) => isKeyword(x, 'ON'));
  const when = top.find((x) => isKeyword(x, 'WHEN'));
  if (!on || !when || when.start < on.start)
    throw refused('MERGE without ON ... WHEN', 'write MERGE INTO ns.t USING source ON condition WHEN ...');
  const whens = top.filter((x) => isKeyword(x, 'WHEN'));
  const matchedClause = whens.some((w) => isKeyword(top[top.indexOf(w) + 1], 'MATCHED'));
  return {
    kind: 'merge',
    target: t.target,
    alias: t.alias,
    before: t.before,
    after: t.after,
    using: sql.slice((using as Token).end, on.start).trim(),
    on: sql.slice(on.end, when.start).trim(),
    matchedClause,
  };
}

function planDrop(tokens: readonly Token[]): StatementPlan {
  const objectType = tokens[1]?.text.toUpperCase() ?? '';
  let i = 2;
  let ifExists = false;
  if (isKeyword(tokens[i], 'IF') && isKeyword(tokens[i + 1], 'EXISTS')) {
    ifExists = true;
    i += 2;
  }
  const name = nameAt(tokens, i);
  if (!name || (tokens[name.next] && !isKeyword(tokens[name.next], 'CASCADE', 'RESTRICT')))
    throw refused(`DROP ${objectType} of several objects`, 'drop one object per statement');
  return { kind: 'drop', target: name.parts, ifExists, objectType };
}

/**
 * The plan of one statement for a user.
 * @throws PermissionError for statements the engine refuses (for anyone, or for read-only users).
 */
export function planStatement(
  sql: string,
  readOnly: boolean,
  o: { allowCopy?: boolean } = {},
): StatementPlan {
  const tokens = tokenize(sql);
  let start = 0;
  while (tokens[start]?.text === '(') start++;
  const first = tokens[start]?.text.toUpperCase() ?? '';
  if (first === 'EXPLAIN') {
    const inner = tokens.findIndex((t, i) => i > start && !isKeyword(t, 'ANALYZE', 'ANALYSE', 'VERBOSE'));
    const plan = planStatement(sql.slice(tokens[inner]?.start ?? sql.length), readOnly, o);
    if (plan.kind !== 'duck' || plan.mutates)
      throw refused('EXPLAIN of a write', 'EXPLAIN the SELECT that feeds it');
    return { kind: 'duck', statementType: 'EXPLAIN', mutates: false };
  }
  if (QUERIES.has(first)) {
    const depth0 = topLevel(tokens);
    const dml = depth0.find((t) => t.kind === 'word' && DML.has(t.text.toUpperCase()) && first === 'WITH');
    if (dml)
      throw refused(
        `WITH ... ${dml.text.toUpperCase()}`,
        'move the WITH clause into the SELECT of the write',
      );
    return { kind: 'duck', statementType: statementTypeOf(first), mutates: false };
  }
  if (TRANSACTION.has(first))
    return { kind: 'duck', statementType: first === 'START' ? 'BEGIN' : first, mutates: false };
  if (first === 'SET' || first === 'RESET') return planSet(tokens, first);
  if (first === 'USE') return { kind: 'duck', statementType: 'SET', mutates: false };
  if (first === 'PRAGMA') {
    const name = tokens[start + 1]?.text.toLowerCase() ?? '';
    if (!READ_PRAGMAS.has(name) || tokens.some((t) => t.text === '='))
      throw refused(`PRAGMA ${name}`, `allowed: ${[...READ_PRAGMAS].join(', ')}`);
    return { kind: 'duck', statementType: 'PRAGMA', mutates: false };
  }
  if (!OTHER_STATEMENTS.has(first)) {
    const t = tokens[start];
    throw new SqlError(
      t ? `Parser Error: syntax error at or near "${t.text}"` : 'Parser Error: empty statement',
      sql,
      '42601',
      t?.start,
    );
  }
  if (readOnly) throw readOnlyRefusal(first);
  if (first === 'COPY' && o.allowCopy) return { kind: 'duck', statementType: 'COPY', mutates: true };
  const plan = planWrite(sql, tokens, first);
  return plan;
}

function planWrite(sql: string, tokens: readonly Token[], first: string): StatementPlan {
  switch (first) {
    case 'INSERT':
      return planInsert(sql, tokens);
    case 'CREATE':
      return planCreate(sql, tokens);
    case 'DELETE':
      return planDelete(sql, tokens);
    case 'DROP':
      return planDrop(tokens);
    case 'UPDATE':
      return planUpdate(sql, tokens);
    case 'MERGE':
      return planMerge(sql, tokens);
    case 'COPY':
    case 'EXPORT':
      throw refused(first, 'export results with `sluice sql --format csv|parquet --output FILE`');
    case '':
      throw refused('an empty statement');
    default:
      throw refused(
        first,
        'the engine runs queries and writes of lake tables (CREATE TABLE AS, INSERT, UPDATE, MERGE, DELETE)',
      );
  }
}

/** Tokens outside any parentheses. */
function topLevel(tokens: readonly Token[]): Token[] {
  let depth = 0;
  const out: Token[] = [];
  for (const t of tokens) {
    if (t.text === '(' && t.kind === 'op') depth++;
    else if (t.text === ')' && t.kind === 'op') depth--;
    else if (depth === 0) out.push(t);
  }
  return out;
}
