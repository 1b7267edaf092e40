/**
 * Child process of log-crash.test.ts: opens the embedded log in argv[2] and appends batches
 * to two partitions from several concurrent callers until it is killed. After each append
 * resolves it reports the acknowledged offsets to the parent.
 */

import pino from 'pino';
import { openEmbeddedLog } from '../../src/bus/log/embedded.js';

export const CRASH_TOPIC = 'crash';
export const CRASH_PARTITIONS = 2;

/** What an acknowledged append reports: record i is expected at `first + i`. */
export interface Ack {
  partition: number;
  first: string;
  run: number;
  caller: number;
  seq: number;
  count: number;
}

/** The value of record `seq` of one caller of one run: JSON with a padding derived from it. */
export function crashValue(run: number, caller: number, seq: number): Buffer {
  return Buffer.from(JSON.stringify({ run, caller, seq, pad: 'p'.repeat((seq * 37) % 1500) }));
}

async function main(dir: string, run: number): Promise<void> {
  const log = await openEmbeddedLog({
    dir,
    log: pino({ level: 'silent' }),
    segmentBytes: 256 * 1024,
    retentionCheckMs: 0,
  });
  if (!(await log.topicExists(CRASH_TOPIC))) {
    await log.createTopic(CRASH_TOPIC, {
      partitions: CRASH_PARTITIONS,
      retentionMs: 86_400_000,
      cleanupPolicy: 'delete',
    });
  }
  process.send?.('ready');
  const callers = 6;
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      const partition = caller % CRASH_PARTITIONS;
      for (let seq = 0; ; ) {
        const count = 1 + ((seq * 7 + caller) % 60);
        const records = Array.from({ length: count }, (_, i) => ({
          key: `c${caller}`,
          value: crashValue(run, caller, seq + i),
        }));
        const offsets = await log.append(CRASH_TOPIC, partition, records);
        const ack: Ack = { partition, first: String(offsets[0]), run, caller, seq, count };
        process.send?.(ack);
        seq += count;
      }
    }),
  );
}

const [dir, run] = process.argv.slice(2);
if (process.send && dir && run) {
  main(dir, Number(run)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
