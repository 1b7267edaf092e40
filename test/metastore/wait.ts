/** Small polling helpers for asynchronous outcomes. */
import type { MetaStore } from '../../src/metastore/index.js';

/** Resolve once `predicate` holds; reject after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Listen on `channel`, collecting payloads. */
export async function collect(
  store: MetaStore,
  channel: string,
): Promise<{ received: string[]; stop: () => Promise<void> }> {
  const received: string[] = [];
  const stop = await store.listen(channel, (p) => received.push(p));
  return { received, stop };
}
