/** `dedupe` (one record per key) and `mask` (hash, redact or truncate personal data). */
import { sqlString } from '../../../duck/index.js';
import type { ProcessorOptions } from '../schema.js';
import { createOutput, ident, refuseLineage, requireColumns, type StepRun } from '../step.js';

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/**
 * Keep one record per key: the greatest `order_by` (NULLs last), ties broken by arrival
 * (`__raw_object`, then `__raw_row`); `keep: first` keeps the smallest instead.
 * Superseded versions are not rejects: they are counted in the log, not quarantined.
 */
export async function dedupeStep(run: StepRun, o: ProcessorOptions<'dedupe'>): Promise<undefined> {
  const key = list(o.key);
  const order = list(o.order_by);
  requireColumns(run, key, 'key');
  requireColumns(run, order, 'order_by');
  const dir = o.keep === 'latest' ? 'DESC' : 'ASC';
  const orderBy = [...order, '__raw_object', '__raw_row']
    .map((c) => `${ident(c)} ${dir} NULLS LAST`)
    .join(', ');
  await createOutput(
    run,
    `SELECT * FROM ${run.input}
     QUALIFY row_number() OVER (PARTITION BY ${key.map(ident).join(', ')} ORDER BY ${orderBy}) = 1`,
  );
  if (!run.dry) {
    const [r] = await run.conn.all<{ n: bigint }>(
      `SELECT (SELECT count(*) FROM ${run.input}) - (SELECT count(*) FROM ${run.output}) AS n`,
    );
    run.ctx.log.debug({ step: run.label, superseded: Number(r?.n ?? 0) }, 'dedupe dropped older versions');
  }
  return undefined;
}

/**
 * Replace values of the columns (NULL stays NULL; results are text):
 * hash = hex SHA-256 of salt + value, redact = a fixed text, truncate = the first `length` characters.
 */
export async function maskStep(run: StepRun, o: ProcessorOptions<'mask'>): Promise<undefined> {
  requireColumns(run, o.columns, 'columns');
  refuseLineage(run, o.columns, 'columns');
  const masked = (c: string): string => {
    const text = `CAST(${ident(c)} AS VARCHAR)`;
    if (o.method === 'hash') return `sha256(${sqlString(o.salt ?? '')} || ${text})`;
    if (o.method === 'redact')
      return `CASE WHEN ${ident(c)} IS NULL THEN NULL ELSE ${sqlString(o.replacement)} END`;
    return `left(${text}, ${o.length})`;
  };
  const replace = [...new Set(o.columns)].map((c) => `${masked(c)} AS ${ident(c)}`);
  await createOutput(run, `SELECT * REPLACE (${replace.join(', ')}) FROM ${run.input}`);
  return undefined;
}
