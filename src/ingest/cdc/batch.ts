/**
 * The changes of one table collected between two commits: the latest row image per key
 * (later changes to a key replace earlier ones, an unchanged TOASTed value is taken from the
 * earlier image when there is one), a truncate marker, and the change stream rows.
 */
import type { TupleValue } from './pgoutput.js';

/** The latest state of one key in a batch. */
export interface KeyImage {
  deleted: boolean;
  /** Column name → text value; `undefined` marks an unchanged TOASTed value still to be filled from the lake. */
  values: Map<string, string | null | undefined>;
}

/** One row of `<table>__changes`. */
export interface ChangeRow {
  op: 'insert' | 'update' | 'delete' | 'truncate';
  lsn: string;
  seq: number;
  commitTimeMs: number;
  before: string | null;
  after: string | null;
}

/** The pending changes of one table. */
export class TableBatch {
  readonly images = new Map<string, KeyImage>();
  readonly changes: ChangeRow[] = [];
  truncated = false;
  count = 0;
  /** Commit LSN of the newest transaction in the batch. */
  lastLsn = 0n;
  #keyIndexes: number[] = [];
  #names: string[] = [];

  /** Column names of the relation (in tuple order) and the positions of the key columns. */
  setColumns(names: readonly string[], key: readonly string[]): void {
    this.#names = [...names];
    this.#keyIndexes = key.map((k) => names.indexOf(k));
  }

  get empty(): boolean {
    return this.count === 0;
  }

  #keyOf(tuple: readonly TupleValue[]): string {
    return JSON.stringify(this.#keyIndexes.map((i) => tuple[i] ?? null));
  }

  #record(tuple: readonly TupleValue[]): Map<string, TupleValue> {
    const m = new Map<string, TupleValue>();
    this.#names.forEach((n, i) => {
      m.set(n, tuple[i]);
    });
    return m;
  }

  /** Apply an insert or the new image of an update. */
  upsert(after: readonly TupleValue[]): void {
    const key = this.#keyOf(after);
    const values = this.#record(after);
    const prior = this.images.get(key);
    if (prior && !prior.deleted)
      for (const [n, v] of values)
        if (v === undefined && prior.values.has(n)) values.set(n, prior.values.get(n));
    this.images.set(key, { deleted: false, values });
  }

  /** Apply a delete (of the old key of an update that changed its key, too). */
  delete(before: readonly TupleValue[]): void {
    this.images.set(this.#keyOf(before), { deleted: true, values: this.#record(before) });
  }

  /** True when the old image's key differs from the new image's. */
  keyChanged(before: readonly TupleValue[], after: readonly TupleValue[]): boolean {
    return this.#keyOf(before) !== this.#keyOf(after);
  }

  /** Apply a TRUNCATE: everything before it is gone. */
  truncate(): void {
    this.images.clear();
    this.truncated = true;
  }

  /** Add a change stream row (values as a JSON object of text values). */
  addChange(
    op: ChangeRow['op'],
    lsn: string,
    commitTimeMs: number,
    before?: readonly TupleValue[],
    after?: readonly TupleValue[],
  ) {
    const json = (t?: readonly TupleValue[]) =>
      t
        ? JSON.stringify(
            Object.fromEntries(
              this.#names.map((n, i) => [n, t[i] === undefined ? { unchanged_toast: true } : t[i]]),
            ),
          )
        : null;
    this.changes.push({
      op,
      lsn,
      seq: this.changes.length,
      commitTimeMs,
      before: json(before),
      after: json(after),
    });
  }
}
