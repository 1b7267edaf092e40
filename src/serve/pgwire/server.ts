/**
 * The PostgreSQL wire protocol listener: accepts connections up to a limit, routes
 * CancelRequests to the connection that owns the key, and closes everything on shutdown.
 */
import { createServer, type Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Engine } from '../../engine/types.js';
import type { Logger } from '../../observe/index.js';
import { Authenticator, type PgAuthOptions } from './auth.js';
import { newSecret, PgConnection } from './connection.js';
import { backend } from './messages.js';

/** Options of startPgWireServer. */
export interface PgWireOptions {
  engine: Engine;
  host: string;
  /** 0 picks a free port. */
  port: number;
  auth: PgAuthOptions;
  log: Logger;
  /** Adds sluice_pgwire_* series to this registry. */
  metrics?: { registry: Registry };
  /** PEM certificate and key: SSLRequest is accepted when set, declined otherwise. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Connections open at once; further ones get SQLSTATE 53300. Default 100. */
  maxConnections?: number;
  /** Largest frontend message accepted (default 64 MiB); larger ones close the connection. */
  maxMessageBytes?: number;
  /** Time allowed from connect to authenticated (default 30 s). */
  startupTimeoutMs?: number;
}

/** A listening server. */
export interface PgWireServer {
  port: number;
  /** Stop accepting, close every connection (running statements are cancelled). */
  close(): Promise<void>;
}

/** Start listening. @throws the listen error (e.g. EADDRINUSE) */
export async function startPgWireServer(o: PgWireOptions): Promise<PgWireServer> {
  const log = o.log.child({ component: 'pgwire' });
  const auth = new Authenticator(o.auth);
  const tls: SecureContext | undefined = o.tls
    ? createSecureContext({ cert: o.tls.cert, key: o.tls.key })
    : undefined;
  const maxConnections = o.maxConnections ?? 100;
  const byPid = new Map<number, { conn: PgConnection; secret: number }>();
  const open = new Set<PgConnection>();
  const sockets = new Set<Socket>();
  const serving = new Set<Promise<void>>();
  const metrics = o.metrics ? pgMetrics(o.metrics.registry, () => open.size) : undefined;
  let nextPid = 1000 + Math.floor(Math.random() * 1000);

  const ctx = {
    engine: o.engine,
    auth,
    log,
    tls,
    maxMessageBytes: o.maxMessageBytes ?? 64 * 1024 * 1024,
    startupTimeoutMs: o.startupTimeoutMs ?? 30_000,
    register(conn: PgConnection) {
      const pid = nextPid++;
      const secret = newSecret();
      byPid.set(pid, { conn, secret });
      return { pid, secret };
    },
    unregister(pid: number) {
      byPid.delete(pid);
    },
    cancel(pid: number, secret: number) {
      const entry = byPid.get(pid);
      if (entry && entry.secret === secret) entry.conn.cancel();
    },
    onQuery: metrics ? (ok: boolean) => metrics.queries.inc({ status: ok ? 'ok' : 'error' }) : undefined,
  };

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (open.size >= maxConnections) {
      metrics?.refused.inc();
      socket.end(
        backend.error({
          severity: 'FATAL',
          sqlstate: '53300',
          message: `sorry, too many clients already (limit ${maxConnections})`,
        }),
      );
      return;
    }
    const conn = new PgConnection(socket, ctx);
    open.add(conn);
    const served = conn.serve().finally(() => {
      open.delete(conn);
      serving.delete(served);
    });
    serving.add(served);
  });
  server.maxConnections = maxConnections * 2;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'pgwire listener failed'));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  log.info({ host: o.host, port, tls: Boolean(tls) }, 'PostgreSQL wire server listening');
  return {
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const conn of open) {
        conn.cancel();
        conn.close();
      }
      for (const socket of sockets) socket.destroy();
      // Sessions are closed before the caller closes the engine.
      await Promise.all(serving);
      await closed;
    },
  };
}

function pgMetrics(registry: Registry, connections: () => number) {
  new Gauge({
    name: 'sluice_pgwire_connections',
    help: 'Open PostgreSQL wire protocol connections',
    registers: [registry],
    collect() {
      this.set(connections());
    },
  });
  return {
    queries: new Counter({
      name: 'sluice_pgwire_statements_total',
      help: 'Statements executed over the PostgreSQL wire protocol, by outcome',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    refused: new Counter({
      name: 'sluice_pgwire_refused_connections_total',
      help: 'Connections refused because the connection limit was reached',
      registers: [registry],
    }),
  };
}
