/**
 * The record type of a task's JSON pages, inferred once and reused. DuckDB's type inference
 * over many small documents (`read_json(..., union_by_name = true)`) costs far more than the
 * read itself, so after a batch was inferred, later batches are read with that type given
 * explicitly. Nothing may be lost that way: the source lists the fields and value kinds of each
 * page while it parses it anyway (`fieldsOf`), and a batch is read with the known type only
 * when every field/kind of its pages was part of the inference. A page with a new field, or a
 * value of a new kind (an integer field holding a fraction, a string where a number was), is
 * inferred again with the whole batch, so the sink sees the new column or the wider type and
 * applies the drift policy. A value the known type cannot hold (a string that is no timestamp)
 * fails the read, and the batch is inferred again too.
 */
import { quoteIdent } from '../../table/index.js';
import type { SourceColumn } from '../sink/schema.js';

/** Above this many distinct fields a page carries no list (it is always inferred). */
const MAX_FIELDS = 4096;

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'object':
      return 'object';
    default:
      return typeof v;
  }
}

function walk(v: unknown, path: string, out: Set<string>): void {
  const kind = kindOf(v);
  out.add(`${path}:${kind}`);
  if (kind === 'array') for (const x of v as unknown[]) walk(x, `${path}[]`, out);
  else if (kind === 'object')
    for (const [k, x] of Object.entries(v as Record<string, unknown>))
      walk(x, `${path}${JSON.stringify(k)}`, out);
}

/**
 * Every field path and value kind of `records` (`"a""b":int`, `"tags"[]:string`, `:object` for
 * the record itself), sorted; undefined when there are too many to be worth listing.
 */
export function fieldsOf(records: readonly unknown[]): string[] | undefined {
  const out = new Set<string>();
  for (const r of records) {
    walk(r, '', out);
    if (out.size > MAX_FIELDS) return undefined;
  }
  return [...out].sort();
}

/** The DuckDB `columns` value reading documents whose records (of `recordType`) sit at `path`. */
export function documentColumns(path: readonly string[], recordType: string): string {
  let type = `${recordType}[]`;
  for (let i = path.length - 1; i >= 1; i--) type = `STRUCT(${quoteIdent(path[i] as string)} ${type})`;
  const top = (path[0] as string).replaceAll("'", "''");
  return `{'${top}': '${type.replaceAll("'", "''")}'}`;
}

/** The record type inferred for a task's JSON pages, and the page fields it was inferred from. */
export class JsonRecordType {
  #type?: string;
  #known = new Set<string>();

  /** The known record type when it covers every page's fields, else undefined (infer). */
  typeFor(pages: readonly (readonly string[] | undefined)[]): string | undefined {
    if (this.#type === undefined) return undefined;
    for (const fields of pages) {
      if (!fields) return undefined;
      for (const f of fields) if (!this.#known.has(f)) return undefined;
    }
    return this.#type;
  }

  /**
   * Remember the record columns DuckDB inferred over `pages`; pages without a field list, or
   * whose records are not all objects, leave nothing known.
   */
  learn(pages: readonly (readonly string[] | undefined)[], columns: readonly SourceColumn[]): void {
    this.forget();
    if (columns.length === 0) return;
    const known = new Set<string>();
    for (const fields of pages) {
      if (!fields) return;
      for (const f of fields) {
        if (f.startsWith(':') && f !== ':object') return;
        known.add(f);
      }
    }
    this.#known = known;
    this.#type = `STRUCT(${columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')})`;
  }

  /** Drop the known type (the next batch is inferred). */
  forget(): void {
    this.#type = undefined;
    this.#known = new Set();
  }
}
