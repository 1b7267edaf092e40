/**
 * Compaction of closed segments (cleanupPolicy "compact"): of the records with a key, only the
 * newest per key is kept; records without a key stay. Offsets and timestamps never change, so
 * a compacted segment has gaps that readers skip. Each segment is rewritten to a temp file,
 * synced and renamed over the old one: a crash leaves either the old or the new file.
 */
import { open, rename } from 'node:fs/promises';
import { syncDir, writeFully } from './fs-util.js';
import { encodeStored, type StoredRecord } from './record.js';
import { Segment } from './segment.js';

/** Records written per write call while rewriting. */
const WRITE_BATCH = 1000;

/**
 * Compact `closed` (a partition's closed segments, oldest first) given the newest offset of
 * every key in the partition. Returns the segments that replace them, in the same order, and
 * how many records were removed.
 */
export async function compactSegments(
  closed: readonly Segment[],
  newest: ReadonlyMap<string, number>,
): Promise<{ segments: Segment[]; removed: number }> {
  const out: Segment[] = [];
  let removed = 0;
  for (const seg of closed) {
    let stale = 0;
    for await (const r of seg.records()) if (superseded(r, newest)) stale++;
    if (stale === 0) {
      out.push(seg);
      continue;
    }
    out.push(await rewrite(seg, newest));
    removed += stale;
  }
  return { segments: out, removed };
}

/** The newest offset of each key in `segments` (closed ones and the active one). */
export async function newestOffsets(segments: readonly Segment[]): Promise<Map<string, number>> {
  const newest = new Map<string, number>();
  for (const seg of segments) {
    for await (const r of seg.records()) if (r.key !== undefined) newest.set(r.key, r.offset);
  }
  return newest;
}

function superseded(r: StoredRecord, newest: ReadonlyMap<string, number>): boolean {
  return r.key !== undefined && (newest.get(r.key) ?? r.offset) > r.offset;
}

async function rewrite(seg: Segment, newest: ReadonlyMap<string, number>): Promise<Segment> {
  const next = new Segment(seg.dir, seg.base);
  const tmp = `${seg.path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    let batch: StoredRecord[] = [];
    const flush = async () => {
      const { bytes, positions } = encodeStored(batch);
      await writeFully(fh, bytes, next.size);
      for (const [i, r] of batch.entries()) next.track(r.offset, next.size + positions[i]!, r.timestamp);
      next.size += bytes.length;
      batch = [];
    };
    for await (const r of seg.records()) {
      if (superseded(r, newest)) continue;
      batch.push(r);
      if (batch.length >= WRITE_BATCH) await flush();
    }
    if (batch.length) await flush();
    await fh.datasync();
    next.ino = (await fh.stat()).ino;
  } finally {
    await fh.close();
  }
  next.next = seg.next;
  next.maxTimestamp = seg.maxTimestamp;
  await rename(tmp, seg.path);
  await syncDir(seg.dir);
  await next.writeIndex();
  return next;
}
