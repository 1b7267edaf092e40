/**
 * A child process committing to one table: `loop` commits until killed, `keys N` commits N
 * properties named `<worker>-<i>` and exits. Args: mode, sqlite path, store URL, table, worker, N.
 */
import { openCatalog } from '../../src/catalog/index.js';
import { openMetaStore } from '../../src/metastore/index.js';
import { openObjectStore } from '../../src/storage/index.js';

const [mode, dbPath, storeUrl, table, worker = 'w', count = '0'] = process.argv.slice(2);
const meta = await openMetaStore(`sqlite://${dbPath}`);
const store = await openObjectStore({ url: storeUrl as string });
const catalog = openCatalog({ meta, store, maxCommitAttempts: 100 });
const id = { namespace: ['proc'], name: table as string };
process.send?.('ready');
if (mode === 'loop') {
  for (let i = 0; ; i++) {
    await catalog.commitTable(
      id,
      [],
      [{ action: 'set-properties', updates: { [`${worker}-counter`]: String(i) } }],
    );
  }
}
for (let i = 0; i < Number(count); i++) {
  await catalog.commitTable(id, [], [{ action: 'set-properties', updates: { [`${worker}-${i}`]: 'x' } }]);
}
await meta.close();
await store.close();
process.send?.('done');
