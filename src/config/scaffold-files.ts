/** The text of the files a new project starts with. */
import { stringify } from 'yaml';

/** A YAML scalar for a name, quoted only when it has to be. */
function yamlString(value: string): string {
  return stringify(value).trimEnd();
}

/** sluice.yaml with every key at its default and commented examples of the scale-out backends. */
export function sluiceYaml(name: string): string {
  return `# Sluice project configuration. Every key is optional: the values below are the defaults.
# Relative paths are relative to this directory. Values may use \${VAR} or \${VAR:-default}
# to read environment variables (write $\${ for a literal \${); keep secrets there, not here.
version: 1
name: ${yamlString(name)}

# Object storage for tables (Apache Iceberg: Parquet data + metadata) and the raw zone.
storage:
  url: file://./.sluice/warehouse
  cache:
    dir: ./.sluice/cache
    maxBytes: 10GiB
  # S3 or an S3-compatible store (MinIO, R2, ...):
  # url: s3://my-bucket/sluice
  # region: eu-central-1
  # endpoint: http://localhost:9000
  # forcePathStyle: true
  # accessKeyId: \${AWS_ACCESS_KEY_ID}
  # secretAccessKey: \${AWS_SECRET_ACCESS_KEY}

# Metadata: run history, queues, ledger, catalog pointers.
metastore:
  url: sqlite://./.sluice/meta.db
  poolMax: 10
  busyTimeoutMs: 5000
  # PostgreSQL, for several processes or machines:
  # url: postgres://sluice:\${PGPASSWORD}@db.internal:5432/sluice

# Event bus log.
bus:
  log: embedded
  # log: kafka://broker1:9092,broker2:9092

# "sluice serve" listeners. Any host but loopback requires authentication.
server:
  http: 8080
  pg: 5433
  host: 127.0.0.1

log:
  level: info
  file: ./.sluice/logs/sluice.log

# Environments override the keys above; select one with --env NAME or SLUICE_ENV=NAME.
environments: {}
# environments:
#   prod:
#     storage:
#       url: s3://my-company-lake/sluice
#       region: eu-central-1
#     metastore:
#       url: postgres://sluice:\${PGPASSWORD}@db.internal:5432/sluice
#     server:
#       host: 0.0.0.0
#     log:
#       level: warn
`;
}

/** The line that keeps the embedded data directory out of git. */
export const GITIGNORE_LINE = '.sluice/';

/** .gitignore of a new project. */
export function gitignore(): string {
  return `# Data of the embedded backends (warehouse, metadata, cache, logs)\n${GITIGNORE_LINE}\n`;
}

/** README.md of a new project. */
export function projectReadme(name: string): string {
  return `# ${name}

A Sluice data project.

| path | what |
|---|---|
| \`sluice.yaml\` | project configuration: storage, metastore, server, environments |
| \`pipelines/\` | pipelines: sources → processors → sinks, schedules, retries |
| \`models/\` | SQL models (\`SELECT\`s that build tables) |
| \`events/\` | event types of the event bus |
| \`monitors/\` | alert rules on a measure per dimension value (docs/monitoring.md) |
| \`.sluice/\` | local data of the embedded backends (git-ignored) |

\`\`\`sh
sluice serve          # API, web UI, SQL on port 5433
sluice run PIPELINE   # run one pipeline now
sluice sql "select 1"
\`\`\`
`;
}

/** pipelines/README.md: where pipelines go, with a small example. */
export function pipelinesReadme(): string {
  return `# Pipelines

One pipeline per file: \`pipelines/NAME.yaml\`. A minimal example:

\`\`\`yaml
name: orders
schedule: "0 * * * *"
tasks:
  - id: fetch_orders
    ingest:
      source: { http: { url: "https://api.example.com/orders" } }
      sink: { table: shop.orders, mode: upsert, key: [order_id] }
\`\`\`
`;
}
