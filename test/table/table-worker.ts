/**
 * Child process of concurrency.test.ts. Arguments: mode, metastore URL, storage URL, table
 * name, worker number, count.
 * - `append`: `count` appends of 100 rows with ids worker*100000 + batch*100 + i.
 * - `loop`: commits until the table has `count` snapshots, cycling append / upsert / compact;
 *   meant to be killed at any moment.
 */
import { openCatalog } from '../../src/catalog/index.js';
import { openDuck } from '../../src/duck/index.js';
import { openMetaStore } from '../../src/metastore/index.js';
import { openObjectStore } from '../../src/storage/index.js';
import { openTable } from '../../src/table/index.js';

async function main(
  mode: string,
  metaUrl: string,
  storeUrl: string,
  name: string,
  worker: number,
  count: number,
) {
  const store = await openObjectStore({ url: storeUrl });
  const meta = await openMetaStore(metaUrl);
  const duck = await openDuck({ threads: 1, memoryLimit: '256MB', maxConnections: 2 });
  const catalog = openCatalog({ meta, store });
  const table = await openTable(catalog, store, duck, { namespace: ['t'], name });
  process.send?.('ready');
  if (mode === 'append') {
    for (let b = 0; b < count; b++) {
      const base = worker * 100000 + b * 100;
      await table.append(
        `SELECT ${base} + i AS id, ${worker} AS worker, 'w${worker}' AS note FROM range(100) t(i)`,
        {
          properties: { 'test.worker': String(worker) },
        },
      );
    }
  } else {
    for (;;) {
      await table.refresh();
      const n = table.snapshots().length;
      if (n >= count) break;
      const step = n % 3;
      if (step === 0) {
        await table.append(`SELECT ${n * 1000} + i AS id, ${n} AS worker, 'a' AS note FROM range(200) t(i)`);
      } else if (step === 1) {
        await table.upsert(
          `SELECT ${(n - 1) * 1000} + i AS id, ${n} AS worker, 'u' AS note FROM range(150, 250) t(i)`,
          {
            key: ['id'],
          },
        );
      } else {
        const r = await table.compact({ targetFileSizeBytes: 1 << 20 });
        if (!r.commit)
          await table.append(`SELECT ${n * 1000} + i AS id, ${n} AS worker, 'c' AS note FROM range(10) t(i)`);
      }
      process.send?.(`commit ${n}`);
    }
  }
  await duck.close();
  await meta.close();
  await store.close();
}

const [mode, metaUrl, storeUrl, name, worker, count] = process.argv.slice(2);
if (process.send && mode && metaUrl && storeUrl && name && worker && count) {
  main(mode, metaUrl, storeUrl, name, Number(worker), Number(count)).then(
    () => {
      process.send?.('done');
      process.disconnect();
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
