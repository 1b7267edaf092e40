/**
 * Pull-based reading of frontend messages from a socket, with the socket paused while
 * enough is buffered (a client cannot make the server buffer more than one message plus a
 * chunk) and every length checked against the limit before anything is allocated.
 */
import type { Duplex } from 'node:stream';
import { violation } from './messages.js';

const HIGH_WATER = 1024 * 1024;

/** A frontend message: type byte (as a character) and body. */
export interface Frame {
  type: string;
  body: Buffer;
}

/** Reads exact byte counts from a stream; rejects when the stream ends early. */
export class SocketReader {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #wanted = 0;
  #wake: (() => void) | undefined;
  #ended = false;
  #stream: Duplex | undefined;
  #onData = (chunk: Buffer) => {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#buffered > Math.max(HIGH_WATER, this.#wanted)) this.#stream?.pause();
    this.#notify();
  };
  #onEnd = () => {
    this.#ended = true;
    this.#notify();
  };

  constructor(stream: Duplex) {
    this.attach(stream);
  }

  /** Read from `stream` from now on (after a TLS upgrade). */
  attach(stream: Duplex): void {
    this.detach();
    this.#stream = stream;
    stream.on('data', this.#onData);
    stream.on('end', this.#onEnd);
    stream.on('close', this.#onEnd);
    stream.on('error', this.#onEnd);
  }

  /** Stop reading the current stream (bytes already buffered stay). */
  detach(): void {
    const s = this.#stream;
    if (!s) return;
    s.off('data', this.#onData);
    s.off('end', this.#onEnd);
    s.off('close', this.#onEnd);
    s.off('error', this.#onEnd);
    this.#stream = undefined;
  }

  /** Stop reading for good: a pending or later read fails with ConnectionClosed. */
  end(): void {
    this.detach();
    this.#onEnd();
  }

  /** Bytes received but not yet read (a client must not pipeline past an SSLRequest). */
  get buffered(): number {
    return this.#buffered;
  }

  /** Exactly `n` bytes. @throws Error('connection closed') when the stream ends first */
  async read(n: number): Promise<Buffer> {
    this.#wanted = n;
    while (this.#buffered < n) {
      if (this.#ended) throw new ConnectionClosed();
      this.#stream?.resume();
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    const all = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    if (this.#buffered <= HIGH_WATER) this.#stream?.resume();
    return out;
  }

  /** The startup-phase packet (no type byte): int32 length, then the body. */
  async startupPacket(): Promise<Buffer> {
    const len = (await this.read(4)).readInt32BE(0);
    if (len < 8 || len > 10_000) throw violation(`invalid startup packet length ${len}`);
    return this.read(len - 4);
  }

  /** One regular message; lengths beyond `maxBytes` are refused before reading the body. */
  async message(maxBytes: number): Promise<Frame> {
    const head = await this.read(5);
    const type = String.fromCharCode(head[0] as number);
    const len = head.readInt32BE(1);
    if (len < 4) throw violation(`invalid message length ${len}`);
    if (len - 4 > maxBytes) {
      throw violation(`message of ${len - 4} bytes exceeds the limit of ${maxBytes} bytes`);
    }
    return { type, body: await this.read(len - 4) };
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/** The client went away. */
export class ConnectionClosed extends Error {
  constructor() {
    super('connection closed by the client');
  }
}
