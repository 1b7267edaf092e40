/**
 * Runs a chain of processor steps over a DuckDB table. The chain runs twice: first over an
 * empty copy of the input, so a bad option, expression or column fails naming its step
 * before any data is touched; then over the data, each step creating a new temp table.
 */
import { randomBytes } from 'node:crypto';
import { firstLine, isUserQueryError, QueryError } from '../../duck/index.js';
import { InvalidInputError, SluiceError } from '../../util/index.js';
import { type ProcessorKind, type ProcessorSpec, processorsSchema, stepKind } from './schema.js';
import { describe, ident, type StepImpl, type StepRun } from './step.js';
import { STEPS } from './steps/index.js';
import { LINEAGE_COLUMNS, type ProcessorContext, type ProcessorOutput } from './types.js';

/** `processors[3] (filter)`. */
export function stepLabel(index: number, kind: ProcessorKind): string {
  return `processors[${index}] (${kind})`;
}

/** A key path for messages: `processors[2].filter`. */
function pathLabel(path: readonly PropertyKey[]): string {
  return path
    .map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i ? `.${String(seg)}` : String(seg)))
    .join('');
}

/** Parse steps (defaults applied) or fail listing every issue with its path. @throws InvalidInputError */
export function parseSteps(steps: unknown): ProcessorSpec[] {
  const parsed = processorsSchema.safeParse(steps);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `${pathLabel(['processors', ...i.path])}: ${i.message}`);
  throw new InvalidInputError(`invalid processors:\n  ${lines.join('\n  ')}`);
}

/** Turn a DuckDB error caused by the user's step into one naming the step. */
function stepError(err: unknown, label: string): unknown {
  if (err instanceof SluiceError && err.message.startsWith(label)) return err;
  if (err instanceof QueryError && isUserQueryError(err)) {
    const message = err.message.split('\n  in: ')[0] ?? err.message;
    return new InvalidInputError(`${label}: ${firstLine(message)}`, err.hint, { cause: err });
  }
  if (err instanceof InvalidInputError)
    return new InvalidInputError(`${label}: ${err.message}`, undefined, { cause: err });
  return err;
}

const REJECTED_COLUMNS =
  '__reason VARCHAR, __processor VARCHAR, __record JSON, __raw_object VARCHAR, __raw_row BIGINT';

/** Run the steps over `input`; see Processors.apply. */
export async function applyChain(
  ctx: ProcessorContext,
  input: string,
  rawSteps: readonly ProcessorSpec[],
): Promise<ProcessorOutput> {
  const steps = parseSteps(rawSteps);
  const { conn } = ctx;
  const id = randomBytes(6).toString('hex');
  const created: string[] = [];
  const table = (suffix: string) => {
    const t = ident(`__sluice_p${id}_${suffix}`);
    created.push(t);
    return t;
  };
  const source = ident(input);
  const inputColumns = await describe(conn, source);
  const missing = LINEAGE_COLUMNS.filter((c) => !inputColumns.some((col) => col.name === c));
  if (missing.length > 0)
    throw new InvalidInputError(
      `processors: the input table ${input} lacks the lineage column ${missing[0]}`,
    );

  let keep: string[] = [];
  try {
    // Planning run: same steps, no rows.
    const planIn = table('plan_in');
    await conn.run(`CREATE TEMP TABLE ${planIn} AS SELECT * FROM ${source} LIMIT 0`);
    const planRejected = table('plan_rejected');
    await conn.run(`CREATE TEMP TABLE ${planRejected} (${REJECTED_COLUMNS})`);
    await runSteps(ctx, steps, planIn, planRejected, true, table);

    const rejected = table('rejected');
    await conn.run(`CREATE TEMP TABLE ${rejected} (${REJECTED_COLUMNS})`);
    let output = await runSteps(ctx, steps, source, rejected, false, table);
    if (output === source) {
      output = table('output');
      await conn.run(`CREATE TEMP TABLE ${output} AS SELECT * FROM ${source}`);
    }
    keep = [output, rejected];
    const [counts] = await conn.all<{ o: bigint; r: bigint }>(
      `SELECT (SELECT count(*) FROM ${output}) AS o, (SELECT count(*) FROM ${rejected}) AS r`,
    );
    return {
      output: unquote(output),
      rejected: unquote(rejected),
      counts: { output: Number(counts?.o ?? 0), rejected: Number(counts?.r ?? 0) },
    };
  } finally {
    for (const t of created)
      if (!keep.includes(t)) await conn.run(`DROP TABLE IF EXISTS ${t}`).catch(() => {});
  }
}

function unquote(t: string): string {
  return t.slice(1, -1).replace(/""/g, '"');
}

async function runSteps(
  ctx: ProcessorContext,
  steps: readonly ProcessorSpec[],
  start: string,
  rejected: string,
  dry: boolean,
  table: (suffix: string) => string,
): Promise<string> {
  let current = start;
  for (const [index, spec] of steps.entries()) {
    ctx.signal?.throwIfAborted();
    const kind = stepKind(spec);
    const label = stepLabel(index, kind);
    const prefix = `${dry ? 'plan' : 'step'}${index}`;
    const run: StepRun = {
      ctx,
      conn: ctx.conn,
      label,
      input: current,
      columns: await describe(ctx.conn, current),
      output: table(prefix),
      rejected,
      dry,
      scratch: (suffix) => table(`${prefix}_${suffix}`),
    };
    const started = Date.now();
    const impl = STEPS[kind] as StepImpl<unknown>;
    let result: Awaited<ReturnType<StepImpl<unknown>>>;
    try {
      result = await impl(run, (spec as Record<string, unknown>)[kind]);
    } catch (err) {
      throw stepError(err, label);
    }
    if (current !== start) await ctx.conn.run(`DROP TABLE IF EXISTS ${current}`);
    current = run.output;
    if (dry && result?.schemaFromData) break;
    if (!dry) ctx.log.debug({ step: label, ms: Date.now() - started }, 'processor step done');
  }
  return current;
}
