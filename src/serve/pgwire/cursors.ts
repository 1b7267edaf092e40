/**
 * SQL-level cursors (DECLARE / FETCH / MOVE / CLOSE), as drivers use them for server-side
 * cursors over large results; a declared cursor is also a portal for Describe.
 */
import type { EngineSession } from '../../engine/types.js';
import { rewriteForDuckDb } from './catalog.js';
import type { SessionSettings } from './plan.js';
import { type RowCursor as Cursor, RowCursor, type Sink, wireColumns } from './results.js';
import { ProtocolError } from './sqlstate.js';

/** A cursor statement. */
export type CursorPlan =
  | { kind: 'declare'; name: string; sql: string; binary: boolean; hold: boolean }
  | { kind: 'fetch'; name: string; count: number; move: boolean }
  | { kind: 'close-cursor'; name: string | undefined };

/** Parse DECLARE/FETCH/MOVE/CLOSE, or undefined for other statements. */
export function planCursor(text: string, settings: SessionSettings): CursorPlan | undefined {
  const declare =
    /^declare\s+("[^"]+"|\w+)\s+((?:binary|insensitive|asensitive|no\s+scroll|scroll|\s)*)cursor\s+((?:with|without)\s+hold\s+)?for\s+([\s\S]+)$/i.exec(
      text,
    );
  if (declare) {
    return {
      kind: 'declare',
      name: ident(declare[1] as string),
      binary: /binary/i.test(declare[2] ?? ''),
      hold: /^with\b/i.test(declare[3] ?? ''),
      sql: rewriteForDuckDb(declare[4] as string, (n) => settings.get(n)),
    };
  }
  const fetch =
    /^(fetch|move)\s+(?:(next|forward|forward\s+all|all|forward\s+\d+|\d+)\s+)?(?:from\s+|in\s+)?("[^"]+"|\w+)$/i.exec(
      text,
    );
  if (fetch) {
    const how = (fetch[2] ?? 'next').toLowerCase();
    const count = /all/.test(how) ? 0 : /\d+/.test(how) ? Number(/\d+/.exec(how)?.[0]) : 1;
    return {
      kind: 'fetch',
      name: ident(fetch[3] as string),
      count,
      move: fetch[1]?.toLowerCase() === 'move',
    };
  }
  if (/^(fetch|move)\b/i.test(text)) {
    throw new ProtocolError('0A000', 'only forward FETCH/MOVE (NEXT, FORWARD n, ALL) is supported');
  }
  const close = /^close\s+(all|"[^"]+"|\w+)$/i.exec(text);
  if (close)
    return {
      kind: 'close-cursor',
      name: /^all$/i.test(close[1] as string) ? undefined : ident(close[1] as string),
    };
  return undefined;
}

function ident(raw: string): string {
  return raw.startsWith('"') ? raw.slice(1, -1) : raw.toLowerCase();
}

const MAX_CURSORS = 100;

/** The open SQL cursors of one connection. */
export class Cursors {
  #open = new Map<string, { cursor: Cursor; binary: boolean; hold: boolean }>();

  /** Run the query and keep its result open under the cursor's name. */
  async declare(
    session: EngineSession,
    plan: Extract<CursorPlan, { kind: 'declare' }>,
    signal: AbortSignal,
  ): Promise<void> {
    if (this.#open.has(plan.name)) throw new ProtocolError('42P03', `cursor "${plan.name}" already exists`);
    if (this.#open.size >= MAX_CURSORS)
      throw new ProtocolError('53400', `too many open cursors (limit ${MAX_CURSORS})`);
    const result = await session.run(plan.sql, { signal });
    this.#open.set(plan.name, {
      cursor: new RowCursor(result, wireColumns(result.columns, [])),
      binary: plan.binary,
      hold: plan.hold,
    });
  }

  /** The cursor's result columns in the given formats (none = the cursor's own). */
  columns(name: string, formats: number[]) {
    const entry = this.#get(name);
    return wireColumns(entry.cursor.result.columns, formats.length > 0 ? formats : [entry.binary ? 1 : 0]);
  }

  /** Whether a cursor of this name is open. */
  has(name: string): boolean {
    return this.#open.has(name);
  }

  /** Send up to `count` rows (0 = all) in the given formats; returns how many were sent. */
  async fetch(
    sink: Sink,
    name: string,
    count: number,
    formats: number[],
    signal: AbortSignal,
    move = false,
  ): Promise<number> {
    const entry = this.#get(name);
    entry.cursor.columns = this.columns(name, formats);
    const before = entry.cursor.rowsSent;
    const discard: Sink = { send: async () => {} };
    await entry.cursor.send(move ? discard : sink, count, signal);
    return entry.cursor.rowsSent - before;
  }

  /** Close one cursor, or all when `name` is undefined. */
  async close(name?: string): Promise<void> {
    if (name !== undefined) {
      const entry = this.#get(name);
      this.#open.delete(name);
      await entry.cursor.close();
      return;
    }
    const all = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(all.map((e) => e.cursor.close()));
  }

  /** Transaction end: cursors without WITH HOLD close. */
  async endTransaction(): Promise<void> {
    const ending = [...this.#open].filter(([, e]) => !e.hold);
    for (const [name] of ending) this.#open.delete(name);
    await Promise.all(ending.map(([, e]) => e.cursor.close()));
  }

  #get(name: string) {
    const entry = this.#open.get(name);
    if (!entry) throw new ProtocolError('34000', `cursor "${name}" does not exist`);
    return entry;
  }
}
