/**
 * `flatten`: JSON text is parsed with the structure DuckDB infers over the whole column
 * (`json_group_structure`), lists explode into one record per element, and objects expand
 * into `prefix_field` columns, level by level.
 */
import { sqlString } from '../../../duck/index.js';
import { InvalidInputError } from '../../../util/index.js';
import type { ProcessorOptions } from '../schema.js';
import {
  type Column,
  createOutput,
  describe,
  ident,
  insertRejected,
  refuseLineage,
  requireColumns,
  type StepResult,
  type StepRun,
} from '../step.js';

const isStruct = (type: string) => /^STRUCT\(.*\)$/is.test(type);
const isList = (type: string) => /\[\]$/.test(type);
const isText = (type: string) => /^(VARCHAR|JSON)$/i.test(type);

/** A column made from a struct field. */
interface Field {
  name: string;
  sql: string;
}

/** Columns `prefix + field` for a struct expression, expanding nested structs `depth` levels down. */
async function expand(
  run: StepRun,
  from: string,
  expr: string,
  prefix: string,
  sep: string,
  depth: number,
): Promise<Field[]> {
  const fields = await describe(run.conn, `SELECT unnest(${expr}) FROM ${from}`);
  const out: Field[] = [];
  for (const f of fields) {
    const child = `struct_extract(${expr}, ${sqlString(f.name)})`;
    const name = `${prefix}${f.name}`;
    if (isStruct(f.type) && depth > 1)
      out.push(...(await expand(run, from, child, `${name}${sep}`, sep, depth - 1)));
    else out.push({ name, sql: `${child} AS ${ident(name)}` });
  }
  return out;
}

/** Expand a nested column; see the file comment. */
export async function flattenStep(run: StepRun, o: ProcessorOptions<'flatten'>): Promise<StepResult> {
  requireColumns(run, [o.column], 'column');
  refuseLineage(run, [o.column], 'column');
  const col = ident(o.column);
  let from = run.input;
  let type = (run.columns.find((c) => c.name === o.column) as Column).type;

  if (!isText(type) && !isStruct(type) && !isList(type))
    throw new InvalidInputError(
      `${run.label}: cannot flatten ${o.column} (${type})`,
      'flatten takes a STRUCT, a list, or JSON text',
    );
  if (isText(type)) {
    // The structure comes from the data: planning stops here.
    if (run.dry) {
      await createOutput(run, `SELECT * FROM ${run.input}`);
      return { schemaFromData: true };
    }
    const bad = `${col} IS NOT NULL AND NOT json_valid(${col})`;
    await insertRejected(run, run.input, `${sqlString(`${o.column}: not valid JSON`)}`, bad);
    const [s] = await run.conn.all<{ s: string | null }>(
      `SELECT json_group_structure(CAST(${col} AS JSON))::VARCHAR AS s FROM ${run.input} WHERE ${col} IS NOT NULL AND json_valid(${col})`,
    );
    const structure = s?.s && s.s !== 'null' ? s.s : '"JSON"';
    const parsed = run.scratch('parsed');
    await run.conn.run(
      `CREATE TEMP TABLE ${parsed} AS SELECT * REPLACE (json_transform(${col}, ${sqlString(structure)}) AS ${col})
       FROM ${run.input} WHERE NOT (${bad})`,
      undefined,
      { signal: run.ctx.signal },
    );
    from = parsed;
    type = (await describe(run.conn, parsed)).find((c) => c.name === o.column)?.type ?? type;
  }

  if (isList(type) && o.explode) {
    // Empty and NULL lists keep their record, with a NULL element.
    const exploded = run.scratch('exploded');
    await run.conn.run(
      `CREATE TEMP TABLE ${exploded} AS SELECT * REPLACE (
         unnest(CASE WHEN len(${col}) > 0 THEN ${col} ELSE [NULL] END) AS ${col}) FROM ${from}`,
      undefined,
      { signal: run.ctx.signal },
    );
    from = exploded;
    type = (await describe(run.conn, exploded)).find((c) => c.name === o.column)?.type ?? type;
  }

  if (!isStruct(type)) {
    await createOutput(run, `SELECT * FROM ${from}`);
    return undefined;
  }
  const base = o.prefix ?? o.column;
  const prefix = base === '' ? '' : `${base}${o.separator}`;
  const fields = await expand(run, from, col, prefix, o.separator, o.depth);
  const others = new Set(run.columns.filter((c) => c.name !== o.column).map((c) => c.name));
  const clash = fields.find((f) => others.has(f.name))?.name;
  if (clash)
    throw new InvalidInputError(
      `${run.label}: flattening ${o.column} gives the column ${clash}, which already exists`,
      'set another prefix',
    );
  await createOutput(run, `SELECT * EXCLUDE (${col}), ${fields.map((f) => f.sql).join(', ')} FROM ${from}`);
  return undefined;
}
