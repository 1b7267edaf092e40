/** Queries run on the SQL page, kept in this browser (localStorage), newest first. */
import type { SqlResult } from './api-sql';

export interface HistoryEntry {
  sql: string;
  at: string;
  rows?: number;
  ok: boolean;
}

const KEY = 'sluice.sql.history';
/** Entries kept; older ones are forgotten. */
export const HISTORY_SIZE = 100;

/** The saved history (empty when storage is unavailable or holds something else). */
export function readHistory(): HistoryEntry[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(parsed) ? (parsed as HistoryEntry[]).filter((e) => typeof e?.sql === 'string') : [];
  } catch {
    return [];
  }
}

/** Put `entry` first (a repeated query moves up instead of appearing twice); returns the new history. */
export function addToHistory(entry: HistoryEntry): HistoryEntry[] {
  const next = [entry, ...readHistory().filter((e) => e.sql !== entry.sql)].slice(0, HISTORY_SIZE);
  try {
    localStorage.setItem(KEY, JSON.stringify(next));
  } catch {
    // storage full or disabled: the history lasts for this page only
  }
  return next;
}

/** RFC 4180 CSV of a result: header row, fields quoted when they hold a comma, quote or line break. */
export function resultCsv(result: SqlResult): string {
  const field = (v: unknown) => {
    const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const lines = [result.columns.map((c) => field(c.name)).join(',')];
  for (const row of result.rows) lines.push(row.map(field).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
