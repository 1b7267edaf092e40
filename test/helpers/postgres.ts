/**
 * A real PostgreSQL for tests: `startPostgres()` runs a throwaway server (initdb into a temp
 * dir, random port, loopback only); `createTestDatabase()` gives each caller its own
 * database, on the suite's server when SLUICE_TEST_PG_URL is set, else on a server started
 * for this process (one per test file) and stopped once its databases are dropped.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PostgresServer {
  /** postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres (password auth over TCP). */
  url: string;
  stop(): Promise<void>;
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

const BIN_DIRS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'];
const START_TIMEOUT_MS = 30_000;

/**
 * Start a fresh server; rejects with the server log if it does not come up. `walLevel`
 * defaults to `logical` (CDC tests); `replica` gives a server logical replication refuses.
 */
export async function startPostgres(o: { walLevel?: 'logical' | 'replica' } = {}): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const password = randomBytes(12).toString('hex');
  const asRoot = process.getuid?.() === 0;
  writeFileSync(join(dir, 'pwfile'), `${password}\n`);
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
    chownSync(join(dir, 'pwfile'), uid, gid);
  }
  chmodSync(dir, 0o700);
  const port = await freePort();
  let started = false;
  try {
    await run(
      asRoot,
      'initdb',
      [
        '-D',
        data,
        '-U',
        'postgres',
        '--pwfile',
        join(dir, 'pwfile'),
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
      ],
      ['--no-sync', '-E', 'UTF8', '--locale=C'],
      log,
    );
    const options = [
      `-p ${port}`,
      `-k ${dir}`,
      '-h 127.0.0.1',
      `-c wal_level=${o.walLevel ?? 'logical'}`,
      '-c max_connections=200',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
    ].join(' ');
    await run(asRoot, 'pg_ctl', ['start', '-w', '-t', '30', '-D', data, '-l', log, '-o', options], [], log);
    started = true;
    const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    await waitForConnections(url, log);
    let stopped = false;
    const stopSync = (): void => {
      if (stopped) return;
      stopped = true;
      try {
        execFileSync(...command(asRoot, 'pg_ctl', ['stop', '-m', 'immediate', '-D', data]), {
          stdio: 'ignore',
        });
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    };
    process.once('exit', stopSync);
    return {
      url,
      async stop() {
        process.removeListener('exit', stopSync);
        if (stopped) return;
        stopped = true;
        await run(asRoot, 'pg_ctl', ['stop', '-m', 'immediate', '-D', data], [], log).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (started)
      await run(asRoot, 'pg_ctl', ['stop', '-m', 'immediate', '-D', data], [], log).catch(() => undefined);
    const serverLog = existsSync(log) ? readFileSync(log, 'utf8').slice(-4000) : '(no server log)';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`startPostgres failed: ${(err as Error).message}\n--- server log ---\n${serverLog}`, {
      cause: err,
    });
  }
}

let ownServer: Promise<PostgresServer> | undefined;
let ownUsers = 0;
let idleTimer: NodeJS.Timeout | undefined;

/**
 * The last database of this process's own server was dropped: stop the server unless another
 * suite of the file asks for a database soon. The timer does not hold the process open; if it
 * exits first, the exit hook of startPostgres stops the server.
 */
function release(): void {
  ownUsers -= 1;
  if (ownUsers > 0) return;
  idleTimer = setTimeout(() => {
    const server = ownServer;
    ownServer = undefined;
    void server?.then((s) => s.stop()).catch(() => undefined);
  }, 1000);
  idleTimer.unref();
}

/**
 * A fresh, uniquely named database; `drop()` removes it (and, without SLUICE_TEST_PG_URL,
 * stops this process's own server when it was the last one).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const shared = process.env.SLUICE_TEST_PG_URL;
  let serverUrl: string;
  if (shared) {
    serverUrl = shared;
  } else {
    ownUsers += 1;
    clearTimeout(idleTimer);
    ownServer ??= startPostgres();
    try {
      serverUrl = (await ownServer).url;
    } catch (err) {
      ownUsers -= 1;
      ownServer = undefined;
      throw err;
    }
  }
  const name = `sluice_test_${randomBytes(6).toString('hex')}`;
  try {
    await admin(serverUrl, `CREATE DATABASE ${name}`);
  } catch (err) {
    if (!shared) release();
    throw err;
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      if (!shared) release();
    },
  };
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function command(asRoot: boolean, bin: string, args: string[]): [string, string[]] {
  const path = BIN_DIRS.map((d) => join(d, bin)).find((p) => existsSync(p)) ?? bin;
  return asRoot ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
}

function run(asRoot: boolean, bin: string, args: string[], extra: string[], log: string): Promise<void> {
  const [file, argv] = command(asRoot, bin, [...args, ...extra]);
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS + 5000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `${bin} ${args[0]} exited with ${code ?? signal}: ${output.trim().slice(-2000)} (log: ${log})`,
          ),
        );
    });
  });
}

async function waitForConnections(url: string, log: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (err) {
      last = err;
      await client.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(
    `PostgreSQL did not accept connections within ${START_TIMEOUT_MS} ms (log: ${log}): ${String(last)}`,
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
