/**
 * `validate` and `cast`: every rule becomes a CASE expression yielding a reason or NULL;
 * `concat_ws` joins the reasons of a record, and the table splits on whether any remain.
 * Declared types cast with TRY_CAST, so a value that does not fit is a reason, not an error.
 */
import { sqlString } from '../../../duck/index.js';
import type { ProcessorOptions } from '../schema.js';
import { createOutput, ident, insertRejected, literal, refuseLineage, type StepRun } from '../step.js';

type Rule = ProcessorOptions<'validate'>['schema'][string];

/** A value shown in a reason: the text of the value, cut to 40 characters. */
function shown(col: string): string {
  return `'"' || left(CAST(${col} AS VARCHAR), 40) || '"'`;
}

function reasonsOf(name: string, rule: Rule, present: boolean, uniqueCol: string | undefined): string[] {
  const col = present ? ident(name) : 'NULL';
  const tag = (text: string) => `${sqlString(`${name}: `)} || ${text}`;
  const typed = rule.type ? `TRY_CAST(${col} AS ${rule.type})` : col;
  const out: string[] = [];
  if (rule.required) out.push(`CASE WHEN ${col} IS NULL THEN ${tag(`'required'`)} END`);
  if (rule.type)
    out.push(
      `CASE WHEN ${col} IS NOT NULL AND ${typed} IS NULL THEN ${tag(`${shown(col)} || ${sqlString(` is not a ${rule.type}`)}`)} END`,
    );
  if (rule.enum) {
    const numeric = rule.enum.every((v) => typeof v === 'number');
    const value = numeric ? `TRY_CAST(${typed} AS DOUBLE)` : `CAST(${typed} AS VARCHAR)`;
    const list = rule.enum.map((v) => (numeric ? literal(v) : sqlString(String(v)))).join(', ');
    const allowed = rule.enum.map(String).join(', ');
    out.push(
      `CASE WHEN ${typed} IS NOT NULL AND (${value} IS NULL OR ${value} NOT IN (${list})) THEN ${tag(`${shown(col)} || ${sqlString(` is not one of ${allowed}`)}`)} END`,
    );
  }
  if (rule.regex)
    out.push(
      `CASE WHEN ${typed} IS NOT NULL AND NOT regexp_matches(CAST(${typed} AS VARCHAR), ${sqlString(rule.regex)}) THEN ${tag(`${shown(col)} || ${sqlString(` does not match ${rule.regex}`)}`)} END`,
    );
  for (const [bound, op, word] of [
    [rule.min, '<', 'below the minimum'],
    [rule.max, '>', 'above the maximum'],
  ] as const) {
    if (bound === undefined) continue;
    // Numbers compare as numbers even on text columns; other bounds compare in the declared type.
    const value = typeof bound === 'number' && !rule.type ? `TRY_CAST(${col} AS DOUBLE)` : typed;
    const limit =
      typeof bound === 'number'
        ? literal(bound)
        : rule.type
          ? `CAST(${literal(bound)} AS ${rule.type})`
          : literal(bound);
    out.push(
      `CASE WHEN ${value} ${op} ${limit} THEN ${tag(`${shown(col)} || ${sqlString(` is ${word} ${bound}`)}`)} END`,
    );
  }
  if (uniqueCol)
    out.push(
      `CASE WHEN ${typed} IS NOT NULL AND ${uniqueCol} > 1 THEN ${tag(`'duplicate value in the batch'`)} END`,
    );
  return out;
}

/** Split records on declared rules; `label` names the processor in rejected rows. */
export async function validateStep(run: StepRun, o: ProcessorOptions<'validate'>): Promise<undefined> {
  const rules = Object.entries(o.schema);
  refuseLineage(
    run,
    rules.map(([n]) => n),
    'schema',
  );
  const present = new Set(run.columns.map((c) => c.name));
  const windows: string[] = [];
  const reasons: string[] = [];
  for (const [i, [name, rule]] of rules.entries()) {
    let uniqueCol: string | undefined;
    if (rule.unique && present.has(name)) {
      uniqueCol = `__sluice_u${i}`;
      const typed = rule.type ? `TRY_CAST(${ident(name)} AS ${rule.type})` : ident(name);
      windows.push(
        `row_number() OVER (PARTITION BY ${typed} ORDER BY __raw_object, __raw_row) AS ${uniqueCol}`,
      );
    }
    reasons.push(...reasonsOf(name, rule, present.has(name), uniqueCol));
  }
  // concat_ws skips NULLs: the reasons of a record, '' when it passes every rule. The
  // expression is evaluated once for the good records and once for the rejected ones,
  // which costs less than writing the whole batch again with a reasons column.
  const list = reasons.length > 0 ? `concat_ws('; ', ${reasons.join(', ')})` : `''`;
  let from = run.input;
  const helpers = windows.map((w) => w.slice(w.lastIndexOf(' AS ') + 4));
  if (windows.length > 0) {
    from = run.scratch('ranked');
    await run.conn.run(
      `CREATE TEMP TABLE ${from} AS SELECT *, ${windows.join(', ')} FROM ${run.input}`,
      undefined,
      {
        signal: run.ctx.signal,
      },
    );
  }
  const replace = rules
    .filter(([n, r]) => r.type && present.has(n))
    .map(([n, r]) => `CAST(${ident(n)} AS ${r.type}) AS ${ident(n)}`);
  const added = rules
    .filter(([n]) => !present.has(n))
    .map(([n, r]) => `CAST(NULL AS ${r.type ?? 'VARCHAR'}) AS ${ident(n)}`);
  const star =
    '*' +
    (helpers.length ? ` EXCLUDE (${helpers.join(', ')})` : '') +
    (replace.length ? ` REPLACE (${replace.join(', ')})` : '');
  await createOutput(run, `SELECT ${[star, ...added].join(', ')} FROM ${from} WHERE ${list} = ''`);
  await insertRejected(run, from, list, `${list} <> ''`);
  return undefined;
}

/** `cast`: a validation with only types. */
export function castStep(run: StepRun, o: ProcessorOptions<'cast'>): Promise<undefined> {
  const schema = Object.fromEntries(
    Object.entries(o).map(([n, type]) => [n, { type, required: false, unique: false }]),
  );
  return validateStep(run, { schema });
}
