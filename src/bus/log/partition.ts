/**
 * One partition of the embedded log: a directory of segments, appended to by group commit
 * (appends queue; one write and one fdatasync per flush cycle resolve every waiting append),
 * read from the in-memory tail or the segment files, trimmed by retention.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from '../../observe/index.js';
import { BackendError, errorMessage } from '../../util/index.js';
import { compactSegments, newestOffsets } from './compact.js';
import { Mutex, syncDir, writeFully } from './fs-util.js';
import { encodeRecords, type NewRecord, type StoredRecord } from './record.js';
import { recoverSegments } from './recover.js';
import { Segment, SegmentReplaced } from './segment.js';
import { Tail } from './tail.js';
import { OffsetUnavailableError } from './validate.js';

/** Settings shared by every partition of one embedded log. */
export interface PartitionOptions {
  /** A segment is closed and a new one started once it reaches this size. */
  segmentBytes: number;
  /** fdatasync before acknowledging appends (off only for throwaway data). */
  fsync: boolean;
  /** Bytes of newest records kept in memory for readers. */
  tailBytes: number;
  log: Logger;
}

/** Activity and size of one partition (see EmbeddedEventLog.stats). */
export interface PartitionStats {
  /** Flush cycles (one write and one fdatasync each) since the log was opened. */
  flushes: number;
  /** Append calls acknowledged by those flushes. */
  appends: number;
  records: number;
  segments: number;
  sizeBytes: number;
}

interface Pending {
  records: readonly NewRecord[];
  bytes: number;
  resolve(first: number): void;
  reject(err: unknown): void;
}

/** Largest amount of record bytes written by one flush cycle. */
const MAX_FLUSH_BYTES = 16 * 1024 * 1024;

export class Partition {
  readonly #dir: string;
  /** `topic "x" partition 0`, for messages users see. */
  readonly #name: string;
  readonly #opts: PartitionOptions;
  readonly #segments: Segment[];
  #fh: FileHandle;
  readonly #mutex = new Mutex();
  readonly #tail: Tail;
  readonly #waiters = new Set<() => void>();
  #queue: Pending[] = [];
  #flushScheduled = false;
  #closed = false;
  #failed: Error | undefined;
  readonly #stats = { flushes: 0, appends: 0, records: 0 };
  /** Base of the active segment when compaction last ran. */
  #compactedBefore = -1;

  private constructor(dir: string, opts: PartitionOptions, segments: Segment[], fh: FileHandle) {
    this.#dir = dir;
    const topic = basename(dirname(dir));
    this.#name = `topic "${topic}" partition ${basename(dir)}`;
    this.#opts = opts;
    this.#segments = segments;
    this.#fh = fh;
    this.#tail = new Tail(opts.tailBytes);
  }

  /** Open (or create) the partition in `dir`, recovering the last segment: a torn tail is cut off. */
  static async open(dir: string, opts: PartitionOptions): Promise<Partition> {
    const segments = await recoverSegments(dir, opts.log);
    // A closed segment ends where the next begins (compaction may have removed its last records).
    for (let i = 0; i + 1 < segments.length; i++) segments[i]!.next = segments[i + 1]!.base;
    const fh = await open(segments[segments.length - 1]!.path, 'r+');
    return new Partition(dir, opts, segments, fh);
  }

  /** Oldest readable offset. */
  get begin(): number {
    return this.#segments[0]!.base;
  }

  /** Next offset to be written. */
  get end(): number {
    return this.#active.next;
  }

  /** Bytes in all segments. */
  get sizeBytes(): number {
    return this.#segments.reduce((n, s) => n + s.size, 0);
  }

  /** Counters since open: group commits written, the appends and records they carried. */
  get stats(): PartitionStats {
    return { ...this.#stats, segments: this.#segments.length, sizeBytes: this.sizeBytes };
  }

  get #active(): Segment {
    return this.#segments[this.#segments.length - 1]!;
  }

  /** Queue records for the next flush; resolves with the first offset once they are durable. */
  append(records: readonly NewRecord[], bytes: number): Promise<number> {
    if (this.#closed) return Promise.reject(new BackendError(`${this.#name} is closed`));
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => {
      this.#queue.push({ records, bytes, resolve, reject });
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    void this.#mutex.run(async () => {
      this.#flushScheduled = false;
      await this.#flushOnce();
      if (this.#queue.length) this.#kick();
    });
  }

  /** One group commit: everything queued (up to MAX_FLUSH_BYTES) in one write and one sync. */
  async #flushOnce(): Promise<void> {
    let bytes = 0;
    let n = 0;
    while (n < this.#queue.length && (n === 0 || bytes + this.#queue[n]!.bytes <= MAX_FLUSH_BYTES)) {
      bytes += this.#queue[n]!.bytes;
      n++;
    }
    const batch = this.#queue.splice(0, n);
    if (batch.length === 0) return;
    if (this.#failed) {
      for (const p of batch) p.reject(this.#failed);
      return;
    }
    const records = batch.length === 1 ? batch[0]!.records : batch.flatMap((p) => p.records);
    const timestamp = Date.now();
    const first = this.#active.next;
    const { bytes: encoded, positions, stored } = encodeRecords(records, first, timestamp);
    try {
      if (this.#active.size > 0 && this.#active.size + encoded.length > this.#opts.segmentBytes) {
        await this.#roll();
      }
      const seg = this.#active;
      const at = seg.size;
      try {
        await writeFully(this.#fh, encoded, at);
        if (this.#opts.fsync) await this.#fh.datasync();
      } catch (err) {
        // Leave no partial batch behind: it was never acknowledged.
        await this.#fh.truncate(at).catch((e: unknown) => this.#fail(e));
        throw err;
      }
      for (let i = 0; i < positions.length; i++) seg.track(first + i, at + positions[i]!, timestamp);
      seg.size = at + encoded.length;
      seg.next = first + records.length;
    } catch (err) {
      const e = new BackendError(
        `cannot append to event log partition ${this.#dir}: ${errorMessage(err)}`,
        undefined,
        {
          cause: err,
        },
      );
      for (const p of batch) p.reject(e);
      return;
    }
    this.#tail.push(stored);
    this.#stats.flushes++;
    this.#stats.appends += batch.length;
    this.#stats.records += records.length;
    let offset = first;
    for (const p of batch) {
      p.resolve(offset);
      offset += p.records.length;
    }
    this.#wake();
  }

  #fail(err: unknown): void {
    this.#failed = new BackendError(
      `event log partition ${this.#dir} is unusable after a failed write: ${errorMessage(err)}`,
      'restart the process: opening the log recovers the partition',
      { cause: err },
    );
  }

  /** Close the active segment (its index is written) and start a new one at the end offset. */
  async #roll(): Promise<void> {
    const old = this.#active;
    try {
      await old.writeIndex();
      const seg = new Segment(this.#dir, old.next);
      const fh = await open(seg.path, 'wx+');
      seg.ino = (await fh.stat()).ino;
      await syncDir(this.#dir);
      await this.#fh.close();
      this.#fh = fh;
      this.#segments.push(seg);
    } catch (err) {
      this.#fail(err);
      throw err;
    }
  }

  /**
   * Up to `max` records from `from`, without waiting (empty at the end).
   * @throws OffsetUnavailableError for an offset before begin or after end
   */
  async read(from: number, max: number): Promise<StoredRecord[]> {
    this.#checkOffset(from);
    const out: StoredRecord[] = [];
    let at = from;
    let retries = 0;
    while (out.length < max && at < this.end) {
      const cached = this.#tail.read(at, max - out.length);
      if (cached) {
        out.push(...cached);
        break;
      }
      const seg = this.#segmentOf(at);
      let got: StoredRecord[];
      try {
        got = await seg.read(at, max - out.length);
      } catch (err) {
        // Retention may have deleted the segment meanwhile, or compaction rewritten it.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.#checkOffset(at);
        if (err instanceof SegmentReplaced && retries++ < 3) continue;
        throw err;
      }
      out.push(...got);
      if (out.length >= max) break;
      // The segment is exhausted: go on with the next one.
      const next = this.#segments[this.#segments.indexOf(seg) + 1];
      if (!next) break;
      at = next.base;
    }
    return out;
  }

  #checkOffset(offset: number): void {
    const { begin, end } = this;
    if (offset < begin || offset > end) {
      throw new OffsetUnavailableError(
        `offset ${offset} is not available in ${this.#name}: readable offsets are ${begin}–${end}`,
        offset < begin ? 'older records were removed by retention; read from the begin offset' : undefined,
      );
    }
  }

  /** The segment holding `offset`: the last one whose base is at or before it. */
  #segmentOf(offset: number): Segment {
    let lo = 0;
    let hi = this.#segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.#segments[mid]!.base <= offset) lo = mid;
      else hi = mid - 1;
    }
    return this.#segments[lo]!;
  }

  /** Resolves once a record at `offset` exists, after `waitMs`, on abort or on close. */
  waitFor(offset: number, waitMs: number | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (this.end > offset || this.#closed || signal?.aborted || waitMs === 0) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#waiters.delete(wake);
        resolve();
      };
      const wake = () => {
        if (this.end > offset || this.#closed) done();
      };
      this.#waiters.add(wake);
      if (waitMs !== undefined) timer = setTimeout(done, waitMs);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /**
   * Delete whole closed segments whose newest record is older than `retentionMs`, then the
   * oldest ones while the partition is larger than `retentionBytes` (0 = no limit). An
   * expired active segment is closed first so that it can go too. Returns segments deleted.
   */
  enforceRetention(retentionMs: number, retentionBytes: number, now = Date.now()): Promise<number> {
    return this.#mutex.run(async () => {
      if (this.#closed || this.#failed) return 0;
      const cutoff = now - retentionMs;
      if (this.#active.size > 0 && this.#active.maxTimestamp < cutoff) await this.#roll();
      let total = this.sizeBytes;
      let removed = 0;
      while (this.#segments.length > 1) {
        const oldest = this.#segments[0]!;
        const expired = oldest.maxTimestamp < cutoff;
        const oversize = retentionBytes > 0 && total > retentionBytes;
        if (!expired && !oversize) break;
        this.#segments.shift();
        total -= oldest.size;
        await oldest.remove();
        removed++;
      }
      if (removed) {
        await syncDir(this.#dir);
        this.#opts.log.debug({ partition: this.#dir, removed, begin: this.begin }, 'event log: retention');
      }
      return removed;
    });
  }

  /**
   * Keep only the newest record per key in the closed segments (cleanupPolicy "compact").
   * Runs when segments were closed since the last compaction. Returns records removed.
   */
  compact(): Promise<number> {
    return this.#mutex.run(async () => {
      if (this.#closed || this.#failed || this.#active.base === this.#compactedBefore) return 0;
      const closed = this.#segments.slice(0, -1);
      const newest = await newestOffsets(this.#segments);
      const { segments, removed } = await compactSegments(closed, newest);
      this.#segments.splice(0, segments.length, ...segments);
      this.#compactedBefore = this.#active.base;
      // Readers of compacted offsets must see the rewritten segments, not the old records.
      if (removed) this.#tail.dropBefore(this.#active.base);
      if (removed) this.#opts.log.debug({ partition: this.#dir, removed }, 'event log: compaction');
      return removed;
    });
  }

  /** Flush what is queued, wake waiting readers, close the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake();
    while (this.#queue.length || this.#flushScheduled) await this.#mutex.run(async () => undefined);
    await this.#mutex.run(() => this.#fh.close());
  }
}
