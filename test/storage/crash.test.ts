import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openObjectStore } from '../../src/storage/index.js';
import { patternBytes, sha256 } from './contract.js';

const WRITER = fileURLToPath(new URL('./crash-writer.js', import.meta.url));
const SIZE = 24 * 1024 * 1024;
const KEY = 'crash/object.bin';

interface Writer {
  child: ChildProcess;
  ready: Promise<unknown>;
  /** True once the put returned, false if the process died first. */
  done: Promise<boolean>;
  exited: Promise<unknown>;
}

function startWriter(url: string, seed: number): Writer {
  const child = fork(WRITER, [url, KEY, String(SIZE), String(seed)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = once(child, 'message');
  const exited = once(child, 'exit');
  const done = new Promise<boolean>((resolve) => {
    child.on('message', (m) => m === 'done' && resolve(true));
    child.on('exit', () => resolve(false));
  });
  return { child, ready, done, exited };
}

test('crash: a put killed at any moment leaves the old or the new object, never a mix', async (t) => {
  const parent = await mkdtemp(join(tmpdir(), 'sluice-crash-'));
  const url = pathToFileURL(join(parent, 'warehouse')).href;
  const store = await openObjectStore({ url });
  const hashes = new Map<number, string>();
  const hashOf = (seed: number) => {
    if (!hashes.has(seed)) hashes.set(seed, sha256(patternBytes(0, SIZE, seed)));
    return hashes.get(seed)!;
  };
  try {
    // Calibrate: one uninterrupted write gives the window in which kills land.
    const first = startWriter(url, 0);
    await first.ready;
    const started = Date.now();
    assert.equal(await first.done, true);
    const writeMs = Date.now() - started;
    await first.exited;
    assert.equal(sha256(await store.getBytes(KEY)), hashOf(0));

    let current = 0;
    let interrupted = 0;
    let replaced = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const w = startWriter(url, seed);
      await w.ready;
      // Most kills land during the write; some after it, when the new content must be complete.
      await sleep(Math.floor(Math.random() * writeMs * 1.6));
      const finished = await Promise.race([w.done, sleep(0, false)]);
      w.child.kill('SIGKILL');
      await w.exited;
      if (!finished && w.child.signalCode === 'SIGKILL') interrupted++;
      const got = sha256(await store.getBytes(KEY));
      assert.ok(
        got === hashOf(current) || got === hashOf(seed),
        `after kill ${seed}: neither old nor new content`,
      );
      if (got === hashOf(seed)) {
        current = seed;
        replaced++;
      }
      const keys: string[] = [];
      for await (const info of store.list('')) keys.push(info.key);
      assert.deepEqual(keys, [KEY]);
    }
    t.diagnostic(
      `write takes ~${writeMs} ms; ${interrupted} of 10 kills landed before the put returned; ${replaced} left the new content`,
    );
    const leftovers = await readdir(join(parent, 'warehouse', '.sluice-tmp'));
    t.diagnostic(`${leftovers.length} temp leftovers (hidden, removed by cleanLocalTemp)`);
  } finally {
    await store.close();
    await rm(parent, { recursive: true, force: true });
  }
});
