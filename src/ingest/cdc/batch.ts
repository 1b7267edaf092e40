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
  /** Key (text values) of the lake row holding the unchanged TOASTed values, when it differs from the image's own key. */
  lookup?: (string | null)[];
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

  #keyValues(tuple: readonly TupleValue[]): (string | null)[] {
    return this.#keyIndexes.map((i) => tuple[i] ?? null);
  }

  #keyOf(tuple: readonly TupleValue[]): string {
    return JSON.stringify(this.#keyValues(tuple));
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
    const prior = this.images.get(key);
    this.images.set(key, this.#merge(prior, after, prior?.lookup));
  }

  /**
   * Apply an update that changed the key: the old key is deleted, and unchanged TOASTed values
   * of the new image come from the old key's image, or from the old key's lake row.
   */
  moveKey(before: readonly TupleValue[], after: readonly TupleValue[]): void {
    const oldKey = this.#keyOf(before);
    const prior = this.images.get(oldKey);
    this.images.set(oldKey, { deleted: true, values: this.#record(before) });
    this.images.set(this.#keyOf(after), this.#merge(prior, after, prior?.lookup ?? this.#keyValues(before)));
  }

  /** The new image, unchanged TOASTed values taken from the prior image; `lookup` kept while some stay unfilled. */
  #merge(prior: KeyImage | undefined, after: readonly TupleValue[], lookup?: (string | null)[]): KeyImage {
    const values = this.#record(after);
    let unfilled = false;
    for (const [n, v] of values) {
      if (v !== undefined) continue;
      const old = prior && !prior.deleted ? prior.values.get(n) : undefined;
      if (old !== undefined) values.set(n, old);
      else unfilled = true;
    }
    return unfilled && lookup ? { deleted: false, values, lookup } : { deleted: false, values };
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
