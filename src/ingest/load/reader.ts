/**
 * DuckDB SQL reading staged payloads as records with the lineage columns `__raw_object`
 * (the raw-zone key) and `__raw_row` (0-based position in the payload). DuckDB detects
 * CSV dialects and JSON types and decompresses gzip/zstd itself; XML and XLSX arrive here as
 * NDJSON staging files.
 */
import { sqlString, sqlStringList } from '../../duck/index.js';
import { quoteIdent } from '../../table/index.js';
import type { CsvOptions, PayloadFormat } from '../spec-common.js';
import { documentColumns } from './json-schema.js';
import { pathSegments } from './record-path.js';

/** A payload ready to be read: a local file DuckDB can open. */
export interface LoadItem {
  /** Raw-zone key (the `__raw_object` value). */
  key: string;
  localPath: string;
  /** Format of the local file (XML/XLSX already converted to ndjson). */
  format: Exclude<PayloadFormat, 'xml' | 'xlsx'>;
  /** Record path inside JSON documents. */
  records: string;
  csv?: CsvOptions;
  /** Field paths and kinds of the payload's records, when the source listed them (JSON pages). */
  fields?: readonly string[];
}

/** Above this many files of one format, a batch is read by one call (position by a window over the file name). */
const PER_FILE_MAX = 32;

function csvOptions(format: 'csv' | 'tsv', o: CsvOptions | undefined): string {
  const opts = ['union_by_name = true'];
  const delim = format === 'tsv' ? '\t' : o?.delimiter;
  if (delim !== undefined) opts.push(`delim = ${sqlString(delim)}`);
  if (o?.header !== undefined) opts.push(`header = ${o.header}`);
  if (o?.quote !== undefined) opts.push(`quote = ${sqlString(o.quote)}`);
  if (o?.escape !== undefined) opts.push(`escape = ${sqlString(o.escape)}`);
  if (o?.null_string !== undefined) opts.push(`nullstr = ${sqlString(o.null_string)}`);
  if (o?.all_varchar) opts.push('all_varchar = true');
  return opts.join(', ');
}

/** The table function call reading `files` (one format). */
function readCall(
  format: LoadItem['format'],
  files: string[],
  csv: CsvOptions | undefined,
  filename: boolean,
): string {
  const list = sqlStringList(files);
  const fn = filename ? ', filename = true' : '';
  switch (format) {
    case 'csv':
    case 'tsv':
      return `read_csv(${list}, ${csvOptions(format, csv)}${fn})`;
    case 'parquet':
      return `read_parquet(${list}, union_by_name = true, file_row_number = true${fn})`;
    case 'ndjson':
      return `read_json(${list}, format = 'newline_delimited', union_by_name = true${fn})`;
    default:
      return `read_json(${list}, format = 'auto', union_by_name = true${fn})`;
  }
}

/**
 * JSON documents with the records at a path: one read, records unnested with their exact
 * index. With `recordType`, the documents are read with that type instead of inferring one.
 */
function documentsSql(items: LoadItem[], path: string[], recordType?: string): string {
  const list = path.map(quoteIdent).join('.');
  const keys = items.map((i) => `(${sqlString(i.localPath)}, ${sqlString(i.key)})`).join(', ');
  const files = items.map((i) => i.localPath);
  const call = recordType
    ? `read_json(${sqlStringList(files)}, format = 'auto', columns = ${documentColumns(path, recordType)}, filename = true)`
    : readCall('json', files, undefined, true);
  return `SELECT unnest(__r), __k.k AS __raw_object, __i AS __raw_row FROM (SELECT unnest(${list}) AS __r, generate_subscripts(${list}, 1) - 1 AS __i, filename AS __f FROM ${call}) AS __d JOIN (VALUES ${keys}) AS __k(f, k) ON __d.__f = __k.f`;
}

/** Whether `items` are JSON documents with records at a path, all read by one `documentsSql`. */
export function isDocumentBatch(items: readonly LoadItem[]): boolean {
  const first = items[0];
  return (
    first !== undefined &&
    first.format === 'json' &&
    pathSegments(first.records).length > 0 &&
    items.every((i) => i.format === 'json' && i.records === first.records)
  );
}

function oneFileSql(item: LoadItem, rowNumbers: boolean): string {
  const call = readCall(item.format, [item.localPath], item.csv, false);
  if (item.format === 'parquet')
    return `SELECT * EXCLUDE (file_row_number), ${sqlString(item.key)} AS __raw_object, file_row_number AS __raw_row FROM ${call}`;
  // Numbering rows is a streaming window that reads the file on one thread: only when needed.
  const row = rowNumbers ? 'row_number() OVER () - 1' : 'CAST(NULL AS BIGINT)';
  return `SELECT *, ${sqlString(item.key)} AS __raw_object, ${row} AS __raw_row FROM ${call}`;
}

function manyFilesSql(format: LoadItem['format'], items: LoadItem[], rowNumbers: boolean): string {
  const keys = items.map((i) => `(${sqlString(i.localPath)}, ${sqlString(i.key)})`).join(', ');
  const call = readCall(
    format,
    items.map((i) => i.localPath),
    items[0]?.csv,
    true,
  );
  const row =
    format === 'parquet'
      ? 'file_row_number'
      : rowNumbers
        ? 'row_number() OVER (PARTITION BY filename) - 1'
        : 'CAST(NULL AS BIGINT)';
  const drop = format === 'parquet' ? 'filename, file_row_number' : 'filename';
  return `SELECT * EXCLUDE (${drop}, f, k), k AS __raw_object, __raw_row FROM (SELECT *, ${row} AS __raw_row FROM ${call}) AS __d JOIN (VALUES ${keys}) AS __k(f, k) ON __d.filename = __k.f`;
}

/**
 * One SELECT over every item: record columns (union by name across payloads) plus
 * `__raw_object` and `__raw_row` (NULL for CSV/NDJSON unless `rowNumbers`). `recordType` is the
 * known record type of a document batch (see `isDocumentBatch`).
 */
export function readerSql(items: LoadItem[], rowNumbers = true, recordType?: string): string {
  if (recordType !== undefined && isDocumentBatch(items))
    return documentsSql(items, pathSegments((items[0] as LoadItem).records), recordType);
  const parts: string[] = [];
  const groups = new Map<string, LoadItem[]>();
  for (const item of items) {
    const path = item.format === 'json' ? item.records : '';
    const g = `${item.format}\u0000${path}\u0000${JSON.stringify(item.csv ?? {})}`;
    groups.set(g, [...(groups.get(g) ?? []), item]);
  }
  for (const group of groups.values()) {
    const first = group[0] as LoadItem;
    const path = first.format === 'json' ? pathSegments(first.records) : [];
    if (path.length > 0) parts.push(documentsSql(group, path));
    else if (group.length > PER_FILE_MAX) parts.push(manyFilesSql(first.format, group, rowNumbers));
    else for (const item of group) parts.push(oneFileSql(item, rowNumbers));
  }
  return parts.map((p) => `(${p})`).join(' UNION ALL BY NAME ');
}
