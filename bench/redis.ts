// Redis Streams as the peer of the event bus benchmarks (bench/eventlog.ts, bench/bus-http.ts):
// a redis-server child process with AOF on, a minimal pipelining RESP2 client, XADD/XREAD.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** One side of the comparison: append a batch, and follow the end of the log. */
export interface Target {
  name: string;
  append(batch: Buffer[]): Promise<void>;
  /** Calls `onEvent` with each event appended after the call, until `stop`. */
  follow(onEvent: (value: Buffer) => void, stop: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/**
 * Entries per XREAD: this small client re-parses a reply from its start as each network chunk
 * arrives, so large replies cost it more than Redis; 100 keeps the client out of the way.
 */
const XREAD_COUNT = 100;

/** A minimal RESP2 client: pipelined commands, replies matched in order. */
class Resp {
  #buf: Buffer = Buffer.alloc(0);
  readonly #pending: { resolve(v: unknown): void; reject(e: Error): void }[] = [];

  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.#buf = this.#buf.length ? Buffer.concat([this.#buf, d]) : d;
      let at = 0;
      for (;;) {
        const r = parseReply(this.#buf, at);
        if (!r) break;
        at = r.next;
        const p = this.#pending.shift();
        if (r.value instanceof Error) p?.reject(r.value);
        else p?.resolve(r.value);
      }
      this.#buf = this.#buf.subarray(at);
    });
  }

  static async connect(port: number): Promise<Resp> {
    const socket = tcpConnect({ port, host: '127.0.0.1', noDelay: true });
    await once(socket, 'connect');
    return new Resp(socket);
  }

  /** Send commands in one write; resolves with their replies. */
  send(commands: (string | Buffer)[][]): Promise<unknown[]> {
    const parts: Buffer[] = [];
    for (const cmd of commands) {
      parts.push(Buffer.from(`*${cmd.length}\r\n`));
      for (const arg of cmd) {
        const b = typeof arg === 'string' ? Buffer.from(arg) : arg;
        parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
      }
    }
    const replies = commands.map(
      () => new Promise<unknown>((resolve, reject) => this.#pending.push({ resolve, reject })),
    );
    this.socket.write(Buffer.concat(parts));
    return Promise.all(replies);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Parse one RESP2 reply at `at`; undefined when the buffer ends inside it. */
function parseReply(buf: Buffer, at: number): { value: unknown; next: number } | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[at]!);
  const line = buf.toString('latin1', at + 1, eol);
  const next = eol + 2;
  if (type === '+') return { value: line, next };
  if (type === '-') return { value: new Error(line), next };
  if (type === ':') return { value: Number(line), next };
  if (type === '$') {
    const n = Number(line);
    if (n < 0) return { value: null, next };
    if (buf.length < next + n + 2) return undefined;
    return { value: buf.subarray(next, next + n), next: next + n + 2 };
  }
  if (type === '*') {
    const n = Number(line);
    if (n < 0) return { value: null, next };
    const items: unknown[] = [];
    let pos = next;
    for (let i = 0; i < n; i++) {
      const r = parseReply(buf, pos);
      if (!r) return undefined;
      items.push(r.value);
      pos = r.next;
    }
    return { value: items, next: pos };
  }
  throw new Error(`unexpected RESP reply type ${JSON.stringify(type)}`);
}

export function haveRedis(): boolean {
  if (spawnSync('redis-server', ['--version']).status === 0) return true;
  console.log('redis-server is missing: trying apt-get install -y redis-server');
  const r = spawnSync('apt-get', ['install', '-y', '-qq', 'redis-server'], { stdio: 'inherit' });
  return r.status === 0 && spawnSync('redis-server', ['--version']).status === 0;
}

async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  return port;
}

export async function redisTarget(dir: string, fsync: 'always' | 'everysec'): Promise<Target> {
  const port = await freePort();
  const server: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''],
    { stdio: 'ignore' },
  );
  server.stdin?.end();
  let client: Resp | undefined;
  for (let i = 0; i < 100 && !client; i++) {
    try {
      client = await Resp.connect(port);
    } catch {
      await sleep(50);
    }
  }
  if (!client) throw new Error('redis-server did not start');
  await client.send([
    ['CONFIG', 'SET', 'appendonly', 'yes'],
    ['CONFIG', 'SET', 'appendfsync', fsync],
  ]);
  const writer = client;
  const stream = 'bench';
  return {
    name: `Redis Streams (AOF appendfsync ${fsync})`,
    append: async (batch) => {
      await writer.send(batch.map((value) => ['XADD', stream, '*', 'v', value]));
    },
    follow: async (onEvent, stop) => {
      const reader = await Resp.connect(port);
      let last = '$';
      try {
        while (!stop.aborted) {
          const [reply] = (await reader.send([
            ['XREAD', 'COUNT', String(XREAD_COUNT), 'BLOCK', '1000', 'STREAMS', stream, last],
          ])) as [[Buffer, [Buffer, Buffer[]][]][] | null];
          for (const [, entries] of reply ?? []) {
            for (const [id, fields] of entries) {
              onEvent(fields[1]!);
              last = id.toString();
            }
          }
        }
      } finally {
        reader.close();
      }
    },
    close: async () => {
      writer.close();
      server.kill('SIGTERM');
      await once(server, 'exit');
    },
  };
}
