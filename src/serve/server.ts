import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { AuthStore } from '../auth/index.js';
import type { EventBus } from '../bus/index.js';
import { type Engine, openEngine } from '../engine/index.js';
import { createMetrics } from '../observe/index.js';
import type { Runtime } from '../runtime/index.js';
import { InvalidInputError } from '../util/index.js';
import { createApp } from './app.js';
import { EventStreamHub } from './event-stream.js';
import { serverTls, type TlsMaterial } from './tls.js';

export interface ServerOptions {
  host: string;
  httpPort: number;
  /** The SQL engine to serve (default: one opened here and closed with the server). */
  engine?: Engine;
  /** Serve the Nakadi event bus API with this bus. */
  bus?: EventBus;
}

export interface RunningServer {
  /** Base URL of the HTTP surfaces, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  /** The SQL engine the server runs statements on (for other listeners, e.g. PostgreSQL wire). */
  readonly engine: Engine;
  /** The certificate served (`server.tls`), for other listeners to reuse. */
  readonly tls?: TlsMaterial;
  close(): Promise<void>;
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * Start the HTTP server. Binding a non-loopback address requires that someone can
 * authenticate (a user, or JWTs from an identity provider): callers from other machines
 * always need credentials, so a server nobody can log in to is refused rather than started.
 * @throws InvalidInputError for a non-loopback host without users or JWT configuration.
 */
export async function startServer(runtime: Runtime, o: ServerOptions): Promise<RunningServer> {
  if (!isLoopback(o.host)) {
    const users = await new AuthStore(runtime.meta).listUsers();
    if (users.length === 0 && !runtime.project.config.auth.jwt) {
      throw new InvalidInputError(
        `refusing to listen on ${o.host}: no user could authenticate (callers from other machines need credentials)`,
        'create one first: sluice users create NAME --password-stdin --role admin, then sluice tokens create NAME',
      );
    }
  }
  const tls = await serverTls(runtime.project);
  const engine = o.engine ?? (await openEngine(runtime, { fileAccess: 'lake' }));
  const metrics = createMetrics();
  const stream = new EventStreamHub(runtime, metrics.registry);
  const app = createApp({ runtime, metrics, startedAt: new Date(), engine, bus: o.bus, stream });
  const log = runtime.log.child({ component: 'server' });
  let server: ReturnType<typeof serve>;
  try {
    server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const options = { fetch: app.fetch, hostname: o.host, port: o.httpPort };
      const s = serve(
        tls
          ? { ...options, createServer: createHttpsServer, serverOptions: { cert: tls.cert, key: tls.key } }
          : options,
        () => resolve(s),
      );
      s.once('error', reject);
    });
  } catch (err) {
    if (!o.engine) await engine.close();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${tls ? 'https' : 'http'}://${host}:${address.port}`;
  log.info({ url }, 'HTTP server listening');
  return {
    url,
    engine,
    tls,
    close: async () => {
      // Open event streams would hold close() open forever.
      await stream.close();
      await new Promise<void>((resolve) => {
        const idle = () =>
          (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        // Keep-alive connections would hold close() open too: close them as soon as each is idle
        // (a stream that just ended, or a browser between two requests).
        const sweep = setInterval(idle, 100);
        server.close(() => {
          clearInterval(sweep);
          resolve();
        });
        idle();
      });
      if (!o.engine) await engine.close();
    },
  };
}
