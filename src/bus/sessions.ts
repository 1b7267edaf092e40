/**
 * Streams of subscriptions in this process: which stream holds which partition, and
 * rebalancing when streams come and go. Partitions are spread evenly (directly requested
 * ones first); a partition taken from a stream that still has uncommitted events on it is
 * "reassigning" until that stream commits, closes, or its commit timeout passes.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError } from '../util/index.js';
import { UnprocessableError } from './problem.js';
import { slotKey } from './subscriptions.js';

/** One open stream of a subscription. */
export class StreamSession {
  readonly id = randomUUID();
  /** Partitions (slot keys) this stream should read. */
  readonly assigned = new Set<string>();
  /** Last log offset sent per slot. */
  readonly sent = new Map<string, bigint>();
  /** Last log offset committed per slot, as far as this stream knows. */
  readonly committed = new Map<string, bigint>();
  lastCommitAt = Date.now();
  closedAt?: number;
  /** Set when the stream must end (subscription reset or deleted). */
  stopReason?: string;
  #wake = new AbortController();

  constructor(
    readonly subscriptionId: string,
    /** Slots requested directly (POST with partitions), empty for automatic assignment. */
    readonly direct: ReadonlySet<string>,
    readonly commitTimeoutMs: number,
  ) {}

  /** Uncommitted events of a slot (sent, not committed). */
  uncommitted(slot: string): number {
    const sent = this.sent.get(slot);
    if (sent === undefined) return 0;
    return Math.max(0, Number(sent - (this.committed.get(slot) ?? -1n)));
  }

  /** Uncommitted events over every slot. */
  totalUncommitted(): number {
    let n = 0;
    for (const slot of this.sent.keys()) n += this.uncommitted(slot);
    return n;
  }

  /** A signal aborted at the next wake-up (commit, rebalance, stop). */
  wakeSignal(): AbortSignal {
    return this.#wake.signal;
  }

  /** Interrupt the stream's wait so it re-checks its partitions. */
  wake(): void {
    this.#wake.abort();
    this.#wake = new AbortController();
  }
}

interface SubscriptionState {
  streams: StreamSession[];
}

/** Coordinates the streams of every subscription served by this process. */
export class SessionRegistry {
  readonly #subs = new Map<string, SubscriptionState>();
  /** Closed streams, kept for their commit timeout so late commits are still accepted. */
  readonly #closed = new Map<string, StreamSession>();

  /**
   * Open a stream over `slots` (all partitions of the subscription).
   * @throws ConflictError when every partition already has a stream; UnprocessableError for unknown direct partitions
   */
  open(subscriptionId: string, slots: string[], direct: string[], commitTimeoutMs: number): StreamSession {
    for (const d of direct) {
      if (!slots.includes(d))
        throw new UnprocessableError(
          `partition ${d.replace('\u0000', ':')} does not belong to this subscription`,
        );
    }
    const state = this.#subs.get(subscriptionId) ?? { streams: [] };
    for (const s of state.streams) {
      const taken = direct.find((d) => s.direct.has(d));
      if (taken)
        throw new ConflictError(
          `partition ${taken.replace('\u0000', ':')} is already requested directly by stream ${s.id}`,
        );
    }
    if (state.streams.length >= slots.length) {
      throw new ConflictError(
        'No free slots for streaming available. Close other streams of this subscription first.',
      );
    }
    const session = new StreamSession(subscriptionId, new Set(direct), commitTimeoutMs);
    state.streams.push(session);
    this.#subs.set(subscriptionId, state);
    this.rebalance(subscriptionId, slots);
    return session;
  }

  /** A stream ended: its partitions go to the others. */
  close(session: StreamSession, slots: string[]): void {
    session.closedAt = Date.now();
    const state = this.#subs.get(session.subscriptionId);
    if (!state) return;
    state.streams = state.streams.filter((s) => s !== session);
    this.#closed.set(session.id, session);
    this.#expireClosed();
    if (state.streams.length === 0) this.#subs.delete(session.subscriptionId);
    else this.rebalance(session.subscriptionId, slots);
  }

  /** An open stream, or one closed less than its commit timeout ago. */
  find(subscriptionId: string, streamId: string): StreamSession | undefined {
    this.#expireClosed();
    const open = this.#subs.get(subscriptionId)?.streams.find((s) => s.id === streamId);
    if (open) return open;
    const closed = this.#closed.get(streamId);
    return closed?.subscriptionId === subscriptionId ? closed : undefined;
  }

  /** Open streams of a subscription. */
  streams(subscriptionId: string): readonly StreamSession[] {
    return this.#subs.get(subscriptionId)?.streams ?? [];
  }

  /** End every stream of a subscription (cursor reset, deletion). */
  stopAll(subscriptionId: string, reason: string): void {
    for (const s of this.streams(subscriptionId)) {
      s.stopReason = reason;
      s.wake();
    }
  }

  /**
   * Whether `session` may read `slot` now: assigned to it and not still held by another
   * stream with uncommitted events on it (within that stream's commit timeout).
   */
  mayRead(session: StreamSession, slot: string): boolean {
    if (!session.assigned.has(slot)) return false;
    for (const other of this.streams(session.subscriptionId)) {
      if (other === session || other.assigned.has(slot)) continue;
      if (other.uncommitted(slot) > 0 && Date.now() - other.lastCommitAt < other.commitTimeoutMs)
        return false;
    }
    return true;
  }

  /** Spread the slots over the open streams: direct requests first, then evenly. */
  rebalance(subscriptionId: string, slots: string[]): void {
    const streams = this.streams(subscriptionId);
    if (!streams.length) return;
    const owner = new Map<string, StreamSession>();
    for (const s of streams) for (const d of s.direct) owner.set(d, s);
    const auto = streams.filter((s) => s.direct.size === 0);
    const free = slots.filter((slot) => !owner.has(slot));
    if (auto.length) {
      const base = Math.floor(free.length / auto.length);
      let extra = free.length % auto.length;
      const target = new Map(auto.map((s) => [s, base + (extra-- > 0 ? 1 : 0)]));
      const count = new Map(auto.map((s) => [s, 0]));
      const unplaced: string[] = [];
      // Keep partitions where they are while the holder is under its share.
      for (const slot of free) {
        const holder = auto.find((s) => s.assigned.has(slot));
        if (holder && (count.get(holder) ?? 0) < (target.get(holder) ?? 0)) {
          owner.set(slot, holder);
          count.set(holder, (count.get(holder) ?? 0) + 1);
        } else unplaced.push(slot);
      }
      for (const slot of unplaced) {
        const s = auto.find((x) => (count.get(x) ?? 0) < (target.get(x) ?? 0)) as StreamSession;
        owner.set(slot, s);
        count.set(s, (count.get(s) ?? 0) + 1);
      }
    }
    for (const s of streams) {
      s.assigned.clear();
      for (const [slot, o] of owner) if (o === s) s.assigned.add(slot);
      s.wake();
    }
  }

  /** The stream that holds a slot, if any. */
  holder(subscriptionId: string, slot: string): StreamSession | undefined {
    return this.streams(subscriptionId).find((s) => s.assigned.has(slot));
  }

  #expireClosed(): void {
    const now = Date.now();
    for (const [id, s] of this.#closed)
      if (now - (s.closedAt ?? now) > s.commitTimeoutMs) this.#closed.delete(id);
  }
}

export { slotKey };
