/**
 * Opening a partition directory: temp files of interrupted writes are removed, closed
 * segments load their index (or are scanned when it is missing or damaged) and the last
 * segment is scanned, a torn tail cut off and synced.
 */
import { open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../observe/index.js';
import { mkdirDurable, syncDir } from './fs-util.js';
import { parseSegmentFileName, Segment, segmentFileName } from './segment.js';

/** The segments of the partition in `dir`, oldest first; creates the first one when there is none. */
export async function recoverSegments(dir: string, log: Logger): Promise<Segment[]> {
  await mkdirDurable(dir);
  const names = await readdir(dir);
  for (const name of names) if (name.endsWith('.tmp')) await rm(join(dir, name), { force: true });
  const bases = names
    .map(parseSegmentFileName)
    .filter((b): b is number => b !== undefined)
    .sort((a, b) => a - b);
  if (bases.length === 0) {
    const fh = await open(join(dir, segmentFileName(0, 'log')), 'wx');
    await fh.close();
    await syncDir(dir);
    bases.push(0);
  }
  const segments: Segment[] = [];
  for (const [i, base] of bases.entries()) {
    const last = i === bases.length - 1;
    const path = join(dir, segmentFileName(base, 'log'));
    const loaded = last ? undefined : await Segment.loadIndex(dir, base, await stat(path));
    if (loaded) {
      segments.push(loaded);
      continue;
    }
    const { seg, dropped } = await Segment.scan(dir, base, last);
    if (dropped > 0) {
      log.warn(
        { segment: seg.path, droppedBytes: dropped, validBytes: seg.size },
        last ? 'event log: cut off a torn tail' : 'event log: a closed segment has invalid bytes at its end',
      );
    }
    segments.push(seg);
  }
  return segments;
}
