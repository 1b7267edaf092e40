/**
 * The `processors:` list of an ingest task: each step is a single-key mapping whose key
 * names the processor (`- filter: "amount > 0"`). Issue paths point at the step and its
 * option (`[2, 'filter']`, `[0, 'validate', 'schema', 'amount', 'min']`) so the pipeline
 * loader can report them at `file:line`.
 */
import { z } from 'zod';

const name = z.string().min(1).describe('a column name');
const names = z.array(name).min(1);
/** A DuckDB type name; limited to type syntax so it can be spliced into SQL. */
const duckType = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_ ,()[\]]*$/, 'expected a DuckDB type such as bigint, decimal(12,2), timestamp')
  .describe('a DuckDB type: bigint, double, decimal(12,2), varchar, boolean, date, timestamp, json...');
const expr = z.string().trim().min(1).describe('a SQL expression over the columns of the record');
const bound = z.union([z.number(), z.string()]);

const columnRule = z
  .object({
    type: duckType.optional().describe('type the value must cast to; the column gets this type'),
    required: z.boolean().default(false).describe('reject records where the column is missing or NULL'),
    enum: z
      .array(z.union([z.string(), z.number(), z.boolean()]))
      .min(1)
      .optional()
      .describe('allowed values'),
    regex: z
      .string()
      .min(1)
      .optional()
      .describe('pattern the text must contain a match of (anchor with ^ and $)'),
    min: bound.optional().describe('smallest allowed value (inclusive)'),
    max: bound.optional().describe('largest allowed value (inclusive)'),
    unique: z
      .boolean()
      .default(false)
      .describe('reject every repeat of a value within the batch (the first in arrival order is kept)'),
  })
  .strict();

const validate = z
  .object({
    schema: z
      .record(name, columnRule)
      .describe('rules per column; a declared column absent from the input counts as NULL'),
  })
  .strict()
  .describe('check records against declared rules; failing records are rejected with every reason');

const cast = z
  .record(name, duckType)
  .describe('cast columns to types (`amount: decimal(12,2)`); values that do not cast are rejected');

const select = names.describe('keep only these columns (lineage columns are always kept)');
const drop = names.describe('remove these columns');
const rename = z.record(name, name).describe('rename columns: `old: new`');

const filter = z
  .union([
    expr,
    z
      .object({
        where: expr,
        reject: z
          .boolean()
          .default(false)
          .describe('send records that do not match to the rejected table instead of dropping them'),
      })
      .strict(),
  ])
  .describe('keep records where the SQL condition is true');

const derive = z
  .record(name, expr)
  .describe('add or replace columns computed by SQL expressions; later ones see earlier ones');

const flatten = z
  .object({
    column: name.describe('a STRUCT, LIST or JSON text column'),
    explode: z.boolean().default(false).describe('turn a list into one record per element'),
    separator: z.string().default('_').describe('between the prefix and a field name'),
    prefix: z.string().optional().describe('prefix of the new columns; default the column name'),
    depth: z.number().int().min(1).max(16).default(8).describe('levels of nested objects to expand'),
  })
  .strict()
  .describe('expand nested objects into columns and, with explode, arrays into records');

const dedupe = z
  .object({
    key: z.union([name, names]).describe('column(s) identifying a record'),
    order_by: z.union([name, names]).optional().describe('column(s) ordering versions of a record'),
    keep: z.enum(['latest', 'first']).default('latest').describe('which version to keep'),
  })
  .strict()
  .describe('keep one record per key: the latest by order_by, then by arrival');

const phone = z
  .object({
    column: name.describe('the phone number column'),
    country_column: name.optional().describe('column holding an ISO country code (FR, DE...)'),
    default_country: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'expected a two-letter ISO country code such as FR')
      .optional()
      .describe('country for numbers without an international prefix and no country_column value'),
    output: name.optional().describe('column receiving the E.164 number; default the phone column'),
    on_invalid: z
      .enum(['reject', 'keep', 'null'])
      .default('reject')
      .describe('invalid numbers: reject the record, keep the value as written, or set NULL'),
  })
  .strict()
  .describe('normalise phone numbers to E.164');

const mask = z
  .object({
    columns: names,
    method: z
      .enum(['hash', 'redact', 'truncate'])
      .describe('hash: salted SHA-256; redact: replace; truncate'),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a pipeline file's ${ENV} reference
    salt: z.string().optional().describe('secret mixed into hashes (use ${ENV} references)'),
    replacement: z.string().default('***').describe('text replacing values (redact)'),
    length: z.number().int().min(0).default(4).describe('characters kept from the start (truncate)'),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.method === 'hash' && !m.salt)
      ctx.addIssue({
        code: 'custom',
        path: ['salt'],
        message: 'hash needs a salt (a secret from the environment)',
      });
  })
  .describe('hide personal data');

const sql = z.string().trim().min(1).describe('a SELECT over the table `input`');

const ts = z
  .object({
    module: z.string().min(1).describe('path of a .ts, .js or .mjs module, relative to the project'),
    export: z.string().min(1).default('default').describe('name of the exported function'),
    batch_size: z.number().int().min(1).max(100_000).default(2048).describe('records per call'),
    columns: z.record(name, duckType).optional().describe('types of columns the function adds'),
  })
  .strict()
  .describe('a TypeScript function over batches of records');

/** Option schemas of every processor, by key. */
export const processorOptions = {
  validate,
  cast,
  select,
  rename,
  drop,
  filter,
  derive,
  flatten,
  dedupe,
  phone,
  mask,
  sql,
  ts,
} as const;

type Options = typeof processorOptions;
/** The name of a processor: the key of its step. */
export type ProcessorKind = keyof Options;
/** Options of the processor `K` as parsed (defaults applied). */
export type ProcessorOptions<K extends ProcessorKind> = z.output<Options[K]>;
/** One step of a chain: `{ filter: 'amount > 0' }`. */
export type ProcessorSpec = { [K in ProcessorKind]: { [P in K]: ProcessorOptions<K> } }[ProcessorKind];

/** One step as written, before defaults (for pipelines defined in code). */
export type ProcessorInput = { [K in ProcessorKind]: { [P in K]: z.input<Options[K]> } }[ProcessorKind];

/** Names of every processor, for messages. */
export const PROCESSOR_KINDS = Object.keys(processorOptions) as ProcessorKind[];

const step = z
  .looseObject(Object.fromEntries(PROCESSOR_KINDS.map((k) => [k, processorOptions[k].optional()])))
  .superRefine((s, ctx) => {
    const keys = Object.keys(s).filter((k) => s[k] !== undefined);
    const unknown = keys.filter((k) => !(k in processorOptions));
    if (unknown.length > 0)
      ctx.addIssue({
        code: 'custom',
        message: `unknown processor "${unknown[0]}"; processors are ${PROCESSOR_KINDS.join(', ')}`,
      });
    else if (keys.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message:
          keys.length === 0
            ? `a step names one processor: ${PROCESSOR_KINDS.join(', ')}`
            : `a step names one processor, found ${keys.join(' and ')}`,
      });
  });

/** Schema of the `processors:` list. */
export const processorsSchema = z.array(step) as unknown as z.ZodType<ProcessorSpec[]>;

/** The processor a step names. */
export function stepKind(spec: ProcessorSpec): ProcessorKind {
  return Object.keys(spec)[0] as ProcessorKind;
}
