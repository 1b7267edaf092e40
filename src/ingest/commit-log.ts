/**
 * What a table commit says about the ingestion behind it. Every snapshot an ingest task
 * commits carries, in its summary, the task, the raw objects it consumed (as `epoch:from-to`
 * ranges of ledger sequence numbers) and the incremental cursor after it. The table's
 * snapshots are the point of truth: after a crash, a raw object named there is never loaded
 * again, and the cursor is re-derived from the newest summary.
 */
import type { Snapshot } from '../table/index.js';

/** Summary property keys. */
export const SUMMARY = {
  task: 'sluice.ingest.task',
  objects: 'sluice.raw-objects',
  cursor: 'sluice.ingest.cursor',
  run: 'sluice.ingest.run',
  /** On a quarantine snapshot: its objects produced no commit of the sink table. */
  final: 'sluice.ingest.final',
} as const;

/** A raw object's place in its fetch. */
export interface ObjectRef {
  epoch: string;
  seq: number;
}

/** `epoch:seq`, the identity used in summaries. */
export const refKey = (r: ObjectRef): string => `${r.epoch}:${r.seq}`;

/** Compact encoding of object refs: `epoch:0-41,epoch2:3`, consecutive runs of seq merged. */
export function encodeRefs(refs: readonly ObjectRef[]): string {
  const byEpoch = new Map<string, number[]>();
  for (const r of refs) byEpoch.set(r.epoch, [...(byEpoch.get(r.epoch) ?? []), r.seq]);
  const out: string[] = [];
  for (const [epoch, seqs] of byEpoch) {
    seqs.sort((a, b) => a - b);
    let start = seqs[0] as number;
    let prev = start;
    const flush = () => out.push(`${epoch}:${start === prev ? start : `${start}-${prev}`}`);
    for (const s of seqs.slice(1)) {
      if (s === prev + 1 || s === prev) {
        prev = s;
        continue;
      }
      flush();
      start = s;
      prev = s;
    }
    flush();
  }
  return out.join(',');
}

/** The `epoch:seq` keys of an encoded list. */
export function decodeRefs(text: string | undefined): string[] {
  if (!text) return [];
  const out: string[] = [];
  for (const part of text.split(',')) {
    const i = part.lastIndexOf(':');
    if (i <= 0) continue;
    const epoch = part.slice(0, i);
    const [a, b] = part.slice(i + 1).split('-');
    const from = Number(a);
    const to = b === undefined ? from : Number(b);
    if (!Number.isInteger(from) || !Number.isInteger(to)) continue;
    for (let s = from; s <= to; s++) out.push(`${epoch}:${s}`);
  }
  return out;
}

/** The objects a task's snapshots name (`onlyFinal`: only snapshots marked final). */
export function consumedBy(snapshots: readonly Snapshot[], task: string, onlyFinal = false): Set<string> {
  return new Set(consumingSnapshots(snapshots, task, onlyFinal).keys());
}

/** For each object a task's snapshots name, the (first) snapshot naming it. */
export function consumingSnapshots(
  snapshots: readonly Snapshot[],
  task: string,
  onlyFinal = false,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of snapshots) {
    if (s.summary[SUMMARY.task] !== task) continue;
    if (onlyFinal && s.summary[SUMMARY.final] !== 'true') continue;
    for (const k of decodeRefs(s.summary[SUMMARY.objects]))
      if (!out.has(k)) out.set(k, String(s['snapshot-id']));
  }
  return out;
}

/** The cursor committed by the task's newest snapshot, per stream. */
export function lastCursor(snapshots: readonly Snapshot[], task: string): Record<string, string> | undefined {
  let best: Snapshot | undefined;
  for (const s of snapshots) {
    if (s.summary[SUMMARY.task] !== task || s.summary[SUMMARY.cursor] === undefined) continue;
    if (!best || s['sequence-number'] > best['sequence-number']) best = s;
  }
  const text = best?.summary[SUMMARY.cursor];
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Record<string, string>;
  } catch {
    return undefined;
  }
}

/** The later of two cursor values: numerically when both are numbers, else as text (ISO times sort as text). */
export function laterCursor(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const na = Number(a);
  const nb = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && !Number.isNaN(na) && !Number.isNaN(nb)) return nb > na ? b : a;
  return b > a ? b : a;
}
