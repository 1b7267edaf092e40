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
    tls: z
      .strictObject({
        cert: text().optional().describe('PEM certificate file (relative to the project).'),
        key: text().optional().describe('PEM private key file (relative to the project).'),
        selfSigned: z
          .boolean()
          .default(false)
          .describe('Make a self-signed certificate for local use (in .sluice/tls) instead of cert/key.'),
      })
      .refine((t) => t.selfSigned || (t.cert && t.key), {
        error: 'set cert and key, or selfSigned: true',
      })
      .optional()
      .describe('Serve HTTPS (and TLS on the PostgreSQL wire port unless pgwire.tls is set).'),
  })
  .describe('Network listeners of "sluice serve".');

/** The `engine` section. */
export const engineSchema = z
  .strictObject({
    statementTimeoutMs: intIn(0, 86_400_000)
      .default(300_000)
      .describe('Longest a SQL statement may run (queued time included), in milliseconds; 0 = no limit.'),
    memoryLimit: size
      .optional()
      .describe(
        'Memory the SQL engine may use for all running queries together, e.g. "4GiB" (default: DuckDB\'s, 80% of RAM).',
      ),
    maxConcurrentQueries: intIn(1, 1024)
      .default(8)
      .describe('Statements that run at once; later ones queue.'),
    queueSize: intIn(0, 100_000)
      .default(64)
      .describe(
        'Statements that may wait for a slot; beyond this, new statements fail at once (SQLSTATE 53000).',
      ),
    threads: intIn(1, 1024)
      .optional()
      .describe('Worker threads of the SQL engine (default: the number of cores).'),
    tempDir: text()
      .optional()
      .describe(
        'Directory where large sorts and joins spill (relative to the project; default .sluice/tmp).',
      ),
  })
  .describe(
    'The SQL engine (DuckDB) serving `sluice sql`, POST /api/v1/sql and the PostgreSQL wire protocol.',
  );
/** One user of the PostgreSQL wire endpoint. */
export const pgwireUserSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/, {
        error: 'expected a user name (letters, digits, _ . -; at most 63)',
      })
      .describe('User name clients connect with.'),
    password: text()
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the ${VAR} syntax itself
      .describe('Password; write "${ENV_VAR}" to keep it out of the file.'),
    readOnly: z
      .boolean()
      .default(false)
      .describe('Read-only users can query but not write tables (SQLSTATE 42501).'),
  })
  .describe('A PostgreSQL wire user.');

/** The `pgwire` section. */
export const pgwireSchema = z
  .strictObject({
    auth: z
      .enum(['scram-sha-256', 'password'])
      .default('scram-sha-256')
      .describe(
        'How configured users prove their password: SCRAM-SHA-256, or a cleartext password (only over TLS or loopback).',
      ),
    trustLoopback: z
      .boolean()
      .default(true)
      .describe(
        'Admit the user "sluice" without a password from loopback addresses (like a local "trust" line).',
      ),
    users: z
      .array(pgwireUserSchema)
      .default([])
      .superRefine((users, ctx) => {
        const seen = new Set<string>();
        users.forEach((u, i) => {
          if (seen.has(u.name))
            ctx.addIssue({
              code: 'custom',
              path: [i, 'name'],
              message: `duplicate user "${u.name}"`,
              input: u.name,
            });
          seen.add(u.name);
        });
      })
      .describe('Users allowed to connect with a password, from any address.'),
    maxConnections: intIn(1, 10_000)
      .default(100)
      .describe('Connections open at once; more are refused (SQLSTATE 53300).'),
    maxMessageBytes: size
      .default(64 * 1024 ** 2)
      .describe('Largest message a client may send (default 64 MiB); larger ones close that connection.'),
    tls: z
      .strictObject({
        cert: text().describe('PEM certificate file (relative to the project).'),
        key: text().describe('PEM private key file (relative to the project).'),
      })
      .optional()
      .describe('Accept SSLRequest with this certificate; without it, clients are told TLS is unavailable.'),
  })
  .describe('PostgreSQL wire protocol SQL endpoint (port: server.pg).');

/** Log levels, most verbose first. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** The `log` section. */
export const logSchema = z
  .strictObject({
    level: z.enum(LOG_LEVELS).default('info').describe('Lowest level written.'),
    file: text().default('./.sluice/logs/sluice.log').describe('Log file (relative to the project).'),
  })
  .describe('Logging.');

/** The `orchestrator` section. */
export const orchestratorSchema = z
  .strictObject({
    pools: z
      .record(
        z
          .string()
          .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, { error: 'expected a pool name (letters, digits, _ -)' }),
        intIn(1, 100_000),
      )
      .default({})
      .describe('Named pools and their slots: tasks with `pool: NAME` run at most this many at once.'),
    concurrency: intIn(1, 1000)
      .default(4)
      .describe('Tasks one worker process runs at once (in-process and isolated together).'),
    leaseMs: intIn(1000, 3_600_000)
      .default(30_000)
      .describe('How long a task stays claimed without a heartbeat before another worker retries it.'),
    pollMs: intIn(10, 60_000)
      .default(1000)
      .describe('How often idle workers look for tasks (they are also woken by notifications).'),
    schedulerIntervalMs: intIn(100, 600_000)
      .default(5000)
      .describe('How often the scheduler checks schedules, SLAs and lost tasks.'),
    smtp: z
      .strictObject({
        host: text().describe('SMTP server host.'),
        port: port().default(587),
        secure: z
          .boolean()
          .default(false)
          .describe('TLS from the start (port 465); otherwise STARTTLS when offered.'),
        user: text().optional(),
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the ${VAR} syntax itself
        password: text().optional().describe('SMTP password; use "${SMTP_PASSWORD}".'),
        from: text().describe('Sender address of alert mails.'),
      })
      .optional()
      .describe('Mail server for `email:` alerts.'),
  })
  .describe('Orchestrator: pools, workers, scheduler and alert delivery.');

/** The `auth` section: who may use the HTTP surfaces. */
export const authSchema = z
  .strictObject({
    required: z
      .boolean()
      .default(false)
      .describe(
        'Require credentials from every caller. When false, callers on loopback are the local administrator (like a local PostgreSQL `trust` line); other addresses always need credentials.',
      ),
    jwt: z
      .strictObject({
        jwksUrl: z
          .url({ error: 'expected the URL of a JWKS document' })
          .describe('JWKS of the identity provider.'),
        issuer: z.string().optional().describe('Required `iss` claim.'),
        audience: z.string().optional().describe('Required `aud` claim.'),
        userClaim: z.string().default('sub').describe('Claim naming the user.'),
        rolesClaim: z.string().default('groups').describe('Claim listing groups or roles.'),
        roleMap: z.record(z.string(), z.string()).default({}).describe('Claim value → Sluice role.'),
      })
      .optional()
      .describe('Accept JWTs from an external identity provider as bearer tokens.'),
    rateLimit: z
      .strictObject({
        perSecond: z.number().positive().default(100).describe('Sustained requests per second per caller.'),
        burst: z.number().int().positive().default(200).describe('Requests allowed in a burst.'),
      })
      .prefault({})
      .describe('Rate limit of the HTTP API per caller (token, user, or client address).'),
    approvedOnly: z
      .boolean()
      .default(false)
      .describe(
        'Readers see only tables whose property sluice.state is "approved" (`sluice tables approve`); owners and administrators also see drafts.',
      ),
    productionNamespaces: z
      .array(text())
      .default([])
      .describe(
        'Namespaces (with their children) written only by pipelines, or in SQL by holders of admin on them.',
      ),
  })
  .describe(
    'Authentication of the HTTP API and Iceberg REST catalog: users, tokens, JWTs (see docs/security.md).',
  );

const sections = {
  auth: authSchema.prefault({}),
  storage: storageSchema.prefault({}),
  metastore: metastoreSchema.prefault({}),
  bus: busSchema.prefault({}),
  server: serverSchema.prefault({}),
  log: logSchema.prefault({}),
  orchestrator: orchestratorSchema.prefault({}),
  engine: engineSchema.prefault({}),
  pgwire: pgwireSchema.prefault({}),
};

/** One entry of `environments`: partial overrides of the sections. */
export const environmentSchema = z
  .strictObject({
    auth: overlayOf(authSchema),
    storage: overlayOf(storageSchema),
    metastore: overlayOf(metastoreSchema),
    bus: overlayOf(busSchema),
    server: overlayOf(serverSchema),
    log: overlayOf(logSchema),
    orchestrator: overlayOf(orchestratorSchema),
    engine: overlayOf(engineSchema),
    pgwire: overlayOf(pgwireSchema),
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
/** Orchestrator settings. */
export type OrchestratorConfig = z.infer<typeof orchestratorSchema>;
/** Authentication settings. */
export type AuthConfig = z.infer<typeof authSchema>;
/** SQL engine settings. */
export type EngineConfig = z.infer<typeof engineSchema>;
/** PostgreSQL wire endpoint settings. */
export type PgwireConfig = z.infer<typeof pgwireSchema>;
/** Overrides of one environment. */
export type EnvironmentConfig = z.infer<typeof environmentSchema>;
/** The validated file before paths are resolved and the environment is merged. */
export type ParsedSluiceConfig = ParsedConfig;
