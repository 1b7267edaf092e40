/**
 * DuckDB SQL reading a planned scan with today's names and types, whatever schema each file
 * was written with. Two ways, same result:
 * - by name, when no column was ever renamed or reused and no nested type changed (`readByName`
 *   of the plan): `read_parquet(union_by_name)` unioned BY NAME with an empty typed row set,
 *   so columns added after a file was written read as NULL. This keeps DuckDB's join-filter
 *   and statistics optimisations, which the field-id mapping below loses;
 * - BY FIELD ID otherwise, through read_parquet's `schema` parameter (renames, drops, re-adds).
 * Position deletes are applied with an anti-join on the row position.
 */
import { sqlString, sqlStringList } from '../duck/index.js';
import { InvalidInputError } from '../util/index.js';
import { icebergToDuckdbType, quoteIdent } from './duckdb-types.js';
import type { PlannedFile, ScanPlan } from './scan.js';
import type { NestedField, Schema } from './types.js';

/** Options of `scanSql`. */
export interface ScanSqlOptions {
  /** Top-level columns to read, in this order (default: all, in schema order). */
  columns?: string[];
  /** Apply the plan's filter in SQL (default true). */
  applyFilter?: boolean;
  /** Add the `filename` of each row's local file as a column `__file` (for rewrites). */
  withFile?: boolean;
}

/** The selected top-level fields. @throws InvalidInputError for unknown column names */
export function selectFields(schema: Schema, columns?: readonly string[]): NestedField[] {
  if (!columns) return schema.fields;
  return columns.map((name) => {
    const f =
      schema.fields.find((x) => x.name === name) ??
      schema.fields.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!f)
      throw new InvalidInputError(
        `unknown column "${name}"`,
        `columns: ${schema.fields.map((x) => x.name).join(', ')}`,
      );
    return f;
  });
}

/** The `schema = MAP {...}` argument mapping field ids to today's names and types. */
export function fieldIdSchemaArg(fields: readonly NestedField[]): string {
  const entries = fields.map(
    (f) =>
      `${f.id}: {name: ${sqlString(f.name)}, type: ${sqlString(icebergToDuckdbType(f.type))}, default_value: NULL}`,
  );
  return `MAP {${entries.join(', ')}}`;
}

function emptySelect(fields: readonly NestedField[], withFile: boolean): string {
  const cols = fields.map((f) => `CAST(NULL AS ${icebergToDuckdbType(f.type)}) AS ${quoteIdent(f.name)}`);
  if (withFile) cols.push('CAST(NULL AS VARCHAR) AS __file');
  return `SELECT ${cols.join(', ') || '1 AS __empty'} WHERE false`;
}

/** Names DuckDB gives virtual columns of read_parquet; a table column of that name disables reading by name. */
const VIRTUAL = new Set(['filename', 'file_row_number', 'file_index', '__file']);

/**
 * Whether every file of the table can be read by column name: across all schemas of the
 * table, each top-level id keeps one name, each name one id, nested types never changed
 * (primitive promotions are fine), and no column shadows a virtual column.
 */
export function namesStable(schemas: readonly Schema[]): boolean {
  const nameOf = new Map<number, string>();
  const idOf = new Map<string, number>();
  const nested = new Map<number, string>();
  for (const schema of schemas) {
    for (const f of schema.fields) {
      if (VIRTUAL.has(f.name.toLowerCase())) return false;
      const key = f.name.toLowerCase();
      if ((nameOf.get(f.id) ?? f.name) !== f.name || (idOf.get(key) ?? f.id) !== f.id) return false;
      nameOf.set(f.id, f.name);
      idOf.set(key, f.id);
      if (typeof f.type === 'object') {
        const shape = JSON.stringify(f.type);
        if ((nested.get(f.id) ?? shape) !== shape) return false;
        nested.set(f.id, shape);
      }
    }
  }
  return true;
}

function castList(fields: readonly NestedField[], alias: string, withFile: boolean): string[] {
  const names = fields.map(
    (f) => `CAST(${alias}.${quoteIdent(f.name)} AS ${icebergToDuckdbType(f.type)}) AS ${quoteIdent(f.name)}`,
  );
  if (withFile) names.push(`${alias}.__file`);
  return names;
}

/** Rows of files by column name; `extra` names virtual columns to carry (filename, file_row_number). */
function byName(source: string, fields: readonly NestedField[], extra: string[]): string {
  const typed = fields.map((f) => `CAST(NULL AS ${icebergToDuckdbType(f.type)}) AS ${quoteIdent(f.name)}`);
  // file_row_number is part of `*` once requested; filename stays virtual.
  const virt = extra.filter((e) => e === 'filename').map(() => 'filename AS __file');
  const nulls = extra.map((e) =>
    e === 'filename' ? 'CAST(NULL AS VARCHAR) AS __file' : `CAST(NULL AS BIGINT) AS ${e}`,
  );
  return `(SELECT *${virt.map((v) => `, ${v}`).join('')} FROM ${source} UNION ALL BY NAME SELECT ${[...typed, ...nulls].join(', ')} WHERE false)`;
}

function readFiles(
  paths: readonly string[],
  fields: readonly NestedField[],
  withFile: boolean,
  named: boolean,
): string {
  if (named) {
    const src = byName(
      `read_parquet(${sqlStringList(paths)}, union_by_name = true)`,
      fields,
      withFile ? ['filename'] : [],
    );
    return `SELECT ${castList(fields, '__u', withFile).join(', ')} FROM ${src} AS __u`;
  }
  const names = fields.map((f) => quoteIdent(f.name));
  if (withFile) names.push('filename AS __file');
  return `SELECT ${names.join(', ')} FROM read_parquet(${sqlStringList(paths)}, schema = ${fieldIdSchemaArg(fields)})`;
}

function readWithDeletes(
  f: PlannedFile,
  fields: readonly NestedField[],
  withFile: boolean,
  named: boolean,
): string {
  const deletes = `SELECT pos FROM read_parquet(${sqlStringList(f.deletes.map((d) => d.localPath))}) WHERE file_path = ${sqlString(f.file.file_path)}`;
  if (named) {
    const extra = withFile ? ['filename', 'file_row_number'] : ['file_row_number'];
    const src = byName(`read_parquet(${sqlString(f.localPath)}, file_row_number = true)`, fields, extra);
    return `SELECT ${castList(fields, '__d', withFile).join(', ')} FROM ${src} AS __d WHERE __d.file_row_number NOT IN (${deletes})`;
  }
  const names = fields.map((x) => `__d.${quoteIdent(x.name)}`);
  if (withFile) names.push('__d.filename AS __file');
  return (
    `SELECT ${names.join(', ')} FROM read_parquet(${sqlString(f.localPath)}, schema = ${fieldIdSchemaArg(fields)}, file_row_number = true) AS __d ` +
    `WHERE __d.file_row_number NOT IN (${deletes})`
  );
}

/**
 * A SELECT over the plan's files (usable as a subquery). An empty plan gives an empty result
 * with the right columns and types.
 * @throws InvalidInputError for unknown columns.
 */
export function scanSql(plan: ScanPlan, o: ScanSqlOptions = {}): string {
  const fields = selectFields(plan.schema, o.columns);
  const withFile = o.withFile === true;
  const missing = plan.files.find((f) => !f.localPath);
  if (missing)
    throw new InvalidInputError(
      `the scan plan has no local path for ${missing.file.file_path}`,
      'plan with resolvePaths',
    );
  const plain = plan.files.filter((f) => f.deletes.length === 0);
  const parts: string[] = [];
  const named = plan.readByName === true;
  if (plain.length > 0)
    parts.push(
      readFiles(
        plain.map((f) => f.localPath),
        fields,
        withFile,
        named,
      ),
    );
  for (const f of plan.files)
    if (f.deletes.length > 0) parts.push(readWithDeletes(f, fields, withFile, named));
  let sql = parts.length === 0 ? emptySelect(fields, withFile) : parts.join('\nUNION ALL ');
  if (o.applyFilter !== false && plan.filter?.trim()) {
    if (o.columns) {
      const all = selectFields(plan.schema);
      const inner =
        parts.length === 0 ? emptySelect(all, withFile) : scanSql(plan, { applyFilter: false, withFile });
      const cols = fields.map((f) => quoteIdent(f.name));
      if (withFile) cols.push('__file');
      return `SELECT ${cols.join(', ')} FROM (${inner}) AS __scan WHERE (${plan.filter})`;
    }
    sql = `SELECT * FROM (${sql}) AS __scan WHERE (${plan.filter})`;
  }
  return sql;
}

/** A query that binds `filter` against the schema's columns without reading data (for validating filters). */
export function filterCheckSql(schema: Schema, filter: string): string {
  return `SELECT count(*) AS n FROM (${emptySelect(schema.fields, false)}) AS __scan WHERE (${filter})`;
}
