/**
 * A byte-level client for protocol tests: sends arbitrary bytes, reads backend messages.
 */
import { connect, type Socket } from 'node:net';

export interface BackendMessage {
  type: string;
  body: Buffer;
}

/** A raw connection to the wire server. */
export class RawClient {
  #buffer = Buffer.alloc(0);
  #waiters: (() => void)[] = [];
  closed: Promise<void>;
  isClosed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        this.#wake();
        resolve();
      }),
    );
  }

  static async open(port: number): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  write(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** One raw byte (answers to SSLRequest), or undefined at close. */
  async byte(): Promise<string | undefined> {
    while (this.#buffer.length < 1) {
      if (this.isClosed) return undefined;
      await new Promise<void>((r) => this.#waiters.push(r));
    }
    const b = String.fromCharCode(this.#buffer[0] as number);
    this.#buffer = this.#buffer.subarray(1);
    return b;
  }

  /** The next backend message, or undefined once the server closed the connection. */
  async message(): Promise<BackendMessage | undefined> {
    for (;;) {
      if (this.#buffer.length >= 5) {
        const len = this.#buffer.readInt32BE(1);
        if (this.#buffer.length >= len + 1) {
          const type = String.fromCharCode(this.#buffer[0] as number);
          const body = this.#buffer.subarray(5, len + 1);
          this.#buffer = this.#buffer.subarray(len + 1);
          return { type, body };
        }
      }
      if (this.isClosed) return undefined;
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  /** Messages until ReadyForQuery (included) or close. */
  untilReady(): Promise<BackendMessage[]> {
    return this.#collect('Z');
  }

  /** Every message until the server closes the connection. */
  untilClosed(): Promise<BackendMessage[]> {
    return this.#collect(undefined);
  }

  async #collect(stopAt: string | undefined): Promise<BackendMessage[]> {
    const out: BackendMessage[] = [];
    for (;;) {
      const m = await this.message();
      if (!m) return out;
      out.push(m);
      if (m.type === stopAt) return out;
    }
  }

  end(): void {
    this.socket.end();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** A startup packet for protocol 3.0 with the given parameters. */
export function startupPacket(params: Record<string, string>, code = 196608): Buffer {
  const body = Buffer.concat([
    ...Object.entries(params).flatMap(([k, v]) => [Buffer.from(`${k}\0`), Buffer.from(`${v}\0`)]),
    Buffer.from([0]),
  ]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(body.length + 8, 0);
  head.writeInt32BE(code, 4);
  return Buffer.concat([head, body]);
}

/** A frontend message: type, length, body. */
export function frontend(type: string, body: Buffer | string = Buffer.alloc(0)): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(b.length + 4, 1);
  return Buffer.concat([head, b]);
}

/** The fields of an ErrorResponse body (S, C, M, ...). */
export function errorFields(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const code = String.fromCharCode(body[at] as number);
    const end = body.indexOf(0, at + 1);
    out[code] = body.toString('utf8', at + 1, end);
    at = end + 1;
  }
  return out;
}

/** A connected, authenticated (trust) raw client that has seen ReadyForQuery. */
export async function readyClient(port: number): Promise<RawClient> {
  const c = await RawClient.open(port);
  c.write(startupPacket({ user: 'sluice', database: 'sluice' }));
  const msgs = await c.untilReady();
  if (msgs.at(-1)?.type !== 'Z') throw new Error(`startup failed: ${msgs.map((m) => m.type).join('')}`);
  return c;
}
