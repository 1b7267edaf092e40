import type { Command } from 'commander';
import { openBusService } from '../../bus/index.js';
import { openRuntime } from '../../runtime/index.js';
import { startServer } from '../../serve/index.js';
import { InvalidInputError } from '../../util/index.js';
import { openCommand } from '../context.js';
import type { GlobalOptions } from '../main.js';

interface ServeOptions {
  role: string;
  host?: string;
  httpPort?: string;
}

function port(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidInputError(`${flag} must be a port number 0–65535, got "${value}"`);
  }
  return n;
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
  let running: Awaited<ReturnType<typeof startServer>>;
  let busService: Awaited<ReturnType<typeof openBusService>> | undefined;
  try {
    busService = await openBusService(runtime);
    running = await startServer(runtime, { host, httpPort, bus: busService.bus });
  } catch (err) {
    await busService?.close();
    await runtime.close();
    throw err;
  }
  out.result({
    url: running.url,
    ui: `${running.url}/`,
    health: `${running.url}/api/v1/health`,
    metrics: `${running.url}/metrics`,
    eventTypes: `${running.url}/event-types`,
  });
  out.line(`Sluice is serving project "${project.config.name}"`);
  out.line(`  web UI   ${running.url}/`);
  out.line(`  health   ${running.url}/api/v1/health`);
  out.line(`  metrics  ${running.url}/metrics`);
  out.line(`  events   ${running.url}/event-types`);
  out.line('Press Ctrl-C to stop.');

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  busService.bus.shutdown();
  await running.close();
  await busService.close();
  await runtime.close();
  return 0;
}
