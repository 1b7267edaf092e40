import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { openEmbeddedLog } from '../../src/bus/log/embedded.js';
import { silentLogger } from '../../src/observe/index.js';
import { readAll } from './log-contract.js';
import { type Ack, CRASH_PARTITIONS, CRASH_TOPIC, crashValue } from './log-crash-writer.js';

const WRITER = fileURLToPath(new URL('./log-crash-writer.js', import.meta.url));
const KILLS = 20;

test('crash: appends killed with SIGKILL 20 times keep every acknowledged event, in order, without garbage', async () => {
  const dir = join(await mkdtemp(join(tmpdir(), 'sluice-eventlog-crash-')), 'bus');
  /** Expected value of every acknowledged offset, per partition. */
  const acked = Array.from({ length: CRASH_PARTITIONS }, () => new Map<bigint, Buffer>());
  /** Records of each partition already checked to be intact values. */
  const checked = Array.from({ length: CRASH_PARTITIONS }, () => 0);
  try {
    for (let run = 1; run <= KILLS; run++) {
      const child = fork(WRITER, [dir, String(run)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const exited = once(child, 'exit');
      let acks = 0;
      child.on('message', (m: Ack | 'ready') => {
        if (m === 'ready') return;
        acks++;
        for (let i = 0; i < m.count; i++) {
          acked[m.partition]!.set(BigInt(m.first) + BigInt(i), crashValue(m.run, m.caller, m.seq + i));
        }
      });
      await once(child, 'message');
      // Kill at a varying moment while appends are in flight.
      await sleep(10 + ((run * 53) % 160));
      child.kill('SIGKILL');
      await exited;
      assert.equal(child.signalCode, 'SIGKILL', `run ${run} ended before it was killed`);

      const log = await openEmbeddedLog({
        dir,
        log: silentLogger,
        segmentBytes: 256 * 1024,
        retentionCheckMs: 0,
      });
      try {
        for (let p = 0; p < CRASH_PARTITIONS; p++) {
          const records = await readAll(log, CRASH_TOPIC, p);
          records.forEach((r, i) => {
            assert.equal(r.offset, BigInt(i), `partition ${p}: offsets are contiguous from 0`);
            // Records checked after an earlier run are compared below if acknowledged.
            if (i < checked[p]!) return;
            const v = JSON.parse(Buffer.from(r.value).toString('utf8')) as {
              run: number;
              caller: number;
              seq: number;
            };
            assert.ok(
              Buffer.from(r.value).equals(crashValue(v.run, v.caller, v.seq)),
              `partition ${p} offset ${i} intact`,
            );
          });
          checked[p] = records.length;
          for (const [offset, value] of acked[p]!) {
            const r = records[Number(offset)];
            assert.ok(r, `run ${run}: acknowledged offset ${offset} of partition ${p} is missing`);
            assert.ok(
              Buffer.from(r.value).equals(value),
              `run ${run}: offset ${offset} of partition ${p} differs`,
            );
          }
        }
      } finally {
        await log.close();
      }
      assert.ok(run > 1 || acks > 0, 'the first run acknowledged appends before it was killed');
    }
    const total = acked.reduce((n, m) => n + m.size, 0);
    assert.ok(total > 1000, `only ${total} acknowledged records over ${KILLS} runs`);
  } finally {
    await rm(dirname(dir), { recursive: true, force: true });
  }
});

function dirname(path: string): string {
  return join(path, '..');
}
