/**
 * Decoding of the streaming replication protocol (XLogData, primary keepalive) and of the
 * `pgoutput` logical decoding messages (protocol version 1) they carry; encoding of the
 * standby status update that reports the flushed LSN back to the server.
 */
import { BackendError } from '../../util/index.js';

/** Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01). */
const PG_EPOCH_US = 946_684_800_000_000n;

/** A WAL position as PostgreSQL prints it (`16/B374D848`). */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** Parse `16/B374D848`. @throws BackendError for anything else. */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!m) throw new BackendError(`not a WAL position: ${JSON.stringify(text)}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** A column of a relation as a Relation message describes it. */
export interface RelationColumn {
  name: string;
  typeOid: number;
  typmod: number;
  /** Part of the replica identity. */
  key: boolean;
}

/** A value in a tuple: text, SQL NULL, or `undefined` for an unchanged TOASTed value. */
export type TupleValue = string | null | undefined;

/** One decoded pgoutput message. */
export type PgOutputMessage =
  | { tag: 'begin'; finalLsn: bigint; commitTimeMs: number; xid: number }
  | { tag: 'commit'; commitLsn: bigint; endLsn: bigint; commitTimeMs: number }
  | {
      tag: 'relation';
      oid: number;
      schema: string;
      name: string;
      replicaIdentity: string;
      columns: RelationColumn[];
    }
  | { tag: 'type'; oid: number; schema: string; name: string }
  | { tag: 'insert'; oid: number; after: TupleValue[] }
  | { tag: 'update'; oid: number; before?: TupleValue[]; keyOnly: boolean; after: TupleValue[] }
  | { tag: 'delete'; oid: number; before: TupleValue[]; keyOnly: boolean }
  | { tag: 'truncate'; oids: number[] }
  | { tag: 'message'; transactional: boolean; lsn: bigint; prefix: string; content: Buffer }
  | { tag: 'other'; code: string };

/** One CopyData payload of a replication stream. */
export type ReplicationFrame =
  | { kind: 'xlog'; walStart: bigint; walEnd: bigint; data: Buffer }
  | { kind: 'keepalive'; walEnd: bigint; replyRequested: boolean };

/** Split a CopyData payload. @throws BackendError for an unknown frame. */
export function decodeFrame(buf: Buffer): ReplicationFrame {
  const kind = String.fromCharCode(buf[0] ?? 0);
  if (kind === 'w')
    return {
      kind: 'xlog',
      walStart: buf.readBigUInt64BE(1),
      walEnd: buf.readBigUInt64BE(9),
      data: buf.subarray(25),
    };
  if (kind === 'k')
    return { kind: 'keepalive', walEnd: buf.readBigUInt64BE(1), replyRequested: buf[17] === 1 };
  throw new BackendError(`unexpected replication frame "${kind}"`);
}

/** The standby status update telling the server what is written, flushed and applied. */
export function standbyStatus(flushedLsn: bigint, replyRequested = false): Buffer {
  const b = Buffer.alloc(34);
  b.write('r', 0, 'latin1');
  b.writeBigUInt64BE(flushedLsn, 1);
  b.writeBigUInt64BE(flushedLsn, 9);
  b.writeBigUInt64BE(flushedLsn, 17);
  b.writeBigInt64BE(BigInt(Date.now()) * 1000n - PG_EPOCH_US, 25);
  b[33] = replyRequested ? 1 : 0;
  return b;
}

class Reader {
  at = 0;
  constructor(readonly buf: Buffer) {}
  u8(): number {
    return this.buf[this.at++] ?? 0;
  }
  i16(): number {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  i32(): number {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  u64(): bigint {
    const v = this.buf.readBigUInt64BE(this.at);
    this.at += 8;
    return v;
  }
  timeMs(): number {
    const us = this.buf.readBigInt64BE(this.at);
    this.at += 8;
    return Number((us + PG_EPOCH_US) / 1000n);
  }
  str(): string {
    const end = this.buf.indexOf(0, this.at);
    const s = this.buf.toString('utf8', this.at, end);
    this.at = end + 1;
    return s;
  }
  tuple(): TupleValue[] {
    const n = this.i16();
    const out: TupleValue[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const kind = String.fromCharCode(this.u8());
      if (kind === 'n') out[i] = null;
      else if (kind === 'u') out[i] = undefined;
      else {
        const len = this.i32();
        out[i] = this.buf.toString('utf8', this.at, this.at + len);
        this.at += len;
      }
    }
    return out;
  }
}

/** Decode one pgoutput message (the payload of an XLogData frame). */
export function decodePgOutput(data: Buffer): PgOutputMessage {
  const r = new Reader(data);
  const code = String.fromCharCode(r.u8());
  switch (code) {
    case 'B':
      return { tag: 'begin', finalLsn: r.u64(), commitTimeMs: r.timeMs(), xid: r.i32() };
    case 'C': {
      r.u8();
      return { tag: 'commit', commitLsn: r.u64(), endLsn: r.u64(), commitTimeMs: r.timeMs() };
    }
    case 'R': {
      const oid = r.i32();
      const schema = r.str();
      const name = r.str();
      const replicaIdentity = String.fromCharCode(r.u8());
      const n = r.i16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < n; i++) {
        const flags = r.u8();
        columns.push({ name: r.str(), typeOid: r.i32(), typmod: r.i32(), key: (flags & 1) === 1 });
      }
      return { tag: 'relation', oid, schema, name, replicaIdentity, columns };
    }
    case 'Y':
      return { tag: 'type', oid: r.i32(), schema: r.str(), name: r.str() };
    case 'I': {
      const oid = r.i32();
      r.u8();
      return { tag: 'insert', oid, after: r.tuple() };
    }
    case 'U': {
      const oid = r.i32();
      let kind = String.fromCharCode(r.u8());
      let before: TupleValue[] | undefined;
      const keyOnly = kind === 'K';
      if (kind === 'K' || kind === 'O') {
        before = r.tuple();
        kind = String.fromCharCode(r.u8());
      }
      return { tag: 'update', oid, before, keyOnly, after: r.tuple() };
    }
    case 'D': {
      const oid = r.i32();
      const kind = String.fromCharCode(r.u8());
      return { tag: 'delete', oid, keyOnly: kind === 'K', before: r.tuple() };
    }
    case 'T': {
      const n = r.i32();
      r.u8();
      const oids: number[] = [];
      for (let i = 0; i < n; i++) oids.push(r.i32());
      return { tag: 'truncate', oids };
    }
    case 'M': {
      const transactional = (r.u8() & 1) === 1;
      const lsn = r.u64();
      const prefix = r.str();
      const len = r.i32();
      return { tag: 'message', transactional, lsn, prefix, content: data.subarray(r.at, r.at + len) };
    }
    default:
      return { tag: 'other', code };
  }
}
