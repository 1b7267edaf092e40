/**
 * One segment: a file of framed records named by its base offset (`00000000000000000042.log`)
 * plus a sparse in-memory offset index, written to `<base>.index` when the segment is closed.
 */
import { type FileHandle, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BackendError } from '../../util/index.js';
import { crc32c } from './crc32c.js';
import { writeFileAtomic } from './fs-util.js';
import { type Decoded, decodeRecord, type StoredRecord } from './record.js';

/** One index entry per this many bytes of records. */
export const INDEX_INTERVAL_BYTES = 4096;
const READ_CHUNK_BYTES = 1024 * 1024;
const INDEX_MAGIC = 0x31584c53; // "SLX1"
const INDEX_HEADER_BYTES = 4 + 4 + 8 + 8 + 8;
const U32 = 0x1_0000_0000;

/** File names of a segment: 20-digit zero-padded base offset. */
export function segmentFileName(base: number, ext: 'log' | 'index'): string {
  return `${String(base).padStart(20, '0')}.${ext}`;
}

/** The base offset a segment file name encodes, or undefined for other files. */
export function parseSegmentFileName(name: string): number | undefined {
  const m = /^(\d{20})\.log$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** A segment's metadata and index; the bytes stay in the file. */
export class Segment {
  /** Offset after the last record (== base when empty). */
  next: number;
  /** Durable size in bytes: readers never look past it. */
  size: number;
  /** Newest record timestamp (0 when empty). */
  maxTimestamp: number;
  /** Inode of the file this metadata describes (0: not checked); compaction replaces the file. */
  ino = 0;
  #offsets: number[] = [];
  #positions: number[] = [];

  constructor(
    readonly dir: string,
    readonly base: number,
  ) {
    this.next = base;
    this.size = 0;
    this.maxTimestamp = 0;
  }

  get path(): string {
    return join(this.dir, segmentFileName(this.base, 'log'));
  }

  get indexPath(): string {
    return join(this.dir, segmentFileName(this.base, 'index'));
  }

  /** Note a record written at `pos`; keeps one index entry per INDEX_INTERVAL_BYTES. */
  track(offset: number, pos: number, timestamp: number): void {
    const last = this.#positions.length ? this.#positions[this.#positions.length - 1]! : -Infinity;
    if (pos - last >= INDEX_INTERVAL_BYTES) {
      this.#offsets.push(offset);
      this.#positions.push(pos);
    }
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
  }

  /** File position of the last indexed record at or before `offset` (0 when none). */
  lookup(offset: number): number {
    let lo = 0;
    let hi = this.#offsets.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#offsets[mid]! <= offset) {
        found = this.#positions[mid]!;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** Read up to `maxRecords` records with offsets ≥ `from`; values are slices of the read buffers. */
  async read(from: number, maxRecords: number): Promise<StoredRecord[]> {
    const out: StoredRecord[] = [];
    if (from >= this.next || this.size === 0) return out;
    const fh = await open(this.path, 'r');
    try {
      if (this.ino && (await fh.stat()).ino !== this.ino) throw new SegmentReplaced(this.path);
      const cursor = new RecordCursor(fh, this.lookup(from), this.size);
      while (out.length < maxRecords) {
        const d = await cursor.next();
        if (d === undefined) break;
        if (d.kind !== 'record') {
          const why = d.kind === 'short' ? 'it ends inside a record' : d.reason;
          throw new BackendError(`event log segment ${this.path} is corrupt at byte ${cursor.pos}: ${why}`);
        }
        if (d.record.offset >= from) out.push(d.record);
        cursor.advance(d.size);
      }
    } finally {
      await fh.close();
    }
    return out;
  }

  /** Every record of the segment, in order, read in large chunks. */
  async *records(): AsyncGenerator<StoredRecord> {
    const fh = await open(this.path, 'r');
    try {
      const cursor = new RecordCursor(fh, 0, this.size);
      for (;;) {
        const d = await cursor.next();
        if (d === undefined) return;
        if (d.kind !== 'record')
          throw new BackendError(`event log segment ${this.path} is corrupt at byte ${cursor.pos}`);
        yield d.record;
        cursor.advance(d.size);
      }
    } finally {
      await fh.close();
    }
  }

  /** Write the index (and the segment's bounds) atomically; called when the segment is closed. */
  async writeIndex(): Promise<void> {
    const count = this.#offsets.length;
    const buf = Buffer.alloc(INDEX_HEADER_BYTES + count * 8 + 4);
    buf.writeUInt32LE(INDEX_MAGIC, 0);
    buf.writeUInt32LE(count, 4);
    writeU64(buf, 8, this.next);
    writeU64(buf, 16, this.size);
    writeU64(buf, 24, this.maxTimestamp);
    for (let i = 0; i < count; i++) {
      buf.writeUInt32LE(this.#offsets[i]! - this.base, INDEX_HEADER_BYTES + i * 8);
      buf.writeUInt32LE(this.#positions[i]!, INDEX_HEADER_BYTES + i * 8 + 4);
    }
    buf.writeUInt32LE(crc32c(buf, 0, buf.length - 4), buf.length - 4);
    await writeFileAtomic(this.indexPath, buf);
  }

  /**
   * Load a closed segment's index file; undefined when it is missing, damaged or does not
   * match the segment file's size (the caller then rebuilds it by scanning).
   */
  static async loadIndex(
    dir: string,
    base: number,
    file: { size: number; ino: number },
  ): Promise<Segment | undefined> {
    const fileSize = file.size;
    const seg = new Segment(dir, base);
    let buf: Buffer;
    try {
      const fh = await open(seg.indexPath, 'r');
      try {
        buf = await fh.readFile();
      } finally {
        await fh.close();
      }
    } catch {
      return undefined;
    }
    if (buf.length < INDEX_HEADER_BYTES + 4 || buf.readUInt32LE(0) !== INDEX_MAGIC) return undefined;
    const count = buf.readUInt32LE(4);
    if (buf.length !== INDEX_HEADER_BYTES + count * 8 + 4) return undefined;
    if (crc32c(buf, 0, buf.length - 4) !== buf.readUInt32LE(buf.length - 4)) return undefined;
    if (readU64(buf, 16) !== fileSize) return undefined;
    seg.next = readU64(buf, 8);
    seg.size = fileSize;
    seg.ino = file.ino;
    seg.maxTimestamp = readU64(buf, 24);
    for (let i = 0; i < count; i++) {
      seg.#offsets.push(base + buf.readUInt32LE(INDEX_HEADER_BYTES + i * 8));
      seg.#positions.push(buf.readUInt32LE(INDEX_HEADER_BYTES + i * 8 + 4));
    }
    return seg;
  }

  /**
   * Scan a segment file from the start, rebuilding the index. The valid data ends at the
   * first short or invalid record or at an offset that does not increase; with `truncate`,
   * anything after it (a torn tail) is cut off and the file synced. Returns the bytes dropped.
   */
  static async scan(
    dir: string,
    base: number,
    truncate: boolean,
  ): Promise<{ seg: Segment; dropped: number }> {
    const seg = new Segment(dir, base);
    const fh = await open(seg.path, 'r+');
    try {
      const { size: fileSize, ino } = await fh.stat();
      seg.ino = ino;
      const cursor = new RecordCursor(fh, 0, fileSize);
      let last = base - 1;
      for (;;) {
        const d = await cursor.next();
        if (d === undefined || d.kind !== 'record' || d.record.offset <= last) break;
        seg.track(d.record.offset, cursor.pos, d.record.timestamp);
        last = d.record.offset;
        cursor.advance(d.size);
      }
      seg.size = cursor.pos;
      seg.next = last + 1;
      const dropped = fileSize - cursor.pos;
      if (dropped > 0 && truncate) {
        await fh.truncate(cursor.pos);
        await fh.datasync();
      }
      return { seg, dropped };
    } finally {
      await fh.close();
    }
  }

  /** Delete the segment's files. */
  async remove(): Promise<void> {
    await rm(this.path, { force: true });
    await rm(this.indexPath, { force: true });
  }
}

function writeU64(buf: Buffer, at: number, value: number): void {
  buf.writeUInt32LE(value % U32, at);
  buf.writeUInt32LE(Math.floor(value / U32), at + 4);
}

function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * U32;
}

/** The segment file was replaced (by compaction) after its metadata was taken: read again. */
export class SegmentReplaced extends Error {
  constructor(path: string) {
    super(`event log segment ${path} was rewritten during the read`);
  }
}

/** Decodes records one after another from a file region, reading it in large chunks. */
class RecordCursor {
  #buf: Buffer = Buffer.alloc(0);
  #bufStart = 0;

  constructor(
    readonly fh: FileHandle,
    /** File position of the next record. */
    public pos: number,
    readonly limit: number,
  ) {}

  /** The record at `pos`; undefined at the limit; 'short' when the region ends inside it. */
  async next(): Promise<Decoded | undefined> {
    if (this.pos >= this.limit) return undefined;
    let d = decodeRecord(this.#buf, this.pos - this.#bufStart);
    if (d.kind !== 'short') return d;
    const available = this.limit - this.pos;
    const buffered = this.#buf.length - (this.pos - this.#bufStart);
    if (available <= buffered) return d;
    const want = Math.min(available, Math.max(d.size ?? 0, READ_CHUNK_BYTES));
    const buf = Buffer.allocUnsafe(want);
    const { bytesRead } = await this.fh.read(buf, 0, want, this.pos);
    this.#buf = buf.subarray(0, bytesRead);
    this.#bufStart = this.pos;
    d = decodeRecord(this.#buf, 0);
    return d;
  }

  advance(size: number): void {
    this.pos += size;
  }
}
