/**
 * The batching loop behind both streaming APIs: reads the partitions a stream holds, cuts
 * batches of `batch_limit` events or at `batch_flush_timeout` (an empty batch is a
 * keep-alive), and stops at `stream_limit`, `stream_timeout`, the keep-alive limit, the
 * client's disconnect or when the caller says so.
 */
import { OffsetUnavailableError } from './log/index.js';
import type { EventLog, LogRecord } from './log/types.js';
import { sleep } from './sleep.js';
import type { StreamParams } from './stream-params.js';

/** One partition a stream reads. */
export interface StreamSlot {
  eventType: string;
  partition: number;
  /** Next log offset to read. */
  next: bigint;
  buffer: LogRecord[];
  lastFlushAt: number;
  keepAlives: number;
}

/** What the loop asks of the API it runs for. */
export interface StreamHooks {
  /** Called before each round, e.g. to pick up a rebalanced assignment. */
  beforeRound?(): Promise<void>;
  /** The slots to read now (may change between rounds: rebalancing). */
  slots(): StreamSlot[];
  /** How many more events the stream may send before pausing (max_uncommitted_events). */
  capacity(): number;
  /** The text of one batch (`records` empty for a keep-alive), once it is about to be sent. */
  emit(slot: StreamSlot, records: LogRecord[]): string | Promise<string>;
  /** Send the batches of one round, joined into one write. */
  write(text: string): Promise<void>;
  /** A reason to end the stream now (commit timeout, subscription reset...). */
  stopReason(): string | undefined;
  /** Aborted when the loop should re-check its slots before a wait ends (commit, rebalance). */
  wakeSignal(): AbortSignal;
}

const MAX_WAIT_MS = 1000;
/**
 * Records read from a partition in one round beyond its batch: a round costs a read and a
 * socket write, so a consumer with a small batch_limit gets many batches per round instead of
 * one round per batch.
 */
const READ_AHEAD = 1000;
/** The reason given when a read is cut short because another partition has records (no DOMException). */
const OTHER_PARTITION_READY = Symbol('another partition has records');

/** Run the loop until a limit is reached or `signal` aborts; resolves with why it stopped. */
export async function runStreamLoop(
  eventLog: EventLog,
  params: StreamParams,
  hooks: StreamHooks,
  signal: AbortSignal,
): Promise<string> {
  const endAt = Date.now() + params.streamTimeoutMs;
  let sent = 0;
  let round = 0;
  for (;;) {
    if (signal.aborted) return 'client disconnected';
    await hooks.beforeRound?.();
    const stop = hooks.stopReason();
    if (stop) return stop;
    const slots = hooks.slots();
    const now = Date.now();
    if (now >= endAt) {
      const lines: string[] = [];
      for (const slot of slots) {
        while (slot.buffer.length)
          lines.push(await hooks.emit(slot, slot.buffer.splice(0, params.batchLimit)));
      }
      if (lines.length) await hooks.write(lines.join(''));
      return 'stream timeout reached';
    }
    const streamLeft = params.streamLimit ? params.streamLimit - sent : Number.POSITIVE_INFINITY;
    const budget = Math.min(hooks.capacity(), streamLeft) - slots.reduce((n, s) => n + s.buffer.length, 0);
    const nextFlush = Math.min(endAt, ...slots.map((s) => s.lastFlushAt + params.flushTimeoutMs));
    const waitMs = Math.max(0, Math.min(MAX_WAIT_MS, nextFlush - now));
    const room = Math.max(params.batchLimit, READ_AHEAD);
    const readable = slots.filter((s) => s.buffer.length < params.batchLimit);
    if (budget > 0 && readable.length) {
      // Share the budget fairly, rotating who gets the remainder, so no partition starves.
      const share = Math.floor(budget / readable.length);
      const extra = budget % readable.length;
      round++;
      const perSlot = readable.map((s, i) => {
        const bonus = (i + round) % readable.length < extra ? 1 : 0;
        return Math.max(0, Math.min(room - s.buffer.length, share + bonus));
      });
      await readAny(eventLog, readable, perSlot, waitMs, AbortSignal.any([signal, hooks.wakeSignal()]));
    } else {
      await sleep(waitMs, AbortSignal.any([signal, hooks.wakeSignal()]));
    }
    // Every batch that is full or due goes out now, all of them in one write.
    const lines: string[] = [];
    let limitReached = false;
    const current = hooks.slots();
    // What is buffered completes the stream: partial batches go out too, not at their timeout.
    const limitHit =
      params.streamLimit > 0 && sent + current.reduce((n, s) => n + s.buffer.length, 0) >= params.streamLimit;
    for (const slot of current) {
      for (;;) {
        const full = slot.buffer.length >= params.batchLimit;
        const due = Date.now() >= slot.lastFlushAt + params.flushTimeoutMs;
        if (!full && !due && !(limitHit && slot.buffer.length)) break;
        const records = slot.buffer.splice(0, params.batchLimit);
        slot.keepAlives = records.length ? 0 : slot.keepAlives + 1;
        slot.lastFlushAt = Date.now();
        sent += records.length;
        lines.push(await hooks.emit(slot, records));
        limitReached = params.streamLimit > 0 && sent >= params.streamLimit;
        if (limitReached || slot.buffer.length === 0) break;
      }
      if (limitReached) break;
    }
    if (lines.length) await hooks.write(lines.join(''));
    if (limitReached) return 'stream limit reached';
    const all = hooks.slots();
    if (params.keepAliveLimit > 0 && all.length && all.every((s) => s.keepAlives >= params.keepAliveLimit)) {
      return 'keep-alive limit reached';
    }
  }
}

/** Read every slot at once; returns as soon as one has records (the others stop waiting). */
async function readAny(
  eventLog: EventLog,
  slots: StreamSlot[],
  maxRecords: number[],
  waitMs: number,
  signal: AbortSignal,
): Promise<void> {
  const done = new AbortController();
  const any = AbortSignal.any([signal, done.signal]);
  await Promise.all(
    slots.map(async (slot, i) => {
      const max = maxRecords[i] ?? 0;
      if (max <= 0) return;
      let records: LogRecord[];
      try {
        records = await eventLog.read(slot.eventType, slot.partition, slot.next, {
          maxRecords: max,
          waitMs,
          signal: any,
        });
      } catch (err) {
        if (any.aborted) return;
        if (!(err instanceof OffsetUnavailableError)) throw err;
        // Retention removed events the stream had not reached: continue at the oldest one left.
        const bounds = (await eventLog.bounds(slot.eventType)).find((b) => b.partition === slot.partition);
        if (!bounds || slot.next >= bounds.begin) throw err;
        slot.next = bounds.begin;
        return;
      }
      if (records.length === 0) return;
      slot.buffer.push(...records);
      slot.next = (records.at(-1) as LogRecord).offset + 1n;
      done.abort(OTHER_PARTITION_READY);
    }),
  );
}

/** A new slot starting at a log offset. */
export function newSlot(eventType: string, partition: number, next: bigint): StreamSlot {
  return { eventType, partition, next, buffer: [], lastFlushAt: Date.now(), keepAlives: 0 };
}

/** The JSON text of a batch: cursor, then the stored events as they are (no re-serialising). */
export function batchLine(cursor: object, records: LogRecord[], info?: object): string {
  let line = `{"cursor":${JSON.stringify(cursor)}`;
  if (records.length) line += `,"events":[${records.map((r) => textOf(r.value)).join(',')}]`;
  if (info) line += `,"info":${JSON.stringify(info)}`;
  return `${line}}\n`;
}

/** The UTF-8 text of stored bytes, decoded in place (Buffer.from of a view would copy it first). */
export function textOf(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
}
