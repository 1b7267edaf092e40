import type { Command } from 'commander';
import { openBusService } from '../../bus/index.js';
import type { Engine } from '../../engine/types.js';
import { MonitorService } from '../../monitor/index.js';
import type { Logger } from '../../observe/index.js';
import { type Orchestrator, sharedOrchestrator } from '../../orchestrator/index.js';
import type { Runtime } from '../../runtime/index.js';
import { openRuntime } from '../../runtime/index.js';
import { startServer } from '../../serve/index.js';
import { type PgWireServer, startPgWire } from '../../serve/pgwire/index.js';
import { type SystemTableFlusher, startSystemTableFlusher } from '../../system/index.js';
import { InvalidInputError } from '../../util/index.js';
import { openCommand } from '../context.js';
import type { GlobalOptions } from '../main.js';

interface ServeOptions {
  role: string;
  host?: string;
  httpPort?: string;
  pgPort?: string;
}

function port(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidInputError(`${flag} must be a port number 0–65535, got "${value}"`);
  }
  return n;
}

/**
 * Start the PostgreSQL wire endpoint of `sluice serve` over an open engine: port from
 * `--pg-port` or `server.pg`, users and limits from the `pgwire` section.
 */
export async function startPgWireForServe(
  engine: Engine,
  runtime: Runtime,
  log: Logger,
  cmd: Command,
  tls?: { cert: Buffer; key: Buffer },
): Promise<PgWireServer> {
  const opts = cmd.opts<ServeOptions>();
  const { server, pgwire } = runtime.project.config;
  return startPgWire(engine, {
    config: pgwire,
    dir: runtime.project.dir,
    host: opts.host ?? server.host,
    port: port(opts.pgPort, server.pg, '--pg-port'),
    log,
    meta: runtime.meta,
    policy: runtime.project.config.auth,
    tls,
  });
}

export default async function serveCommand(
  _args: unknown[],
  globals: GlobalOptions,
  cmd: Command,
): Promise<number> {
  const opts = cmd.opts<ServeOptions>();
  const { project, log, out } = await openCommand({ ...globals, logLevel: globals.logLevel ?? 'info' });
  const { server } = project.config;
  const host = opts.host ?? server.host;
  const httpPort = port(opts.httpPort, server.http, '--http-port');
  const runtime = await openRuntime(project, log);
  const role = opts.role;
  const serveHttp = role === 'all' || role === 'api';
  let running: Awaited<ReturnType<typeof startServer>> | undefined;
  let orch: Orchestrator | undefined;
  let pg: PgWireServer | undefined;
  let flusher: SystemTableFlusher | undefined;
  let monitors: MonitorService | undefined;
  // The embedded event log has one owner: the process that serves the HTTP API.
  let busService: Awaited<ReturnType<typeof openBusService>> | undefined;
  try {
    // The HTTP routes share this orchestrator (and its hot reload).
    orch = await sharedOrchestrator(runtime);
    if (role === 'all' || role === 'scheduler') await orch.scheduler().start();
    if (role === 'all' || role === 'worker') await orch.startWorker({ role });
    if (serveHttp) {
      busService = await openBusService(runtime);
      running = await startServer(runtime, { host, httpPort, bus: busService.bus });
    }
    if (running?.engine) pg = await startPgWireForServe(running.engine, runtime, log, cmd, running.tls);
    // History and audit rows move from the metastore outbox into sluice_system.* tables.
    flusher = startSystemTableFlusher(runtime);
    // Monitor rules are checked where schedules are: each due check is claimed once across servers.
    if (role === 'all' || role === 'scheduler')
      monitors = new MonitorService(runtime, { engine: running?.engine }).start();
  } catch (err) {
    await monitors?.stop();
    await flusher?.stop();
    await pg?.close();
    await running?.close();
    await busService?.close();
    await orch?.close({ abort: true });
    await runtime.close();
    throw err;
  }
  const url = running?.url;
  out.result({
    role,
    url: url ?? null,
    ui: url ? `${url}/` : null,
    health: url ? `${url}/api/v1/health` : null,
    metrics: url ? `${url}/metrics` : null,
    eventTypes: url ? `${url}/event-types` : null,
    postgres: pg ? `postgres://sluice@${host}:${pg.port}/sluice` : null,
    pipelines: [...orch.pipelines().keys()],
  });
  out.line(`Sluice is serving project "${project.config.name}" (role ${role})`);
  if (url) {
    out.line(`  web UI   ${url}/`);
    out.line(`  health   ${url}/api/v1/health`);
    out.line(`  metrics  ${url}/metrics`);
    out.line(`  events   ${url}/event-types`);
  }
  if (pg) out.line(`  SQL      psql -h ${host} -p ${pg.port} -U sluice sluice`);
  out.line(
    `  pipelines ${orch.pipelines().size} loaded (${role === 'api' ? 'no scheduler or worker in this process' : role})`,
  );
  out.line('Press Ctrl-C to stop.');

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  busService?.bus.shutdown();
  await monitors?.stop();
  await flusher?.stop();
  await pg?.close();
  await running?.close();
  await busService?.close();
  // Running tasks are stopped and handed back to the queue for another worker.
  await orch.close({ abort: true });
  await runtime.close();
  return 0;
}
