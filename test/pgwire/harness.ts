/**
 * A wire server over the test engine on 127.0.0.1:0, and a runner for command-line clients.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Engine } from '../../src/engine/types.js';
import { silentLogger } from '../../src/observe/index.js';
import { type PgWireOptions, type PgWireServer, startPgWireServer } from '../../src/serve/pgwire/index.js';
import { openDuckEngine } from './duck-engine.js';

/** Users of every test server: a writer, a read-only analyst, and the loopback trust user "sluice". */
export const USERS = [
  { name: 'writer', password: 'w-secret' },
  { name: 'analyst', password: 'a-secret', readOnly: true },
];

export interface TestServer {
  engine: Engine & { sessions: number; batchesPulled: number };
  server: PgWireServer;
  port: number;
  /** postgres://user:password@127.0.0.1:port/sluice */
  url(user?: string, password?: string): string;
  close(): Promise<void>;
}

/** Start a server over a fresh engine with the fixture tables. */
export async function startTestServer(o: Partial<PgWireOptions> = {}): Promise<TestServer> {
  const engine = await openDuckEngine();
  const server = await startPgWireServer({
    engine,
    host: '127.0.0.1',
    port: 0,
    log: silentLogger,
    auth: { users: USERS, trustLoopbackUser: 'sluice' },
    ...o,
  });
  return {
    engine,
    server,
    port: server.port,
    url: (user = 'sluice', password) =>
      `postgres://${user}${password ? `:${password}` : ''}@127.0.0.1:${server.port}/sluice`,
    async close() {
      await server.close();
      await engine.close();
    },
  };
}

/** psql from PostgreSQL's installation, or undefined when it is not installed. */
export function findPsql(): string | undefined {
  const candidates = [
    '/usr/lib/postgresql/17/bin/psql',
    '/usr/lib/postgresql/16/bin/psql',
    '/usr/lib/postgresql/15/bin/psql',
    '/usr/bin/psql',
  ];
  return candidates.find((p) => existsSync(p));
}

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a program to completion; `onStart` gets the child (e.g. to signal it). */
export function runProgram(
  file: string,
  args: string[],
  o: { env?: NodeJS.ProcessEnv; input?: string; onStart?: (child: ChildProcess) => void } = {},
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: { ...process.env, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(o.input ?? '');
    o.onStart?.(child);
  });
}
