/**
 * Starting the wire server from a project's configuration (`pgwire` section, `server.pg`
 * port), as `sluice serve` does once it has an engine.
 */
import { readFileSync } from 'node:fs';
import { AuthStore, type SqlPolicyOptions } from '../../auth/index.js';
import type { PgwireConfig } from '../../config/index.js';
import { projectPath } from '../../config/index.js';
import type { Engine } from '../../engine/types.js';
import type { MetaStore } from '../../metastore/index.js';
import type { Logger } from '../../observe/index.js';
import { ConfigError } from '../../util/index.js';
import { type PgWireServer, startPgWireServer } from './server.js';

/** What startPgWire needs besides the engine. */
export interface StartPgWireOptions {
  config: PgwireConfig;
  /** The project directory (TLS file paths are relative to it). */
  dir: string;
  host: string;
  port: number;
  log: Logger;
  metrics?: { registry: import('prom-client').Registry };
  /** The metastore of the auth store: its users log in, under the `auth` section's SQL policy. */
  meta?: MetaStore;
  policy?: SqlPolicyOptions;
  /** The certificate to offer when `pgwire.tls` is not set (the HTTP server's `server.tls`). */
  tls?: { cert: Buffer; key: Buffer };
}

/** The user admitted without a password from loopback when `pgwire.trustLoopback` is on. */
export const TRUSTED_LOCAL_USER = 'sluice';

/** Start the PostgreSQL wire server for a project. @throws ConfigError for unreadable TLS files */
export async function startPgWire(engine: Engine, o: StartPgWireOptions): Promise<PgWireServer> {
  const { config } = o;
  return startPgWireServer({
    engine,
    host: o.host,
    port: o.port,
    log: o.log,
    metrics: o.metrics,
    auth: {
      users: config.users,
      method: config.auth,
      trustLoopbackUser: config.trustLoopback ? TRUSTED_LOCAL_USER : undefined,
      store: o.meta ? new AuthStore(o.meta) : undefined,
      policy: o.policy,
      audit: o.meta,
    },
    tls: config.tls ? { cert: readPem(o.dir, config.tls.cert), key: readPem(o.dir, config.tls.key) } : o.tls,
    maxConnections: config.maxConnections,
    maxMessageBytes: config.maxMessageBytes,
  });
}

function readPem(dir: string, path: string): Buffer {
  const file = projectPath(dir, path);
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(
      'sluice.yaml',
      undefined,
      undefined,
      `pgwire.tls: cannot read ${file}: ${(err as Error).message}`,
      'point pgwire.tls.cert and pgwire.tls.key at readable PEM files',
      { cause: err },
    );
  }
}
