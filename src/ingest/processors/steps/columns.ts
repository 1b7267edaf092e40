/** Column-shaping steps: `select`, `rename`, `drop`, `filter`, `derive`, `sql`. */
import { sqlString } from '../../../duck/index.js';
import { InvalidInputError } from '../../../util/index.js';
import type { ProcessorOptions } from '../schema.js';
import {
  checkSelect,
  createOutput,
  describe,
  ident,
  insertRejected,
  isLineage,
  refuseLineage,
  requireColumns,
  type StepRun,
} from '../step.js';
import { LINEAGE_COLUMNS } from '../types.js';

/** Keep only the listed columns (and lineage). */
export async function selectStep(run: StepRun, o: ProcessorOptions<'select'>): Promise<undefined> {
  requireColumns(run, o, 'select');
  const cols = [...new Set([...o.filter((c) => !isLineage(c)), ...LINEAGE_COLUMNS])];
  await createOutput(run, `SELECT ${cols.map(ident).join(', ')} FROM ${run.input}`);
  return undefined;
}

/** Remove the listed columns. */
export async function dropStep(run: StepRun, o: ProcessorOptions<'drop'>): Promise<undefined> {
  requireColumns(run, o, 'drop');
  refuseLineage(run, o, 'drop');
  if (o.length >= run.columns.length - LINEAGE_COLUMNS.length)
    await createOutput(run, `SELECT ${LINEAGE_COLUMNS.map(ident).join(', ')} FROM ${run.input}`);
  else await createOutput(run, `SELECT * EXCLUDE (${o.map(ident).join(', ')}) FROM ${run.input}`);
  return undefined;
}

/** Rename columns `old: new`. */
export async function renameStep(run: StepRun, o: ProcessorOptions<'rename'>): Promise<undefined> {
  const from = Object.keys(o);
  requireColumns(run, from, 'rename');
  refuseLineage(run, [...from, ...Object.values(o)], 'rename');
  const after = run.columns.map((c) => o[c.name] ?? c.name);
  const clash = after.find((n, i) => after.indexOf(n) !== i);
  if (clash) throw new InvalidInputError(`${run.label}: rename would give two columns the name "${clash}"`);
  const list = run.columns.map((c) =>
    o[c.name] ? `${ident(c.name)} AS ${ident(o[c.name]!)}` : ident(c.name),
  );
  await createOutput(run, `SELECT ${list.join(', ')} FROM ${run.input}`);
  return undefined;
}

/** Keep records where a condition holds; with `reject`, the others are rejected instead of dropped. */
export async function filterStep(run: StepRun, o: ProcessorOptions<'filter'>): Promise<undefined> {
  const { where, reject } = typeof o === 'string' ? { where: o, reject: false } : o;
  await checkSelect(run, `SELECT * FROM t WHERE (${where})`, 'filter condition');
  await createOutput(run, `SELECT * FROM ${run.input} WHERE (${where})`);
  if (reject)
    await insertRejected(run, run.input, sqlString(`filter: not (${where})`), `(${where}) IS NOT TRUE`);
  return undefined;
}

/** Add or replace columns; each expression sees the columns derived before it. */
export async function deriveStep(run: StepRun, o: ProcessorOptions<'derive'>): Promise<undefined> {
  const entries = Object.entries(o);
  refuseLineage(
    run,
    entries.map(([n]) => n),
    'derive',
  );
  const names = new Set(run.columns.map((c) => c.name));
  let from = run.input;
  for (const [name, expr] of entries) {
    await checkSelect(run, `SELECT (${expr}) AS x FROM t`, `expression of ${name}`);
    const list = names.has(name)
      ? `* REPLACE ((${expr}) AS ${ident(name)})`
      : `*, (${expr}) AS ${ident(name)}`;
    from = `(SELECT ${list} FROM ${from})`;
    names.add(name);
  }
  await createOutput(run, `SELECT * FROM ${from}`);
  return undefined;
}

/**
 * Any SELECT over `input`. Results without lineage columns (aggregations) get NULL lineage,
 * since no single raw record produced them.
 */
export async function sqlStep(run: StepRun, o: ProcessorOptions<'sql'>): Promise<undefined> {
  const query = o.replace(/;\s*$/, '');
  await checkSelect(run, query, 'SQL');
  const body = `WITH input AS (SELECT * FROM ${run.input}) SELECT * FROM (${query})`;
  const cols = await describe(run.conn, body);
  const extra = LINEAGE_COLUMNS.filter((l) => !cols.some((c) => c.name === l)).map(
    (l) => `CAST(NULL AS ${l === '__raw_row' ? 'BIGINT' : 'VARCHAR'}) AS ${l}`,
  );
  const lineage = cols.filter((c) => isLineage(c.name));
  const wrongType = lineage.find((c) => c.type !== (c.name === '__raw_row' ? 'BIGINT' : 'VARCHAR'));
  if (wrongType) throw new InvalidInputError(`${run.label}: the SQL changes the type of ${wrongType.name}`);
  await createOutput(
    run,
    `WITH input AS (SELECT * FROM ${run.input}) SELECT ${['*', ...extra].join(', ')} FROM (${query})`,
  );
  return undefined;
}
