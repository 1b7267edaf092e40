/**
 * Child process of crash.test.ts: opens a local store and overwrites one key with a large
 * body, slowly enough to be killed in the middle. Arguments: store URL, key, size, seed.
 */
import { openObjectStore } from '../../src/storage/index.js';
import { patternBody } from './contract.js';

async function main(url: string, key: string, size: number, seed: number): Promise<void> {
  const store = await openObjectStore({ url });
  process.send?.('ready');
  await store.put(key, patternBody(size, seed, 256 * 1024));
  process.send?.('done');
}

const [url, key, size, seed] = process.argv.slice(2);
if (process.send && url && key && size && seed) {
  main(url, key, Number(size), Number(seed)).then(
    () => process.disconnect(),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
