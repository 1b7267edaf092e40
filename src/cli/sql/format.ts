/** Printing results: an aligned table, CSV, a JSON array of objects, NDJSON. */
import type { JsonValue, SqlRows } from './types.js';

/** Output formats of `sluice sql` (parquet is written by the engine, not here). */
export type TextFormat = 'table' | 'csv' | 'json' | 'ndjson';

/** Where text goes; resolves when the sink has room again. */
export type Sink = (text: string) => Promise<void> | void;

/** Rows shown by the table format; the rest are counted, not printed. */
export const TABLE_MAX_ROWS = 1000;

function text(v: JsonValue): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function csvCell(v: JsonValue): string {
  const t = text(v);
  return /[",\n\r]/.test(t) || /^\s|\s$/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

function objectOf(names: string[], row: JsonValue[]): Record<string, JsonValue> {
  const o: Record<string, JsonValue> = {};
  names.forEach((n, i) => {
    o[n] = row[i] ?? null;
  });
  return o;
}

function aligned(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join(' │ ')
      .trimEnd();
  return [line(header), widths.map((w) => '─'.repeat(w)).join('─┼─'), ...rows.map(line)].join('\n');
}

/** Print one result in a format; returns the number of rows. */
export async function printRows(result: SqlRows, format: TextFormat, out: Sink): Promise<number> {
  const names = result.columns.map((c) => c.name);
  let count = 0;
  if (format === 'table') {
    const shown: string[][] = [];
    for await (const batch of result.rows) {
      for (const row of batch) {
        if (shown.length < TABLE_MAX_ROWS)
          shown.push(row.map((v) => (v === null ? 'NULL' : text(v).replace(/\n/g, '\\n'))));
        count++;
      }
    }
    if (names.length === 0) return count;
    const more = count > shown.length ? `, first ${shown.length} shown (use --format csv for all)` : '';
    await out(`${aligned(names, shown)}\n(${count} row${count === 1 ? '' : 's'}${more})\n`);
    return count;
  }
  if (format === 'csv') await out(`${names.map(csvCell).join(',')}\n`);
  if (format === 'json') await out('[');
  for await (const batch of result.rows) {
    let chunk = '';
    for (const row of batch) {
      if (format === 'csv') chunk += `${row.map(csvCell).join(',')}\n`;
      else if (format === 'ndjson') chunk += `${JSON.stringify(objectOf(names, row))}\n`;
      else chunk += `${count === 0 ? '\n' : ',\n'}${JSON.stringify(objectOf(names, row))}`;
      count++;
    }
    await out(chunk);
  }
  if (format === 'json') await out(count ? '\n]\n' : ']\n');
  return count;
}

/** The summary of a statement without rows, e.g. `INSERT 3`. */
export function summaryLine(result: SqlRows): string {
  return result.rowsChanged !== undefined
    ? `${result.statementType} ${result.rowsChanged}`
    : result.statementType;
}
