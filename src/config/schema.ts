import { z } from 'zod';
import { busApiFields } from './bus-api-schema.js';
import { intIn, size, text } from './fields.js';
import { overlayOf } from './overlay.js';
import { checkBusLog, checkMetastoreUrl, checkStorageUrl } from './urls.js';

/** A string checked by one of the URL checks, reported as a custom issue. */
function checked(check: (value: string) => string | undefined, expected: string) {
  return z.string({ error: expected }).superRefine((value, ctx) => {
    const problem = check(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
  });
}

const PORT = 'expected a port number 0–65535';
const port = () =>
  z.number({ error: PORT }).int({ error: PORT }).min(0, { error: PORT }).max(65535, { error: PORT });

/** The `storage.cache` section. */
export const storageCacheSchema = z
  .strictObject({
    dir: text().default('./.sluice/cache').describe('Directory of the local read cache of remote objects.'),
    maxBytes: size
      .default(10 * 1024 ** 3)
      .describe(
        'Size limit of the read cache: a number of bytes or a size such as "10GiB" (default 10 GiB).',
      ),
  })
  .describe('Local read cache in front of remote object storage.');

/** The `storage` section. */
export const storageSchema = z
  .strictObject({
    url: checked(checkStorageUrl, 'expected a storage URL')
      .default('file://./.sluice/warehouse')
      .describe(
        'Where tables and raw objects live: file://PATH (relative to the project) or s3://BUCKET/PREFIX.',
      ),
    endpoint: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://localhost:9000' })
      .optional()
      .describe('Endpoint of an S3-compatible store (MinIO, R2, ...); AWS S3 when unset.'),
    region: text().optional().describe('S3 region; from the AWS environment when unset.'),
    forcePathStyle: z
      .boolean()
      .optional()
      .describe('Use path-style S3 addressing (http://host/bucket/key); most S3-compatible stores need it.'),
    accessKeyId: text()
      .optional()
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the ${VAR} syntax itself
      .describe('S3 access key id; prefer "${AWS_ACCESS_KEY_ID}" or the AWS credential chain.'),
    secretAccessKey: text()
      .optional()
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the ${VAR} syntax itself
      .describe('S3 secret access key; prefer "${AWS_SECRET_ACCESS_KEY}" or the AWS credential chain.'),
    sessionToken: text().optional().describe('S3 session token for temporary credentials.'),
    cache: storageCacheSchema.prefault({}),
  })
  .describe('Object storage for tables (Iceberg data and metadata) and the raw zone.');

/** The `metastore` section. */
export const metastoreSchema = z
  .strictObject({
    url: checked(checkMetastoreUrl, 'expected a metastore URL')
      .default('sqlite://./.sluice/meta.db')
      .describe(
        'Metadata, queues and catalog pointers: sqlite://PATH (relative to the project) or postgres://USER@HOST/DB.',
      ),
    poolMax: intIn(1, 200).default(10).describe('Largest number of open database connections (PostgreSQL).'),
    busyTimeoutMs: intIn(0, 600_000)
      .default(5000)
      .describe('How long a statement waits for a lock before failing, in milliseconds.'),
  })
  .describe('Metadata store: run history, queues, ledger and catalog pointers.');

/** The `bus.embedded` section: settings of the embedded event log. */
export const busEmbeddedSchema = z
  .strictObject({
    segmentBytes: size
      .refine((n) => n >= 1024 * 1024 && n <= 1024 ** 3, { error: 'expected a segment size 1MiB–1GiB' })
      .default(64 * 1024 * 1024)
      .describe("Size at which a partition's segment file is closed and a new one started (default 64 MiB)."),
    fsync: z
      .boolean()
      .default(true)
      .describe(
        'Sync appended events to disk before acknowledging them; false risks losing them on power loss.',
      ),
    retentionCheckMs: intIn(1000, 86_400_000)
      .default(60_000)
      .describe('How often old segments are deleted by time and size retention, in milliseconds.'),
  })
  .describe('Settings of the embedded event log (ignored with a kafka:// log).');

/** The `bus` section. */
export const busSchema = z
  .strictObject({
    log: checked(checkBusLog, 'expected "embedded" or a kafka:// URL')
      .default('embedded')
      .describe('Event log backend: "embedded" (in the data directory) or kafka://HOST:PORT[,HOST:PORT].'),
    embedded: busEmbeddedSchema.optional(),
  })
  .extend(busApiFields)
  .describe('Event bus.');

/** The `server` section. */
export const serverSchema = z
  .strictObject({
    http: port().default(8080).describe('Port of the HTTP API, web UI, Iceberg REST catalog and event bus.'),
    pg: port().default(5433).describe('Port of the PostgreSQL wire protocol SQL endpoint.'),
    host: text()
      .default('127.0.0.1')
      .describe('Address to listen on; anything but loopback requires authentication.'),
  })
  .describe('Network listeners of "sluice serve".');

/** Log levels, most verbose first. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** The `log` section. */
export const logSchema = z
  .strictObject({
    level: z.enum(LOG_LEVELS).default('info').describe('Lowest level written.'),
    file: text().default('./.sluice/logs/sluice.log').describe('Log file (relative to the project).'),
  })
  .describe('Logging.');

const sections = {
  storage: storageSchema.prefault({}),
  metastore: metastoreSchema.prefault({}),
  bus: busSchema.prefault({}),
  server: serverSchema.prefault({}),
  log: logSchema.prefault({}),
};

/** One entry of `environments`: partial overrides of the sections. */
export const environmentSchema = z
  .strictObject({
    storage: overlayOf(storageSchema),
    metastore: overlayOf(metastoreSchema),
    bus: overlayOf(busSchema),
    server: overlayOf(serverSchema),
    log: overlayOf(logSchema),
  })
  .describe('Overrides for one environment, deep-merged over the base configuration.');

/** The whole sluice.yaml, before paths are resolved. */
export const sluiceConfigSchema = z
  .strictObject({
    name: text().optional().describe("Project name (default: the project directory's name)."),
    version: z.literal(1).optional().describe('Version of this file format; only 1 exists.'),
    ...sections,
    environments: z
      .record(
        z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, {
          error: 'expected an environment name (letters, digits, _ -)',
        }),
        environmentSchema,
      )
      .default({})
      .describe('Named environments (dev, prod, ...) selected with --env or SLUICE_ENV.'),
  })
  .describe('sluice.yaml: the project configuration.');

type ParsedConfig = z.infer<typeof sluiceConfigSchema>;

/** The resolved project configuration: defaults applied, paths absolute, environment merged. */
export type SluiceConfig = Omit<ParsedConfig, 'name'> & { name: string };
/** Object storage settings. */
export type StorageConfig = z.infer<typeof storageSchema>;
/** Metadata store settings. */
export type MetastoreConfig = z.infer<typeof metastoreSchema>;
/** Event bus settings. */
export type BusConfig = z.infer<typeof busSchema>;
/** Listener settings of `sluice serve`. */
export type ServerConfig = z.infer<typeof serverSchema>;
/** Logging settings. */
export type LogConfig = z.infer<typeof logSchema>;
/** Overrides of one environment. */
export type EnvironmentConfig = z.infer<typeof environmentSchema>;
/** The validated file before paths are resolved and the environment is merged. */
export type ParsedSluiceConfig = ParsedConfig;
