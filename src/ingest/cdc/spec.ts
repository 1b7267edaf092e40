/**
 * The `postgres_cdc:` source: which database and tables to replicate, where the lake tables
 * go, and how changes are batched. Durations take `10s`/`500ms` or milliseconds.
 */
import { z } from 'zod';
import { parseDuration } from '../../config/units.js';

const duration = (what: string) =>
  z.union([z.number().int().positive(), z.string()]).transform((v, ctx) => {
    const ms = typeof v === 'number' ? v : parseDuration(v);
    if (ms === undefined || ms <= 0) {
      ctx.addIssue({ code: 'custom', message: `expected a duration for ${what} such as 10s or 500ms` });
      return z.NEVER;
    }
    return ms;
  });

const ident = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'expected a plain identifier (letters, digits, _ and $)');
const tableName = z
  .string()
  .regex(/^([A-Za-z_][A-Za-z0-9_$]*\.)?[A-Za-z_][A-Za-z0-9_$]*$/, 'expected table or schema.table');

/** Options of a `postgres_cdc` source. */
export const cdcSourceSchema = z
  .object({
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL')
      .describe(
        'postgres://user:password@host:port/database (reference the password from an environment variable)',
      ),
    tables: z.array(tableName).min(1).describe('tables to replicate, `schema.table` (default schema public)'),
    namespace: ident.default('cdc').describe('lake namespace the tables are written to'),
    slot: ident.optional().describe('replication slot; created on first run (default sluice_<name>)'),
    publication: ident
      .optional()
      .describe('publication; created for the tables on first run (default sluice_<name>)'),
    keys: z
      .record(tableName, z.array(ident).min(1))
      .default({})
      .describe('key columns of tables without a primary key (they need REPLICA IDENTITY FULL)'),
    batch: z
      .object({
        interval: duration('batch.interval').default(10_000).describe('commit at least this often'),
        max_changes: z.number().int().positive().default(100_000).describe('commit after this many changes'),
      })
      .strict()
      .default({ interval: 10_000, max_changes: 100_000 }),
    snapshot: z
      .object({
        chunk_rows: z.number().int().positive().default(100_000).describe('rows copied per key-range chunk'),
        parallel: z.number().int().min(1).max(16).default(2).describe('tables copied at once'),
      })
      .strict()
      .default({ chunk_rows: 100_000, parallel: 2 }),
    change_stream: z
      .boolean()
      .default(false)
      .describe('also append every change to <table>__changes (op, lsn, commit time, before, after)'),
    heartbeat: duration('heartbeat')
      .default(30_000)
      .describe('emit a WAL message this often to advance an idle slot'),
    lag_alert_bytes: z
      .number()
      .int()
      .positive()
      .default(1024 ** 3)
      .describe('log an alert when the slot retains more WAL than this'),
  })
  .strict();

/** A parsed `postgres_cdc` source. */
export type CdcSource = z.infer<typeof cdcSourceSchema>;

/** The `cdc` task: a name (slot, publication and state default from it) and the source. */
export const cdcTaskSchema = z
  .object({
    name: ident.describe('stable name of this replication (keys its state)'),
    source: z.object({ postgres_cdc: cdcSourceSchema }).strict(),
  })
  .strict();

/** A parsed `cdc` task. */
export type CdcSpec = z.infer<typeof cdcTaskSchema>;

/** Schema and table of a configured `schema.table` (schema `public` when omitted). */
export function splitTableName(name: string): { schema: string; table: string } {
  const dot = name.indexOf('.');
  return dot < 0
    ? { schema: 'public', table: name }
    : { schema: name.slice(0, dot), table: name.slice(dot + 1) };
}
