/**
 * Message framing of the frontend/backend protocol (PostgreSQL docs, "Message Formats"):
 * building backend messages and reading the fields of frontend ones.
 */
import type { PgType } from './oids.js';
import { ProtocolError, type WireError } from './sqlstate.js';

/** Builds one backend message: type byte, int32 length (self-inclusive), body. */
export class MessageWriter {
  #parts: Buffer[] = [];
  #size = 0;

  int8(n: number): this {
    return this.#push(Buffer.from([n]));
  }
  int16(n: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(n);
    return this.#push(b);
  }
  int32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return this.#push(b);
  }
  cstring(s: string): this {
    return this.#push(Buffer.from(`${s}\0`, 'utf8'));
  }
  bytes(b: Buffer): this {
    return this.#push(b);
  }
  /** The finished message; `type` is omitted for none (never for backend messages). */
  finish(type: string): Buffer {
    const head = Buffer.alloc(5);
    head.write(type, 0, 'latin1');
    head.writeInt32BE(this.#size + 4, 1);
    return Buffer.concat([head, ...this.#parts], this.#size + 5);
  }
  #push(b: Buffer): this {
    this.#parts.push(b);
    this.#size += b.length;
    return this;
  }
}

const w = () => new MessageWriter();

/** Backend messages used by the server. */
export const backend = {
  authOk: () => w().int32(0).finish('R'),
  authCleartext: () => w().int32(3).finish('R'),
  authSasl: (mechanisms: string[]) => {
    const m = w().int32(10);
    for (const name of mechanisms) m.cstring(name);
    return m.int8(0).finish('R');
  },
  authSaslContinue: (data: string) => w().int32(11).bytes(Buffer.from(data)).finish('R'),
  authSaslFinal: (data: string) => w().int32(12).bytes(Buffer.from(data)).finish('R'),
  /** NegotiateProtocolVersion: the newest version spoken and the protocol options not understood. */
  negotiateProtocol: (version: number, unknownOptions: string[]) => {
    const m = w().int32(version).int32(unknownOptions.length);
    for (const o of unknownOptions) m.cstring(o);
    return m.finish('v');
  },
  parameterStatus: (name: string, value: string) => w().cstring(name).cstring(value).finish('S'),
  backendKeyData: (pid: number, secret: number) => w().int32(pid).int32(secret).finish('K'),
  readyForQuery: (status: 'I' | 'T' | 'E') => w().int8(status.charCodeAt(0)).finish('Z'),
  commandComplete: (tag: string) => w().cstring(tag).finish('C'),
  emptyQuery: () => w().finish('I'),
  parseComplete: () => w().finish('1'),
  bindComplete: () => w().finish('2'),
  closeComplete: () => w().finish('3'),
  noData: () => w().finish('n'),
  portalSuspended: () => w().finish('s'),
  parameterDescription: (oids: number[]) => {
    const m = w().int16(oids.length);
    for (const oid of oids) m.int32(oid);
    return m.finish('t');
  },
  rowDescription: (fields: { name: string; type: PgType; format: number }[]) => {
    const m = w().int16(fields.length);
    for (const f of fields) {
      m.cstring(f.name).int32(0).int16(0).int32(f.type.oid).int16(f.type.size);
      m.int32(f.type.modifier).int16(f.format);
    }
    return m.finish('T');
  },
  copyOutResponse: (columns: number, binary: boolean) => {
    const m = w()
      .int8(binary ? 1 : 0)
      .int16(columns);
    for (let i = 0; i < columns; i++) m.int16(binary ? 1 : 0);
    return m.finish('H');
  },
  copyData: (data: Buffer) => w().bytes(data).finish('d'),
  copyDone: () => w().finish('c'),
  error: (e: WireError) => notice('E', e),
  notice: (e: WireError) => notice('N', e),
};

function notice(type: 'E' | 'N', e: WireError): Buffer {
  const m = w();
  m.int8(0x53).cstring(e.severity); // S
  m.int8(0x56).cstring(e.severity); // V (non-localised)
  m.int8(0x43).cstring(e.sqlstate); // C
  m.int8(0x4d).cstring(e.message.replace(/\0/g, '')); // M
  if (e.detail) m.int8(0x44).cstring(e.detail); // D
  if (e.hint) m.int8(0x48).cstring(e.hint); // H
  if (e.position) m.int8(0x50).cstring(String(e.position)); // P
  return m.int8(0).finish(type);
}

/** Encodes one DataRow from already-encoded column values (null for SQL NULL). */
export function dataRow(values: (Buffer | null)[]): Buffer {
  let size = 6;
  for (const v of values) size += 4 + (v ? v.length : 0);
  const b = Buffer.allocUnsafe(size + 1);
  b.write('D', 0, 'latin1');
  b.writeInt32BE(size, 1);
  b.writeInt16BE(values.length, 5);
  let at = 7;
  for (const v of values) {
    if (v === null) {
      b.writeInt32BE(-1, at);
      at += 4;
    } else {
      b.writeInt32BE(v.length, at);
      v.copy(b, at + 4);
      at += 4 + v.length;
    }
  }
  return b;
}

/** Reads the fields of one frontend message body; any overrun is a protocol violation. */
export class MessageReader {
  #at = 0;
  constructor(readonly body: Buffer) {}

  int8(): number {
    this.#need(1);
    return this.body.readUInt8(this.#at++);
  }
  int16(): number {
    this.#need(2);
    const v = this.body.readInt16BE(this.#at);
    this.#at += 2;
    return v;
  }
  int32(): number {
    this.#need(4);
    const v = this.body.readInt32BE(this.#at);
    this.#at += 4;
    return v;
  }
  cstring(): string {
    const end = this.body.indexOf(0, this.#at);
    if (end < 0) throw violation('unterminated string in message');
    const s = this.body.toString('utf8', this.#at, end);
    this.#at = end + 1;
    return s;
  }
  bytes(n: number): Buffer {
    if (n < 0) throw violation(`negative length ${n} in message`);
    this.#need(n);
    const b = this.body.subarray(this.#at, this.#at + n);
    this.#at += n;
    return b;
  }
  rest(): Buffer {
    const b = this.body.subarray(this.#at);
    this.#at = this.body.length;
    return b;
  }
  /** A count field (int16) that may not exceed what the remaining bytes could hold. */
  count(minBytesEach: number): number {
    const n = this.int16();
    if (n < 0 || n * minBytesEach > this.body.length - this.#at)
      throw violation(`invalid count ${n} in message`);
    return n;
  }
  #need(n: number): void {
    if (this.#at + n > this.body.length) throw violation('message shorter than its fields');
  }
}

/** A fatal protocol violation (SQLSTATE 08P01): the connection is closed after reporting it. */
export function violation(message: string): ProtocolError {
  return new ProtocolError('08P01', message, true);
}
