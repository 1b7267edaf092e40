/** What one processor step gets to run, and the SQL helpers steps share. */
import { type DuckConnection, sqlString } from '../../duck/index.js';
import { InvalidInputError } from '../../util/index.js';
import { LINEAGE_COLUMNS, type ProcessorContext } from './types.js';

/** A column of a table as DuckDB describes it. */
export interface Column {
  name: string;
  type: string;
}

/** One step's run: read `input`, create the temp table `output`, insert rejects into `rejected`. */
export interface StepRun {
  ctx: ProcessorContext;
  conn: DuckConnection;
  /** `processors[3] (filter)`: names the step in errors and rejected rows. */
  label: string;
  input: string;
  /** Columns of `input`, lineage included. */
  columns: Column[];
  output: string;
  rejected: string;
  /** A planning run over an empty copy of the input: check names and expressions only. */
  dry: boolean;
  /** A name for a scratch table; the chain drops it afterwards. */
  scratch(suffix: string): string;
}

/** What a step may tell the chain: after it, the schema is only known from data (stop planning). */
export type StepResult = undefined | { schemaFromData: true };

/** A processor implementation. */
export type StepImpl<O> = (run: StepRun, options: O) => Promise<StepResult>;

/** A double-quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A SQL literal for a JSON scalar from a pipeline file. */
export function literal(v: string | number | boolean): string {
  if (typeof v === 'string') return sqlString(v);
  if (typeof v === 'number' && !Number.isFinite(v)) throw new InvalidInputError(`not a finite number: ${v}`);
  return String(v);
}

/** Whether a column is one of the lineage columns. */
export function isLineage(name: string): boolean {
  return (LINEAGE_COLUMNS as readonly string[]).includes(name);
}

/** Columns of a table or query. */
export async function describe(conn: DuckConnection, from: string): Promise<Column[]> {
  const rows = await conn.all<{ column_name: string; column_type: string }>(`DESCRIBE ${from}`);
  return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
}

/** Fail, naming the step, when a column is not in the input. @throws InvalidInputError */
export function requireColumns(run: StepRun, wanted: readonly string[], option: string): void {
  const have = new Set(run.columns.map((c) => c.name));
  const missing = wanted.filter((c) => !have.has(c));
  if (missing.length === 0) return;
  const available = run.columns.filter((c) => !isLineage(c.name)).map((c) => c.name);
  throw new InvalidInputError(
    `${run.label}: ${option} names unknown column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}`,
    `columns at this step: ${available.join(', ') || '(none)'}`,
  );
}

/** Fail, naming the step, when a column would overwrite a lineage column. @throws InvalidInputError */
export function refuseLineage(run: StepRun, names: readonly string[], option: string): void {
  const bad = names.filter(isLineage);
  if (bad.length > 0)
    throw new InvalidInputError(`${run.label}: ${option} cannot write the lineage column "${bad[0]}"`);
}

/** A JSON object of a record's own columns (lineage excluded), as the record entered the step. */
export function recordJson(columns: readonly Column[], alias?: string): string {
  const own = columns.filter((c) => !isLineage(c.name));
  if (own.length === 0) return `'{}'::JSON`;
  const ref = (n: string) => (alias ? `${alias}.${ident(n)}` : ident(n));
  return `to_json(struct_pack(${own.map((c) => `${ident(c.name)} := ${ref(c.name)}`).join(', ')}))`;
}

/** Insert into the rejected table the rows of `from` matching `where`, with a reason expression. */
export async function insertRejected(
  run: StepRun,
  from: string,
  reason: string,
  where: string,
): Promise<void> {
  await run.conn.run(
    `INSERT INTO ${run.rejected} (__reason, __processor, __record, __raw_object, __raw_row)
     SELECT ${reason}, ${sqlString(run.label)}, ${recordJson(run.columns)}, __raw_object, __raw_row
     FROM ${from} WHERE ${where}`,
    undefined,
    { signal: run.ctx.signal },
  );
}

/**
 * Check that `SELECT <list> FROM t` is one SELECT statement, so a user expression cannot
 * end the statement and start another. @throws InvalidInputError naming the step
 */
export async function checkSelect(run: StepRun, select: string, what: string): Promise<void> {
  const [row] = await run.conn.all<{ j: string }>('SELECT json_serialize_sql($1::VARCHAR) AS j', [select]);
  const parsed = JSON.parse(row?.j ?? '{}') as {
    error?: boolean;
    error_message?: string;
    statements?: unknown[];
  };
  if (parsed.error)
    throw new InvalidInputError(`${run.label}: bad ${what}: ${parsed.error_message ?? 'cannot parse it'}`);
  if ((parsed.statements?.length ?? 0) !== 1)
    throw new InvalidInputError(`${run.label}: the ${what} must be a single SELECT, without ";"`);
}

/** Create the step's output table from a SELECT. */
export async function createOutput(run: StepRun, select: string): Promise<void> {
  await run.conn.run(`CREATE TEMP TABLE ${run.output} AS ${select}`, undefined, { signal: run.ctx.signal });
}
