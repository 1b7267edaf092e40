/**
 * The newest records of a partition kept in memory, so that readers following the end of
 * the log (the common case) are served without touching the disk. Offsets are contiguous.
 */
import type { StoredRecord } from './record.js';

const PER_RECORD_OVERHEAD = 64;

export class Tail {
  #records: StoredRecord[] = [];
  #head = 0;
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  /** Offset of the oldest record held, or undefined when empty. */
  get first(): number | undefined {
    return this.#records[this.#head]?.offset;
  }

  /** Add records that directly follow the ones held; older ones are dropped past `maxBytes`. */
  push(records: readonly StoredRecord[]): void {
    const last = this.#records[this.#records.length - 1];
    if (last && records[0] && records[0].offset !== last.offset + 1) this.clear();
    for (const r of records) {
      this.#records.push(r);
      this.#bytes += sizeOf(r);
    }
    while (this.#bytes > this.maxBytes && this.#head < this.#records.length) {
      this.#bytes -= sizeOf(this.#records[this.#head]!);
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#records.length) {
      this.#records = this.#records.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Up to `max` records from offset `from`, or undefined when `from` is older than the tail. */
  read(from: number, max: number): StoredRecord[] | undefined {
    const first = this.first;
    if (first === undefined || from < first) return undefined;
    const start = this.#head + (from - first);
    return this.#records.slice(start, start + max);
  }

  /** Forget records before `offset` (they were rewritten on disk). */
  dropBefore(offset: number): void {
    while (this.#head < this.#records.length && this.#records[this.#head]!.offset < offset) {
      this.#bytes -= sizeOf(this.#records[this.#head]!);
      this.#head++;
    }
  }

  clear(): void {
    this.#records = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}

function sizeOf(r: StoredRecord): number {
  return r.value.byteLength + (r.key?.length ?? 0) + PER_RECORD_OVERHEAD;
}
