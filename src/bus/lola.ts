/** The low-level stream (GET /event-types/{name}/events): cursors held by the client. */
import { cursorOffset, formatOffset, startOfCursor } from './cursors.js';
import type { EventLog } from './log/types.js';
import { UnprocessableError } from './problem.js';
import { batchLine, newSlot, runStreamLoop, type StreamSlot } from './stream-loop.js';
import type { StreamParams } from './stream-params.js';
import type { Cursor } from './types.js';

/**
 * The slots a low-level stream starts with: the `X-Nakadi-Cursors` partitions after their
 * offsets, or every partition from its end.
 * @throws UnprocessableError for a malformed header or unavailable offsets.
 */
export async function lolaSlots(
  eventLog: EventLog,
  eventType: string,
  header: string | undefined,
): Promise<StreamSlot[]> {
  const bounds = await eventLog.bounds(eventType);
  if (!header) return bounds.map((b) => newSlot(eventType, b.partition, b.end));
  let cursors: Cursor[];
  try {
    cursors = JSON.parse(header) as Cursor[];
  } catch {
    throw new UnprocessableError('X-Nakadi-Cursors must be a JSON array of cursors');
  }
  if (!Array.isArray(cursors) || cursors.length === 0)
    throw new UnprocessableError('X-Nakadi-Cursors must be a non-empty JSON array');
  const seen = new Set<string>();
  return cursors.map((c) => {
    const b = bounds.find((x) => String(x.partition) === c?.partition);
    if (!b) throw new UnprocessableError(`partition "${String(c?.partition)}" does not exist`);
    if (seen.has(c.partition))
      throw new UnprocessableError(`partition ${c.partition} is listed twice in X-Nakadi-Cursors`);
    seen.add(c.partition);
    if (typeof c.offset !== 'string')
      throw new UnprocessableError(`cursor of partition ${c.partition} needs a string "offset"`);
    return newSlot(eventType, b.partition, startOfCursor(c.offset, b));
  });
}

/** Stream batches of the slots to `write` (one or more lines per call) until a limit is reached or `signal` aborts. */
export async function runLolaStream(
  eventLog: EventLog,
  slots: StreamSlot[],
  params: StreamParams,
  write: (line: string) => Promise<void>,
  signal: AbortSignal,
): Promise<string> {
  const begins = new Map((await eventLog.bounds(slots[0]?.eventType ?? '')).map((b) => [b.partition, b]));
  const never = new AbortController().signal;
  return runStreamLoop(
    eventLog,
    params,
    {
      slots: () => slots,
      capacity: () => Number.POSITIVE_INFINITY,
      stopReason: () => undefined,
      wakeSignal: () => never,
      emit: (slot, records) => {
        const last = records.at(-1);
        const bounds = begins.get(slot.partition) ?? { partition: slot.partition, begin: 0n, end: 0n };
        const offset = last ? formatOffset(last.offset) : cursorOffset(slot.next - 1n, bounds);
        return batchLine({ partition: String(slot.partition), offset }, records);
      },
      write,
    },
    signal,
  );
}
