/**
 * Definitions of system tables: the Iceberg tables of namespace `sluice_system` in which the
 * platform keeps its own history (runs, task runs, commits, ...). An area defines its tables
 * once, at module load, and records rows through the returned handle.
 */
import { createHash } from 'node:crypto';
import type { PartitionFieldInput, PrimitiveType, Schema } from '../table/index.js';
import { canonicalPrimitive, parsePrimitive } from '../table/index.js';
import { InvalidInputError } from '../util/index.js';

/** The namespace every system table lives in. */
export const SYSTEM_NAMESPACE = 'sluice_system';

/** One column of a system table. */
export interface SystemColumn {
  /** Lower-case SQL name: letters, digits, `_`. */
  name: string;
  /** An Iceberg primitive type: `long`, `string`, `timestamptz`, `decimal(18,2)`, ... (not `fixed`). */
  type: string;
  /** Every row must give a non-null value (default false). */
  required?: boolean;
  /** Shown to users as the column comment. */
  doc?: string;
}

/** What `defineSystemTable` takes. */
export interface SystemTableSpec {
  /** Table name inside `sluice_system`, e.g. `runs`. */
  name: string;
  columns: readonly SystemColumn[];
  /** Partitioning of a new table, e.g. `[{ column: 'started_at', transform: 'day' }]`. */
  partitionBy?: readonly PartitionFieldInput[];
}

/** A validated column: its type in canonical form. */
export interface SystemColumnDef {
  name: string;
  type: PrimitiveType;
  required: boolean;
  doc?: string;
}

/** A defined system table; `Row` is the shape its rows take in TypeScript. */
export interface SystemTable<Row = Record<string, unknown>> {
  readonly name: string;
  readonly columns: readonly SystemColumnDef[];
  readonly partitionBy: readonly PartitionFieldInput[];
  /** Hash of the definition; rows are flushed with the definition they were recorded under. */
  readonly hash: string;
  /** Phantom field carrying the row type; always undefined. */
  readonly __row?: Row;
}

const NAME_RE = /^[a-z][a-z0-9_]{0,62}$/;
const TRANSFORM_RE = /^(identity|year|month|day|hour|void|bucket\[\d+\]|truncate\[\d+\])$/;

function fail(table: string, what: string, hint?: string): never {
  throw new InvalidInputError(`system table ${SYSTEM_NAMESPACE}.${table}: ${what}`, hint);
}

function checkColumn(table: string, c: SystemColumn): SystemColumnDef {
  if (typeof c?.name !== 'string' || !NAME_RE.test(c.name))
    fail(table, `invalid column name ${JSON.stringify(c?.name)}`, 'use lower-case letters, digits and _');
  let type: PrimitiveType;
  try {
    type = canonicalPrimitive(String(c.type));
  } catch (err) {
    fail(table, `column "${c.name}": ${(err as Error).message}`);
  }
  if (parsePrimitive(type).kind === 'fixed')
    fail(table, `column "${c.name}": fixed types are not supported in system tables`, 'use binary');
  const out: SystemColumnDef = { name: c.name, type, required: c.required === true };
  if (c.doc) out.doc = c.doc;
  return out;
}

/**
 * Define a system table. Call once per table at module load; the table (and the namespace) is
 * created on the first flush, and a definition that gains columns evolves the table's schema.
 * @throws InvalidInputError for an invalid name, duplicate or invalid column, or partition field.
 */
export function defineSystemTable<Row = Record<string, unknown>>(spec: SystemTableSpec): SystemTable<Row> {
  if (typeof spec?.name !== 'string' || !NAME_RE.test(spec.name))
    throw new InvalidInputError(
      `invalid system table name ${JSON.stringify(spec?.name)}`,
      'use lower-case letters, digits and _, starting with a letter',
    );
  if (!Array.isArray(spec.columns) || spec.columns.length === 0) fail(spec.name, 'has no columns');
  const columns = spec.columns.map((c) => checkColumn(spec.name, c));
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.name)) fail(spec.name, `column "${c.name}" is defined twice`);
    seen.add(c.name);
  }
  const partitionBy = (spec.partitionBy ?? []).map((p) => {
    if (!seen.has(p.column)) fail(spec.name, `partition column "${p.column}" is not a column`);
    if (!TRANSFORM_RE.test(p.transform))
      fail(spec.name, `unknown partition transform "${p.transform}" of column "${p.column}"`);
    return { ...p };
  });
  const hash = createHash('sha256')
    .update(JSON.stringify({ name: spec.name, columns, partitionBy }))
    .digest('hex')
    .slice(0, 32);
  return Object.freeze({ name: spec.name, columns: Object.freeze(columns), partitionBy, hash });
}

/** The Iceberg schema of a definition (ids 1..n; the catalog keeps them for a new table). */
export function systemSchema(columns: readonly SystemColumnDef[]): Schema {
  return {
    type: 'struct',
    'schema-id': 0,
    fields: columns.map((c, i) => ({
      id: i + 1,
      name: c.name,
      required: c.required,
      type: c.type,
      ...(c.doc ? { doc: c.doc } : {}),
    })),
  };
}

/** A definition as stored in the metastore (what the flusher reads back). */
export interface StoredDefinition {
  name: string;
  columns: SystemColumnDef[];
  partitionBy: PartitionFieldInput[];
}

/** Parse a stored definition. @throws InvalidInputError when it is not a valid definition */
export function parseStoredDefinition(text: string): SystemTable {
  const d = JSON.parse(text) as StoredDefinition;
  return defineSystemTable(d);
}
