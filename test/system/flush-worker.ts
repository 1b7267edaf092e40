/**
 * Child process of the crash tests: flushes the outbox with a 1 ms claim lease and, on
 * reaching the stage named by the third argument, reports it and hangs until killed.
 * Arguments: metastore URL, storage options (JSON), stage.
 */
import { openMetaStore } from '../../src/metastore/index.js';
import { silentLogger } from '../../src/observe/index.js';
import { openObjectStore } from '../../src/storage/index.js';
import { flushSystemTables } from '../../src/system/index.js';

async function main(metaUrl: string, storage: string, stage: string) {
  const meta = await openMetaStore(metaUrl);
  const store = await openObjectStore(JSON.parse(storage));
  await flushSystemTables(
    { meta, store, log: silentLogger },
    {
      leaseMs: 1,
      onProgress: async (p) => {
        if (p.stage !== stage) return;
        process.send?.(`at ${stage}`);
        await new Promise(() => {});
      },
    },
  );
  process.send?.('finished');
}

const [metaUrl, storage, stage] = process.argv.slice(2);
if (process.send && metaUrl && storage && stage)
  main(metaUrl, storage, stage).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
