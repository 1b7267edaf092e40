/** Small zod building blocks shared by the ingest spec schemas. */
import { z } from 'zod';
import { parseDuration, parseSize } from '../config/index.js';

const DURATION = 'expected a duration such as "30s", "500ms", "2m" or a number of milliseconds';

/** A duration: a number of milliseconds or a string with a unit; parsed to milliseconds. */
export const durationMs = () =>
  z.union([z.number().int().nonnegative(), z.string()], { error: DURATION }).transform((v, ctx) => {
    if (typeof v === 'number') return v;
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `${DURATION}, found ${JSON.stringify(v)}`, input: v });
      return z.NEVER;
    }
    return ms;
  });

const SIZE = 'expected a size such as "256MiB" or a number of bytes';
/** A size: bytes or a string such as `"256MiB"`; parsed to bytes. */
export const sizeBytes = () =>
  z.union([z.number().int().positive(), z.string()], { error: SIZE }).transform((v, ctx) => {
    if (typeof v === 'number') return v;
    const bytes = parseSize(v);
    if (bytes === undefined || bytes <= 0) {
      ctx.addIssue({ code: 'custom', message: `${SIZE}, found ${JSON.stringify(v)}`, input: v });
      return z.NEVER;
    }
    return bytes;
  });

/** A non-empty string. */
export const text = () => z.string().min(1, { error: 'expected a non-empty string' });

/** Scalar values of query parameters and headers. */
export const scalar = () => z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));

/** Payload formats a source can deliver. */
export const PAYLOAD_FORMATS = ['json', 'ndjson', 'csv', 'tsv', 'xml', 'xlsx', 'parquet'] as const;
/** One payload format. */
export type PayloadFormat = (typeof PAYLOAD_FORMATS)[number];

/** Options of CSV/TSV parsing; unset options are detected by DuckDB. */
export const csvOptionsSchema = z
  .strictObject({
    delimiter: z.string().min(1).max(4).optional().describe('Field delimiter (default: detected).'),
    header: z.boolean().optional().describe('Whether the first line holds column names (default: detected).'),
    quote: z.string().length(1).optional().describe('Quote character (default: detected).'),
    escape: z.string().length(1).optional().describe('Escape character (default: detected).'),
    null_string: z.string().optional().describe('Text read as NULL.'),
    all_varchar: z
      .boolean()
      .default(false)
      .describe('Read every column as text (cast later by the sink schema) instead of detecting types.'),
  })
  .describe('CSV/TSV dialect; anything left out is detected by DuckDB.');
/** CSV dialect options. */
export type CsvOptions = z.infer<typeof csvOptionsSchema>;
