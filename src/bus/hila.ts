/**
 * The subscription stream (GET/POST /subscriptions/{id}/events): partitions assigned by
 * the session registry, reading from committed cursors, paused at max_uncommitted_events,
 * ended when commits stop coming for commit_timeout.
 */
import { randomUUID } from 'node:crypto';
import type { EventBus } from './bus.js';
import { cursorOffset, formatOffset, parseCursorOffset } from './cursors.js';
import type { PartitionBounds } from './log/types.js';
import type { StreamSession } from './sessions.js';
import { batchLine, newSlot, runStreamLoop, type StreamSlot } from './stream-loop.js';
import type { StreamParams } from './stream-params.js';
import { slotKey } from './subscriptions.js';
import type { Subscription } from './types.js';

/** Every partition of a subscription as slot keys. */
export async function subscriptionSlots(bus: EventBus, sub: Subscription): Promise<string[]> {
  const keys: string[] = [];
  for (const name of sub.event_types) {
    for (const b of await bus.eventLog.bounds(name)) keys.push(slotKey(name, b.partition));
  }
  return keys;
}

/** Stream a subscription session until a limit, a commit timeout, a reset or the client's disconnect. */
export async function runSubscriptionStream(
  bus: EventBus,
  sub: Subscription,
  session: StreamSession,
  params: StreamParams,
  maxUncommitted: number,
  write: (line: string) => Promise<void>,
  signal: AbortSignal,
): Promise<string> {
  const active = new Map<string, StreamSlot>();
  const bounds = new Map<string, PartitionBounds>();
  let first = true;
  let pendingSince = Date.now();
  const hooks = {
    beforeRound: async () => {
      const wanted = [...session.assigned].filter((k) => bus.sessions.mayRead(session, k));
      for (const key of [...active.keys()]) if (!wanted.includes(key)) active.delete(key);
      const added = wanted.filter((k) => !active.has(k));
      if (!added.length) return;
      const committed = await bus.subscriptions.cursors(sub);
      for (const key of added) {
        const [eventType = '', p = '0'] = key.split('\u0000');
        const all = await bus.eventLog.bounds(eventType);
        const b = all.find((x) => x.partition === Number(p));
        if (!b) continue;
        bounds.set(key, b);
        const last = parseCursorOffset(committed.get(key) ?? 'BEGIN', b);
        // A (re)assigned partition restarts at the committed cursor: at-least-once.
        const next = last + 1n < b.begin ? b.begin : last + 1n;
        session.sent.set(key, next - 1n);
        session.committed.set(key, next - 1n);
        active.set(key, newSlot(eventType, b.partition, next));
      }
    },
    slots: () => [...active.values()],
    capacity: () => maxUncommitted - session.totalUncommitted(),
    stopReason: () => {
      if (session.stopReason) return session.stopReason;
      const since = Math.max(session.lastCommitAt, pendingSince);
      if (session.totalUncommitted() > 0 && Date.now() - since > session.commitTimeoutMs)
        return 'commit timeout reached';
      return undefined;
    },
    wakeSignal: () => session.wakeSignal(),
    emit: (slot: StreamSlot, records: { offset: bigint; value: Uint8Array }[]) => {
      const key = slotKey(slot.eventType, slot.partition);
      const last = records.at(-1);
      if (last) {
        if (session.totalUncommitted() === 0) pendingSince = Date.now();
        session.sent.set(key, last.offset);
      }
      const b = bounds.get(key) ?? { partition: slot.partition, begin: 0n, end: 0n };
      const offset = last ? formatOffset(last.offset) : cursorOffset(slot.next - 1n, b);
      const cursor = {
        partition: String(slot.partition),
        offset,
        event_type: slot.eventType,
        cursor_token: randomUUID(),
      };
      const line = batchLine(cursor, records as never, first ? { debug: 'Stream started' } : undefined);
      first = false;
      return line;
    },
    write,
  };
  return runStreamLoop(bus.eventLog, params, hooks, signal);
}
