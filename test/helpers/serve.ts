/** Every surface of `sluice serve` on loopback ports: HTTP (with the Nakadi API) and the PostgreSQL wire. */
import { openBusService } from '../../src/bus/index.js';
import type { Runtime } from '../../src/runtime/index.js';
import { type RunningServer, startServer } from '../../src/serve/index.js';
import { type PgWireServer, startPgWire } from '../../src/serve/pgwire/index.js';

export interface AllSurfaces {
  server: RunningServer;
  wire: PgWireServer;
  close(): Promise<void>;
}

/** Start the bus, the HTTP server and the wire server of the project in `dir` under the project's policy. */
export async function serveAllSurfaces(runtime: Runtime, dir: string): Promise<AllSurfaces> {
  const bus = await openBusService(runtime);
  const server = await startServer(runtime, { host: '127.0.0.1', httpPort: 0, bus: bus.bus });
  const wire = await startPgWire(server.engine, {
    config: runtime.project.config.pgwire,
    dir,
    host: '127.0.0.1',
    port: 0,
    log: runtime.log,
    meta: runtime.meta,
    policy: runtime.project.config.auth,
  });
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
