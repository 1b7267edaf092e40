/**
 * Offsets as the API shows them. The event at log offset n has the Nakadi offset
 * `n` zero-padded to 18 digits, so offsets compare as strings the way they compare as
 * numbers. A cursor names the last event consumed: reading resumes at offset + 1. `BEGIN`
 * is the position before the oldest available event.
 */
import type { PartitionBounds } from './log/types.js';
import { UnprocessableError } from './problem.js';
import type { Cursor } from './types.js';

const WIDTH = 18;

/** The API offset of a log offset. */
export function formatOffset(offset: bigint): string {
  return offset.toString().padStart(WIDTH, '0');
}

/** The cursor offset of a position: `BEGIN` before the first event, else the padded offset. */
export function cursorOffset(lastConsumed: bigint, bounds: PartitionBounds): string {
  return lastConsumed < bounds.begin ? 'BEGIN' : formatOffset(lastConsumed);
}

/**
 * The log offset of the last event a cursor covers (begin - 1 for BEGIN).
 * @throws UnprocessableError for an offset that is not a number or BEGIN.
 */
export function parseCursorOffset(offset: string, bounds: PartitionBounds): bigint {
  if (typeof offset !== 'string') throw new UnprocessableError('cursor offset must be a string');
  if (offset.toUpperCase() === 'BEGIN') return bounds.begin - 1n;
  if (!/^-?\d{1,19}$/.test(offset)) {
    throw new UnprocessableError(`invalid offset "${offset}" for partition ${bounds.partition}`);
  }
  return BigInt(offset);
}

/**
 * Check a cursor points inside the partition (an expired or future offset is a 422).
 * @returns the log offset the next read starts at.
 */
export function startOfCursor(offset: string, bounds: PartitionBounds): bigint {
  const last = parseCursorOffset(offset, bounds);
  if (last < bounds.begin - 1n) {
    throw new UnprocessableError(
      `offset ${offset} for partition ${bounds.partition} is unavailable: the oldest available offset is ${formatOffset(bounds.begin)}`,
    );
  }
  if (last >= bounds.end) {
    throw new UnprocessableError(
      `offset ${offset} for partition ${bounds.partition} is unavailable: the newest offset is ${newestOffset(bounds)}`,
    );
  }
  return last + 1n;
}

/** The newest available offset, `BEGIN` for an empty partition. */
export function newestOffset(bounds: PartitionBounds): string {
  return bounds.end > bounds.begin ? formatOffset(bounds.end - 1n) : 'BEGIN';
}

/** The Nakadi `Partition` object of a partition's bounds, with the lag of an optional cursor. */
export function partitionInfo(
  bounds: PartitionBounds,
  consumed?: string,
): {
  partition: string;
  oldest_available_offset: string;
  newest_available_offset: string;
  unconsumed_events?: number;
} {
  const info: {
    partition: string;
    oldest_available_offset: string;
    newest_available_offset: string;
    unconsumed_events?: number;
  } = {
    partition: String(bounds.partition),
    oldest_available_offset: formatOffset(bounds.begin),
    newest_available_offset: newestOffset(bounds),
  };
  if (consumed !== undefined) info.unconsumed_events = Number(bounds.end - startOfCursor(consumed, bounds));
  return info;
}

/**
 * The bounds of the partition a cursor names.
 * @throws UnprocessableError for a missing or unknown partition.
 */
export function boundsOf(cursor: Partial<Cursor> | undefined, all: PartitionBounds[]): PartitionBounds {
  if (!cursor || typeof cursor !== 'object' || typeof cursor.partition !== 'string') {
    throw new UnprocessableError('a cursor needs a string "partition" and a string "offset"');
  }
  if (typeof cursor.offset !== 'string') {
    throw new UnprocessableError(`cursor of partition ${cursor.partition} needs a string "offset"`);
  }
  const found = /^\d+$/.test(cursor.partition)
    ? all.find((b) => b.partition === Number(cursor.partition))
    : undefined;
  if (!found) throw new UnprocessableError(`partition "${cursor.partition}" does not exist`);
  return found;
}
