/** Every surface of `sluice serve` on loopback ports: HTTP (with the Nakadi API) and the PostgreSQL wire. */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthStore, type Grant } from '../../src/auth/index.js';
import { openBusService } from '../../src/bus/index.js';
import { loadProject, scaffoldProject } from '../../src/config/index.js';
import type { Engine } from '../../src/engine/index.js';
import { createLogger } from '../../src/observe/index.js';
import { openRuntime, type Runtime } from '../../src/runtime/index.js';
import { type RunningServer, startServer } from '../../src/serve/index.js';
import { type PgWireServer, startPgWire } from '../../src/serve/pgwire/index.js';

/** The wire server of the project in `dir` on a free loopback port, under the project's policy. */
export function startProjectWire(
  runtime: Runtime,
  engine: Engine,
  dir: string,
  o: { tls?: RunningServer['tls'] } = {},
): Promise<PgWireServer> {
  return startPgWire(engine, {
    tls: o.tls,
    config: runtime.project.config.pgwire,
    dir,
    host: '127.0.0.1',
    port: 0,
    log: runtime.log,
    meta: runtime.meta,
    policy: runtime.project.config.auth,
  });
}

/**
 * A project in `dir` with `auth.required: true`: user `root` (admin) and `ann` (role `analyst`
 * with `grants`), a token for each in `tokens`.
 */
export async function openSecureProject(
  dir: string,
  grants: Omit<Grant, 'role'>[],
  tokens: Record<string, string>,
): Promise<{ runtime: Runtime; store: AuthStore }> {
  await scaffoldProject(dir, { name: 'secure' });
  appendFileSync(join(dir, 'sluice.yaml'), '\nauth:\n  required: true\n');
  const runtime = await openRuntime(await loadProject(dir), createLogger({ level: 'silent', stderr: false }));
  const store = new AuthStore(runtime.meta);
  await store.createRole('analyst');
  await store.createUser('root', { roles: ['admin'] });
  await store.createUser('ann', { roles: ['analyst'] });
  for (const g of grants) await store.grant({ role: 'analyst', ...g });
  for (const u of ['root', 'ann']) tokens[u] = (await store.createToken(u)).token;
  return { runtime, store };
}

export interface AllSurfaces {
  server: RunningServer;
  wire: PgWireServer;
  close(): Promise<void>;
}

/** Start the bus, the HTTP server and the wire server of the project in `dir` under the project's policy. */
export async function serveAllSurfaces(runtime: Runtime, dir: string): Promise<AllSurfaces> {
  const bus = await openBusService(runtime);
  const server = await startServer(runtime, { host: '127.0.0.1', httpPort: 0, bus: bus.bus });
  const wire = await startProjectWire(runtime, server.engine, dir);
  return {
    server,
    wire,
    async close() {
      await wire.close();
      await server.close();
      await bus.close();
    },
  };
}
