/**
 * Streaming results to the client: DataRows batch by batch (waiting for the socket to drain),
 * row limits of Execute (a portal resumes where it stopped), COPY TO STDOUT, command tags.
 */
import type { ColumnBatch, QueryResult, ResultColumn } from '../../engine/types.js';
import { CopyLineWriter, dataRows, rowsAsBatch, rowWriters } from './batch-encode.js';
import type { LocalColumn, LocalRows } from './catalog.js';
import { toBinary } from './encode.js';
import { backend, dataRow } from './messages.js';
import { OID, type PgType, pgTypeOf } from './oids.js';
import type { CopyOptions } from './plan.js';
import { ProtocolError } from './sqlstate.js';

/** Where encoded messages go; `write` resolves once the socket can take more. */
export interface Sink {
  send(chunk: Buffer): Promise<void>;
}

/** A result column as described to the client. */
export interface WireColumn {
  name: string;
  type: PgType;
  /** 0 text, 1 binary. */
  format: number;
}

/** Columns of an engine result with the formats requested by Bind (one for all, or one each). */
export function wireColumns(columns: ResultColumn[], formats: number[]): WireColumn[] {
  return columns.map((c, i) => ({ name: c.name, type: pgTypeOf(c.type), format: formatAt(formats, i) }));
}

/** Columns of a locally answered result. */
export function localColumns(columns: LocalColumn[], formats: number[]): WireColumn[] {
  return columns.map((c, i) => ({
    name: c.name,
    type: { oid: c.oid, size: -1, modifier: -1 },
    format: formatAt(formats, i),
  }));
}

function formatAt(formats: number[], i: number): number {
  const f = formats.length === 1 ? formats[0] : formats[i];
  if (f !== undefined && f !== 0 && f !== 1)
    throw new ProtocolError('08P01', `invalid format code ${f}`, true);
  return f ?? 0;
}

const ROW_TYPES = new Set([
  'SELECT',
  'EXPLAIN',
  'PRAGMA',
  'CALL',
  'RELATION',
  'SHOW',
  'DESCRIBE',
  'SUMMARIZE',
  'EXECUTE',
]);
const DML = new Set(['INSERT', 'UPDATE', 'DELETE']);

/** Whether a statement of this kind sends rows (DML only with RETURNING). */
export function returnsRows(statementType: string, sql: string): boolean {
  const type = statementType.toUpperCase().replace(/_STATEMENT$/, '');
  if (DML.has(type)) return /\breturning\b/i.test(sql);
  return ROW_TYPES.has(type);
}

/** Whether SQL text (before running it) will send rows: for Describe, which cannot run it. */
export function looksLikeRows(sql: string): boolean {
  const word =
    /^\s*\(*\s*(\w+)/.exec(sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' '))?.[1]?.toUpperCase() ?? '';
  if (DML.has(word)) return /\breturning\b/i.test(sql);
  return /^(SELECT|WITH|VALUES|TABLE|FROM|EXPLAIN|SHOW|DESCRIBE|SUMMARIZE|PRAGMA|CALL)$/.test(word);
}

/** The CommandComplete tag of a statement that sent no rows. */
export function commandTag(statementType: string, sql: string, changed: number): string {
  const type = statementType.toUpperCase();
  if (type === 'INSERT') return `INSERT 0 ${changed}`;
  if (type === 'UPDATE' || type === 'DELETE' || type === 'MERGE') return `${type} ${changed}`;
  const words = sql
    .replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ')
    .trim()
    .split(/\s+/)
    .slice(0, 2)
    .map((w) => w.toUpperCase());
  if (/^(CREATE|DROP|ALTER)$/.test(words[0] ?? '')) return words.join(' ');
  return words[0] || type;
}

/** The rows of a result batch by batch, column-wise when the engine offers it. */
function columnBatches(result: QueryResult): AsyncIterator<ColumnBatch> {
  if (result.columnBatches) return result.columnBatches()[Symbol.asyncIterator]();
  const rows = result.batches()[Symbol.asyncIterator]();
  const width = result.columns.length;
  return {
    async next() {
      const next = await rows.next();
      return next.done ? next : { done: false, value: rowsAsBatch(next.value, width) };
    },
  };
}

/** A running result that Execute consumes, possibly over several calls with row limits. */
export class RowCursor {
  #iterator: AsyncIterator<ColumnBatch>;
  #pending: ColumnBatch = { rowCount: 0, columns: [] };
  #at = 0;
  #done = false;
  #columns: WireColumn[] = [];
  #writers: ReturnType<typeof rowWriters> = [];
  rowsSent = 0;

  constructor(
    readonly result: QueryResult,
    columns: WireColumn[],
  ) {
    this.columns = columns;
    this.#iterator = columnBatches(result);
  }

  /** Encoding of the rows (FETCH may change formats between calls). */
  get columns(): WireColumn[] {
    return this.#columns;
  }
  set columns(columns: WireColumn[]) {
    this.#columns = columns;
    this.#writers = rowWriters(columns);
  }

  /** Send up to `limit` rows (0 = all); true when the result is exhausted. */
  async send(sink: Sink, limit: number, signal: AbortSignal): Promise<boolean> {
    let budget = limit > 0 ? limit : Number.POSITIVE_INFINITY;
    while (budget > 0) {
      if (this.#at >= this.#pending.rowCount) {
        signal.throwIfAborted();
        const next = await this.#iterator.next();
        if (next.done) {
          this.#done = true;
          break;
        }
        this.#pending = next.value;
        this.#at = 0;
        continue;
      }
      const end = Math.min(this.#pending.rowCount, this.#at + budget);
      const chunk = dataRows(this.#pending, this.#at, end, this.#writers);
      budget -= end - this.#at;
      this.rowsSent += end - this.#at;
      this.#at = end;
      await sink.send(chunk);
    }
    // Look one batch ahead so a result that ends exactly at the limit completes now.
    if (!this.#done && this.#at >= this.#pending.rowCount) {
      const next = await this.#iterator.next();
      if (next.done) this.#done = true;
      else {
        this.#pending = next.value;
        this.#at = 0;
      }
    }
    if (this.#done) await this.result.close();
    return this.#done;
  }

  async close(): Promise<void> {
    await this.result.close();
  }
}

/** Send a locally computed result's rows (text values, encoded per requested format). */
export async function sendLocalRows(sink: Sink, local: LocalRows, columns: WireColumn[]): Promise<void> {
  const chunk = local.rows.map((row) =>
    dataRow(
      row.map((v, i) => {
        if (v === null) return null;
        const c = columns[i] as WireColumn;
        return c.format === 1 ? localBinary(v, c.type.oid) : Buffer.from(v, 'utf8');
      }),
    ),
  );
  if (chunk.length > 0) await sink.send(Buffer.concat(chunk));
}

function localBinary(text: string, oid: number): Buffer {
  if (oid === OID.bool) return toBinary(text === 't', oid);
  if (oid === OID.int2) return toBinary(Number(text), oid);
  if (oid === OID.int4 || oid === OID.oid) return toBinary(Number(text), OID.int4);
  if (oid === OID.int8) return toBinary(BigInt(text), oid);
  return Buffer.from(text, 'utf8');
}

/** Stream a result as COPY TO STDOUT in text or CSV format; returns the row count. */
export async function sendCopy(
  sink: Sink,
  result: QueryResult,
  o: CopyOptions,
  signal: AbortSignal,
): Promise<number> {
  const lines = new CopyLineWriter(
    result.columns.map((c) => pgTypeOf(c.type).oid),
    o,
  );
  await sink.send(backend.copyOutResponse(result.columns.length, false));
  if (o.header) {
    const header = result.columns.map((c) => lines.field(c.name)).join(o.delimiter);
    await sink.send(backend.copyData(Buffer.from(`${header}\n`, 'utf8')));
  }
  let rows = 0;
  const batches = columnBatches(result);
  for (;;) {
    signal.throwIfAborted();
    const next = await batches.next();
    if (next.done) break;
    rows += next.value.rowCount;
    await sink.send(lines.lines(next.value));
  }
  await sink.send(backend.copyDone());
  return rows;
}
