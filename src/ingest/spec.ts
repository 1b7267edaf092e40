/**
 * The `ingest:` value of a pipeline task: a source (`http`, `files`, `postgres` or
 * `postgres_cdc`), the processors, and the sink. Parsed with zod; the orchestrator reports issues with file:line.
 */
import { z } from 'zod';
import { cdcSourceSchema } from './cdc/spec.js';
import { processorsSchema } from './processors/index.js';
import { csvOptionsSchema, durationMs, PAYLOAD_FORMATS, scalar, sizeBytes, text } from './spec-common.js';

const authSchema = z
  .union([
    z.strictObject({
      bearer: z.strictObject({ token: text().describe('Bearer token (from an environment variable).') }),
    }),
    z.strictObject({
      basic: z.strictObject({
        username: text(),
        password: z.string().describe('Password (from an environment variable).'),
      }),
    }),
    z.strictObject({
      api_key: z.strictObject({
        name: text().describe('Header or query parameter name, e.g. X-Api-Key.'),
        value: text().describe('The key (e.g. from an environment variable).'),
        in: z.enum(['header', 'query']).default('header').describe('Where the key is sent.'),
      }),
    }),
    z.strictObject({
      oauth2: z.strictObject({
        token_url: z.url().describe('Token endpoint (client credentials grant).'),
        client_id: text(),
        client_secret: text(),
        scope: z.string().optional(),
        audience: z.string().optional(),
      }),
    }),
  ])
  .describe('Authentication: bearer, basic, api_key (header or query) or oauth2 client credentials.');

const paginateSchema = z
  .discriminatedUnion('style', [
    z.strictObject({
      style: z.literal('page'),
      param: text().default('page').describe('Query parameter of the page number.'),
      start: z.number().int().default(1).describe('First page number.'),
      size_param: text().optional().describe('Query parameter of the page size.'),
      size: z.number().int().positive().optional().describe('Page size sent in `size_param`.'),
    }),
    z.strictObject({
      style: z.literal('offset'),
      param: text().default('offset').describe('Query parameter of the offset.'),
      limit_param: text().default('limit').describe('Query parameter of the limit.'),
      limit: z.number().int().positive().default(100).describe('Records per request.'),
    }),
    z.strictObject({
      style: z.literal('cursor'),
      path: text().describe('Path of the next cursor in the response body, e.g. meta.next_cursor.'),
      param: text().default('cursor').describe('Query parameter the cursor is sent in.'),
    }),
    z.strictObject({
      style: z.literal('next_url'),
      path: text().describe('Path of the next page URL in the response body, e.g. links.next.'),
    }),
    z.strictObject({ style: z.literal('link_header') }),
  ])
  .describe(
    'Pagination: page, offset, cursor (in the body), next_url (in the body) or link_header (RFC 8288).',
  );

const incrementalSchema = z
  .strictObject({
    field: text().describe('Record field whose maximum is remembered, e.g. updated_at.'),
    param: text().describe('Query parameter the remembered value is sent in, e.g. updated_since.'),
    initial: z
      .string()
      .optional()
      .describe('Value sent on the first run (default: the parameter is left out).'),
  })
  .describe('Incremental loads: only records changed since the last committed maximum of `field`.');

/** The `http` source. */
export const httpSourceSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
      .describe('Endpoint URL; `{partition}` is replaced by each value of `partitions.values`.'),
    method: z.enum(['GET', 'POST']).default('GET'),
    headers: z.record(z.string(), scalar()).default({}).describe('Request headers.'),
    params: z.record(z.string(), scalar()).default({}).describe('Query parameters.'),
    body: z.unknown().optional().describe('JSON body of POST requests.'),
    auth: authSchema.optional(),
    paginate: paginateSchema.optional(),
    max_pages: z.number().int().positive().optional().describe('Stop after this many pages per stream.'),
    records: z.string().default('').describe('Path of the record list in a JSON/XML body, e.g. data.items.'),
    format: z.enum(['json', 'ndjson', 'csv', 'xml']).default('json').describe('Response format.'),
    incremental: incrementalSchema.optional(),
    partitions: z
      .strictObject({
        param: text()
          .optional()
          .describe('Query parameter each value is sent in (else only `{partition}` in the URL).'),
        values: z.array(scalar()).min(1).describe('One stream per value, e.g. one per partner.'),
      })
      .optional()
      .describe('Parallel streams over the same endpoint.'),
    concurrency: z.number().int().min(1).max(64).default(4).describe('Streams fetched at once.'),
    timeout: durationMs().default(30_000).describe('Timeout of one request.'),
    rate_limit: z.number().positive().optional().describe('Most requests per second (all streams together).'),
    allow_link_local: z
      .boolean()
      .default(false)
      .describe(
        'Allow link-local and cloud-metadata addresses such as 169.254.169.254 (refused by default).',
      ),
    retry: z
      .strictObject({
        max_attempts: z.number().int().min(1).max(100).default(6).describe('Attempts per request.'),
        initial: durationMs().default(500).describe('First backoff (doubled each attempt, with jitter).'),
        max: durationMs().default(30_000).describe('Longest backoff and longest Retry-After honoured.'),
      })
      .prefault({})
      .describe('Retries of network errors, 5xx and 429 (honouring Retry-After).'),
  })
  .describe('An HTTP API.');

/** The `files` source. */
export const filesSourceSchema = z
  .strictObject({
    path: text().optional().describe('Local directory (relative to the project).'),
    prefix: z.string().optional().describe("Prefix in the project's object store, e.g. landing/orders/."),
    glob: text().default('**/*').describe('Files to pick, e.g. **/*.csv.gz.'),
    format: z
      .enum(['auto', ...PAYLOAD_FORMATS])
      .default('auto')
      .describe('File format (auto: from the extension).'),
    compression: z
      .enum(['auto', 'none', 'gzip', 'zstd'])
      .default('auto')
      .describe('Compression (auto: from the extension).'),
    csv: csvOptionsSchema.prefault({}),
    records: z.string().default('').describe('Path of the record list in JSON/XML files.'),
    sheet: z
      .union([z.string(), z.number().int().positive()])
      .optional()
      .describe('XLSX sheet name or 1-based number.'),
    dedupe: z
      .enum(['checksum', 'name'])
      .default('checksum')
      .describe('A file already in the ledger is skipped by checksum or by name.'),
  })
  .superRefine((v, ctx) => {
    if ((v.path === undefined) === (v.prefix === undefined))
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one of `path` (local directory) or `prefix` (object store)',
      });
  })
  .describe('Files in a local directory or under an object-store prefix; only new ones are loaded.');

/** The `postgres` source. */
export const postgresSourceSchema = z
  .strictObject({
    url: text().describe('postgres://USER:PASSWORD@HOST/DB (put the password in an environment variable).'),
    table: text().describe('Table to read, e.g. public.orders.'),
    columns: z.array(text()).optional().describe('Columns to read (default all).'),
    key: text().describe('Unique, ordered column the reads are chunked by (key ranges).'),
    cursor: text()
      .optional()
      .describe('Column for incremental loads: only rows above the last committed maximum.'),
    chunk_rows: z.number().int().positive().default(50_000).describe('Rows per chunk (one raw object each).'),
  })
  .describe('A PostgreSQL table: snapshot, or incremental by a cursor column.');

const sourceSchema = z
  .strictObject({
    http: httpSourceSchema.optional(),
    files: filesSourceSchema.optional(),
    postgres: postgresSourceSchema.optional(),
    postgres_cdc: cdcSourceSchema
      .optional()
      .describe('Change data capture from PostgreSQL (same options as a cdc task, see docs/cdc.md).'),
  })
  .superRefine((v, ctx) => {
    const kinds = Object.keys(v).filter((k) => v[k as keyof typeof v] !== undefined);
    if (kinds.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message: `a source has exactly one kind (http, files, postgres or postgres_cdc), found ${kinds.length ? kinds.join(', ') : 'none'}`,
      });
  })
  .describe('Where records come from: one of http, files, postgres, postgres_cdc.');

/** Write modes of the sink. */
export const SINK_MODES = ['append', 'overwrite', 'overwrite_partitions', 'upsert', 'delete_insert'] as const;

/** The `sink` of an ingest task. */
export const sinkSchema = z
  .strictObject({
    table: z
      .string()
      .regex(/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$/, { error: 'expected a table name such as shop.orders' })
      .optional()
      .describe(
        'Target table `namespace.name`; created on the first run (required except for postgres_cdc).',
      ),
    namespace: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, { error: 'expected a namespace such as cdc' })
      .optional()
      .describe(
        'postgres_cdc only: lake namespace of the replicated tables (default: postgres_cdc.namespace).',
      ),
    mode: z
      .enum(SINK_MODES)
      .default('append')
      .describe('append | overwrite | overwrite_partitions | upsert | delete_insert.'),
    key: z.array(text()).optional().describe('Key columns (upsert, delete_insert).'),
    partition_by: z
      .array(text())
      .default([])
      .describe(
        'Partitioning of a new table: column or transform, e.g. country, day(created_at), bucket(16, id).',
      ),
    sort_by: z.array(text()).default([]).describe('Sort order of written files: column names.'),
    schema_drift: z
      .enum(['evolve', 'fail', 'ignore'])
      .default('evolve')
      .describe('New columns and wider types: evolve (add/widen), fail, or ignore (drop extra columns).'),
    schema: z
      .record(z.string(), text())
      .optional()
      .describe(
        'Declared column types (Iceberg or DuckDB type names), e.g. { id: long, amount: decimal(12,2) }.',
      ),
  })
  .superRefine((v, ctx) => {
    if ((v.mode === 'upsert' || v.mode === 'delete_insert') && !v.key?.length)
      ctx.addIssue({
        code: 'custom',
        path: ['mode'],
        message: `mode ${v.mode} needs key columns: add key: [column, ...]`,
        input: v.mode,
      });
  })
  .describe('Where good records go.');

/** The `ingest:` value of a pipeline task. */
export const ingestSpecSchema = z
  .strictObject({
    source: sourceSchema,
    processors: processorsSchema
      .optional()
      .transform((v) => v ?? [])
      .describe('Cleaning steps between the source and the sink (see docs/processors.md).'),
    sink: sinkSchema.prefault({}),
    max_bad_ratio: z
      .number()
      .min(0)
      .max(1)
      .default(1)
      .describe(
        'Fail the run when quarantined / (written + quarantined) exceeds this ratio (default 1: never).',
      ),
    memory_limit: z
      .string()
      .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, { error: 'expected a size such as "1GB"' })
      .default('1GB')
      .describe('DuckDB memory limit of the load; larger batches spill to disk beyond it.'),
    batch: z
      .strictObject({
        max_objects: z.number().int().positive().default(200).describe('Raw objects per table commit.'),
        max_bytes: sizeBytes()
          .default(512 * 1024 ** 2)
          .describe('Raw bytes per table commit.'),
      })
      .prefault({})
      .describe('How much is loaded per table commit (overwrite modes commit once per run).'),
  })
  .superRefine((v, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    if (!v.source.postgres_cdc) {
      if (!v.sink.table) issue(['sink', 'table'], 'the sink needs a table: table: namespace.name');
      if (v.sink.namespace !== undefined)
        issue(['sink', 'namespace'], 'sink.namespace is for postgres_cdc; give table: namespace.name');
      return;
    }
    // CDC writes one table per source table, upserted by the source key: no table options.
    if (v.sink.table !== undefined)
      issue(
        ['sink', 'table'],
        'postgres_cdc writes one lake table per source table: give sink: { namespace: NS } instead of a table',
      );
    const unused = [
      v.sink.mode !== 'append' && 'mode',
      v.sink.key !== undefined && 'key',
      v.sink.partition_by.length > 0 && 'partition_by',
      v.sink.sort_by.length > 0 && 'sort_by',
      v.sink.schema !== undefined && 'schema',
    ].filter((k): k is string => typeof k === 'string');
    for (const k of unused)
      issue(
        ['sink', k],
        `sink.${k} does not apply to postgres_cdc (tables follow the source schema and are upserted by its key; keys of tables without a primary key go under postgres_cdc.keys)`,
      );
    if (v.processors.length > 0)
      issue(['processors'], 'processors do not apply to postgres_cdc: changes are applied as they are');
  })
  .describe('Take records from a source through processors into a table.');

/** A parsed `ingest:` spec. */
export type IngestSpec = z.infer<typeof ingestSpecSchema>;
/** A parsed `http` source. */
export type HttpSourceSpec = z.infer<typeof httpSourceSchema>;
/** A parsed `files` source. */
export type FilesSourceSpec = z.infer<typeof filesSourceSchema>;
/** A parsed `postgres` source. */
export type PostgresSourceSpec = z.infer<typeof postgresSourceSchema>;
/** A parsed sink. */
export type SinkSpec = z.infer<typeof sinkSchema>;
/** The sink of a table-writing source (every kind but postgres_cdc): its table is set. */
export type TableSinkSpec = SinkSpec & { table: string };
/** Authentication settings. */
export type AuthSpec = z.infer<typeof authSchema>;
/** Pagination settings. */
export type PaginateSpec = z.infer<typeof paginateSchema>;
