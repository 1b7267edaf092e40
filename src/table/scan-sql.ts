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
import type { FileColumns, FileNode } from './file-schema.js';
import type { PlannedFile, ScanPlan } from './scan.js';
import type { IcebergType, NestedField, Schema } from './types.js';

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

/**
 * The `schema = MAP {...}` argument mapping field ids to today's names and types. With a
 * file's written columns, struct children take the file's names (selected by field id), and
 * children the file lacks a name no file uses, so they read NULL.
 */
export function fieldIdSchemaArg(fields: readonly NestedField[], written?: FileColumns): string {
  const entries = fields.map(
    (f) =>
      `${f.id}: {name: ${sqlString(f.name)}, type: ${sqlString(readType(f.type, written?.get(f.id), written !== undefined))}, default_value: NULL}`,
  );
  return `MAP {${entries.join(', ')}}`;
}

const absent = (id: number) => `__sluice_absent_${id}`;

/** The DuckDB type to read a column as: today's types, with the file's nested names when known. */
function readType(type: IcebergType, node: FileNode | undefined, known: boolean): string {
  if (typeof type !== 'object') return icebergToDuckdbType(type);
  if (type.type === 'list')
    return `${readType(type.element, node?.kind === 'list' ? node.element : undefined, known && node !== undefined)}[]`;
  if (type.type === 'map') {
    const m = node?.kind === 'map' ? node : undefined;
    const k = known && m !== undefined;
    return `MAP(${readType(type.key, m?.key, k)}, ${readType(type.value, m?.value, k)})`;
  }
  const children = type.fields.map((c) => {
    const fc = node?.kind === 'struct' ? node.fields?.find((x) => x.id === c.id) : undefined;
    const name = !known || !node ? c.name : (fc?.name ?? absent(c.id));
    return `${quoteIdent(name)} ${readType(c.type, fc, known && fc !== undefined)}`;
  });
  return `STRUCT(${children.join(', ')})`;
}

/**
 * SQL turning a value read with `readType` into today's names, or undefined when it already
 * has them: struct_pack per struct, list_transform / map_entries for lists and maps.
 */
function rebuild(
  expr: string,
  type: IcebergType,
  node: FileNode | undefined,
  depth: number,
): string | undefined {
  if (typeof type !== 'object' || !node) return undefined;
  if (type.type === 'list') {
    const v = `__l${depth}`;
    const inner = rebuild(v, type.element, node.element, depth + 1);
    return inner === undefined ? undefined : `list_transform(${expr}, ${v} -> ${inner})`;
  }
  if (type.type === 'map') {
    const v = `__m${depth}`;
    const key = `struct_extract(${v}, 'key')`;
    const value = `struct_extract(${v}, 'value')`;
    const k = rebuild(key, type.key, node.key, depth + 1);
    const val = rebuild(value, type.value, node.value, depth + 1);
    if (k === undefined && val === undefined) return undefined;
    return `map_from_entries(list_transform(map_entries(${expr}), ${v} -> struct_pack("key" := ${k ?? key}, "value" := ${val ?? value})))`;
  }
  let changed = false;
  const parts = type.fields.map((c) => {
    const fc = node.kind === 'struct' ? node.fields?.find((x) => x.id === c.id) : undefined;
    const name = fc?.name ?? absent(c.id);
    const read = `struct_extract(${expr}, ${sqlString(name)})`;
    const inner = rebuild(read, c.type, fc, depth + 1);
    if (name !== c.name || inner !== undefined) changed = true;
    return `${quoteIdent(c.name)} := ${inner ?? read}`;
  });
  return changed
    ? `CASE WHEN ${expr} IS NULL THEN NULL ELSE struct_pack(${parts.join(', ')}) END`
    : undefined;
}

/** The select list of columns read by field id, rebuilt to today's nested names where needed. */
function idColumns(fields: readonly NestedField[], alias: string, written?: FileColumns): string[] {
  return fields.map((f) => {
    const col = `${alias}${quoteIdent(f.name)}`;
    const rebuilt = written ? rebuild(col, f.type, written.get(f.id), 0) : undefined;
    return rebuilt === undefined
      ? col
      : `CAST(${rebuilt} AS ${icebergToDuckdbType(f.type)}) AS ${quoteIdent(f.name)}`;
  });
}

/** Key of the written shape of the selected columns: files with equal keys are read together. */
function shapeKey(fields: readonly NestedField[], written?: FileColumns): string {
  if (!written) return '';
  return JSON.stringify(fields.map((f) => (typeof f.type === 'object' ? (written.get(f.id) ?? null) : 0)));
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
  files: readonly PlannedFile[],
  fields: readonly NestedField[],
  withFile: boolean,
  named: boolean,
): string {
  const paths = files.map((f) => f.localPath);
  if (named) {
    const src = byName(
      `read_parquet(${sqlStringList(paths)}, union_by_name = true)`,
      fields,
      withFile ? ['filename'] : [],
    );
    return `SELECT ${castList(fields, '__u', withFile).join(', ')} FROM ${src} AS __u`;
  }
  const written = files[0]?.columns;
  const names = idColumns(fields, '', written);
  if (withFile) names.push('filename AS __file');
  return `SELECT ${names.join(', ')} FROM read_parquet(${sqlStringList(paths)}, schema = ${fieldIdSchemaArg(fields, written)})`;
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
  const names = idColumns(fields, '__d.', f.columns);
  if (withFile) names.push('__d.filename AS __file');
  return (
    `SELECT ${names.join(', ')} FROM read_parquet(${sqlString(f.localPath)}, schema = ${fieldIdSchemaArg(fields, f.columns)}, file_row_number = true) AS __d ` +
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
  const named = plan.readByName === true && plan.nestedNamesStable !== false;
  if (!named && plan.nestedNamesStable === false) {
    const unread = plan.files.find((f) => !f.columns);
    if (unread)
      throw new InvalidInputError(
        `the scan plan lacks the written columns of ${unread.file.file_path}, needed because struct fields of the table were renamed`,
        'plan with Table.planScan, or pass a DuckDB connection (`conn`) to planScan / resolvePaths',
      );
  }
  const groups = new Map<string, PlannedFile[]>();
  for (const f of plan.files) {
    if (f.deletes.length > 0) continue;
    const key = named ? '' : shapeKey(fields, f.columns);
    const group = groups.get(key);
    if (group) group.push(f);
    else groups.set(key, [f]);
  }
  const parts: string[] = [];
  for (const group of groups.values()) parts.push(readFiles(group, fields, withFile, named));
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
