/**
 * Formats DuckDB cannot read directly are converted to NDJSON staging files: XML (records at a
 * path, via fast-xml-parser) and XLSX (one sheet, via exceljs's streaming reader). The raw
 * object itself is never changed; the staging file lives only for the load.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type ExcelJS from 'exceljs';
import { InvalidInputError } from '../../util/index.js';
import { valueAtPath } from './record-path.js';

async function decompressed(path: string, compression?: 'gzip' | 'zstd'): Promise<Buffer> {
  const bytes = await readFile(path);
  if (compression === 'gzip') return gunzipSync(bytes);
  if (compression === 'zstd')
    throw new InvalidInputError(
      'zstd-compressed XML is not supported',
      'store XML uncompressed or gzip-compressed',
    );
  return bytes;
}

async function writeLines(out: string, lines: Iterable<string> | AsyncIterable<string>): Promise<number> {
  const ws = createWriteStream(out);
  let n = 0;
  try {
    for await (const line of lines) {
      if (!ws.write(`${line}\n`)) await once(ws, 'drain');
      n++;
    }
  } finally {
    ws.end();
    await once(ws, 'close');
  }
  return n;
}

/**
 * The records at `path` (dotted element names) of an XML document; attributes become `@name`
 * fields. @throws InvalidInputError for malformed XML
 */
export async function xmlRecords(xml: string | Buffer, path: string): Promise<unknown[]> {
  const { XMLParser } = await import('fast-xml-parser');
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    parseTagValue: true,
    trimValues: true,
    processEntities: true,
  });
  let doc: unknown;
  try {
    doc = parser.parse(xml, true);
  } catch (err) {
    throw new InvalidInputError(`malformed XML: ${(err as Error).message}`, undefined, { cause: err });
  }
  const found = valueAtPath(doc, path);
  return found === undefined || found === null || found === '' ? [] : Array.isArray(found) ? found : [found];
}

/** XML records at `path` written as NDJSON. */
export async function xmlToNdjson(
  src: string,
  out: string,
  path: string,
  compression?: 'gzip' | 'zstd',
): Promise<number> {
  const records = await xmlRecords(await decompressed(src, compression), path);
  return writeLines(
    out,
    records.map((r) => JSON.stringify(typeof r === 'object' ? r : { value: r })),
  );
}

function cellValue(v: ExcelJS.CellValue): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') {
    if ('result' in v) return cellValue(v.result as ExcelJS.CellValue);
    if ('text' in v) return String(v.text);
    if ('richText' in v) return v.richText.map((t) => t.text).join('');
    if ('error' in v) return null;
  }
  return v;
}

/** One sheet (name or 1-based number; default the first) of an XLSX file as NDJSON; the first row names the columns. */
export async function xlsxToNdjson(src: string, out: string, sheet?: string | number): Promise<number> {
  const { default: Excel } = await import('exceljs');
  const reader = new Excel.stream.xlsx.WorkbookReader(createReadStream(src), {
    worksheets: 'emit',
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'ignore',
  });
  let index = 0;
  let found = false;
  async function* rows(): AsyncIterable<string> {
    for await (const ws of reader) {
      index++;
      const w = ws as unknown as { name?: string; [Symbol.asyncIterator](): AsyncIterator<ExcelJS.Row> };
      const wanted =
        sheet === undefined ? index === 1 : typeof sheet === 'number' ? index === sheet : w.name === sheet;
      if (!wanted) {
        for await (const _ of w) {
          // drain the sheet to reach the next one
        }
        continue;
      }
      found = true;
      let header: string[] | undefined;
      for await (const row of w) {
        const values = (row.values as ExcelJS.CellValue[]).slice(1).map(cellValue);
        if (!header) {
          header = values.map((v, i) => (v === null || v === '' ? `column${i + 1}` : String(v)));
          continue;
        }
        const rec: Record<string, unknown> = {};
        header.forEach((h, i) => {
          rec[h] = values[i] ?? null;
        });
        yield JSON.stringify(rec);
      }
    }
  }
  const n = await writeLines(out, rows());
  if (!found)
    throw new InvalidInputError(
      `the workbook has no sheet ${JSON.stringify(sheet ?? 1)}`,
      'set `sheet` to a sheet name or 1-based number',
    );
  return n;
}
