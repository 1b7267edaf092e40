/**
 * A minimal PostgreSQL frontend/backend protocol (v3) client on a raw socket, for what `pg`
 * cannot do: a `replication=database` connection running replication commands
 * (`CREATE_REPLICATION_SLOT`, `START_REPLICATION`) and the CopyBoth stream that follows.
 * Authentication: SCRAM-SHA-256, cleartext or trust.
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { BackendError } from '../../util/index.js';
import { ScramClient } from './scram.js';

/** Where and as whom to connect. */
export interface WireOptions {
  url: string;
  /** Open a logical replication connection (`replication=database`). */
  replication?: boolean;
  connectTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Rows of a simple query, every value in text form. */
export interface WireResult {
  fields: string[];
  rows: (string | null)[][];
}

/** An error the server reported (ErrorResponse), with its SQLSTATE. */
export class PgServerError extends BackendError {
  constructor(
    readonly sqlState: string,
    message: string,
    hint?: string,
  ) {
    super(message, hint);
  }
}

interface Message {
  type: string;
  body: Buffer;
}

function cstrings(body: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const end = body.indexOf(0, at + 1);
    out.set(String.fromCharCode(body[at] ?? 0), body.toString('utf8', at + 1, end));
    at = end + 1;
  }
  return out;
}

function frame(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const cstr = (s: string) => Buffer.from(`${s}\0`, 'utf8');
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

/** One protocol connection. Not safe for concurrent queries: callers await each call. */
export class PgWire {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  readonly #queue: Message[] = [];
  #waiter: (() => void) | undefined;
  #error: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      while (this.#buffer.length >= 5) {
        const len = this.#buffer.readInt32BE(1);
        if (this.#buffer.length < len + 1) break;
        this.#queue.push({
          type: String.fromCharCode(this.#buffer[0] ?? 0),
          body: this.#buffer.subarray(5, len + 1),
        });
        this.#buffer = this.#buffer.subarray(len + 1);
      }
      this.#wake();
    });
    const fail = (err: Error) => {
      this.#error ??= err;
      this.#wake();
    };
    socket.on('error', (err) => fail(new BackendError(`PostgreSQL connection failed: ${err.message}`)));
    socket.on('close', () => fail(new BackendError('the PostgreSQL server closed the connection')));
  }

  /**
   * Connect and authenticate.
   * @throws BackendError when the server is unreachable or rejects the login.
   */
  static async connect(o: WireOptions): Promise<PgWire> {
    const url = new URL(o.url);
    const socket = connect({ host: url.hostname || '127.0.0.1', port: Number(url.port || 5432) });
    socket.setNoDelay(true);
    const timeoutMs = o.connectTimeoutMs ?? 10_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new BackendError(`cannot reach PostgreSQL at ${url.host} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new BackendError(`cannot reach PostgreSQL at ${url.host}: ${err.message}`));
      });
    });
    const wire = new PgWire(socket);
    o.signal?.addEventListener('abort', () => wire.close(), { once: true });
    const user = decodeURIComponent(url.username || 'postgres');
    const params = ['user', user, 'database', decodeURIComponent(url.pathname.slice(1) || user)];
    params.push('application_name', 'sluice-cdc', 'client_encoding', 'UTF8', 'DateStyle', 'ISO');
    if (o.replication) params.push('replication', 'database');
    const body = Buffer.concat([int32(196608), ...params.map(cstr), Buffer.from([0])]);
    socket.write(Buffer.concat([int32(body.length + 4), body]));
    try {
      await wire.#authenticate(user, decodeURIComponent(url.password));
    } catch (err) {
      wire.close();
      throw err;
    }
    return wire;
  }

  async #authenticate(user: string, password: string): Promise<void> {
    let scram: ScramClient | undefined;
    for (;;) {
      const m = await this.#next();
      if (m.type === 'R') {
        const code = m.body.readInt32BE(0);
        if (code === 0) continue;
        if (code === 3) this.#send(frame('p', cstr(password)));
        else if (code === 5) {
          const inner = createHash('md5')
            .update(password + user)
            .digest('hex');
          const outer = createHash('md5').update(Buffer.concat([Buffer.from(inner), m.body.subarray(4, 8)]));
          this.#send(frame('p', cstr(`md5${outer.digest('hex')}`)));
        } else if (code === 10) {
          if (!m.body.includes('SCRAM-SHA-256'))
            throw new BackendError('the server offers no supported SASL mechanism');
          scram = new ScramClient(password);
          const first = Buffer.from(scram.first());
          this.#send(frame('p', cstr('SCRAM-SHA-256'), int32(first.length), first));
        } else if (code === 11 && scram)
          this.#send(frame('p', Buffer.from(scram.final(m.body.toString('utf8', 4)))));
        else if (code === 12 && scram) scram.verify(m.body.toString('utf8', 4));
        else throw new BackendError(`unsupported PostgreSQL authentication method ${code}`);
      } else if (m.type === 'E') throw serverError(m.body);
      else if (m.type === 'Z') return;
    }
  }

  /** Run one simple-protocol statement; every value in text form. @throws PgServerError */
  async query(sql: string): Promise<WireResult> {
    this.#send(frame('Q', cstr(sql)));
    const out: WireResult = { fields: [], rows: [] };
    let error: PgServerError | undefined;
    for (;;) {
      const m = await this.#next();
      if (m.type === 'T') out.fields = parseRowDescription(m.body);
      else if (m.type === 'D') out.rows.push(parseDataRow(m.body));
      else if (m.type === 'E') error = serverError(m.body);
      else if (m.type === 'Z') {
        if (error) throw error;
        return out;
      }
    }
  }

  /**
   * Start a CopyBoth stream (`START_REPLICATION ...`) and yield the server's CopyData payloads.
   * @throws PgServerError when the server refuses the command or ends the stream with an error.
   */
  async *copyBoth(sql: string): AsyncGenerator<Buffer> {
    this.#send(frame('Q', cstr(sql)));
    for (;;) {
      const m = await this.#next();
      if (m.type === 'd') yield m.body;
      else if (m.type === 'E') throw serverError(m.body);
      else if (m.type === 'c' || m.type === 'Z') return;
    }
  }

  /** Send a CopyData message inside a CopyBoth stream. */
  sendCopyData(payload: Buffer): void {
    this.#send(frame('d', payload));
  }

  /** Close the socket (pending calls fail). */
  close(): void {
    if (!this.#socket.destroyed) {
      this.#socket.end(frame('X'));
      this.#socket.destroy();
    }
  }

  #send(buf: Buffer): void {
    if (this.#error) throw this.#error;
    this.#socket.write(buf);
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  async #next(): Promise<Message> {
    for (;;) {
      const m = this.#queue.shift();
      if (m) {
        if (m.type === 'N' || m.type === 'S' || m.type === 'K' || m.type === 'A') continue;
        return m;
      }
      if (this.#error) throw this.#error;
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
      });
    }
  }
}

function serverError(body: Buffer): PgServerError {
  const f = cstrings(body);
  const code = f.get('C') ?? 'XX000';
  const message = `PostgreSQL: ${f.get('M') ?? 'unknown error'}${f.get('D') ? ` (${f.get('D')})` : ''}`;
  return new PgServerError(code, message, f.get('H'));
}

function parseRowDescription(body: Buffer): string[] {
  const n = body.readInt16BE(0);
  const names: string[] = [];
  let at = 2;
  for (let i = 0; i < n; i++) {
    const end = body.indexOf(0, at);
    names.push(body.toString('utf8', at, end));
    at = end + 1 + 18;
  }
  return names;
}

function parseDataRow(body: Buffer): (string | null)[] {
  const n = body.readInt16BE(0);
  const row: (string | null)[] = [];
  let at = 2;
  for (let i = 0; i < n; i++) {
    const len = body.readInt32BE(at);
    at += 4;
    if (len < 0) row.push(null);
    else {
      row.push(body.toString('utf8', at, at + len));
      at += len;
    }
  }
  return row;
}
