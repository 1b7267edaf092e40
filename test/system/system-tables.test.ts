import { openCatalogEnv } from '../table/table-helpers.js';
import { systemTableSuite } from './system-suite.js';

systemTableSuite('SQLite + a local directory', async () => {
  const env = await openCatalogEnv();
  return { env, storage: env.storage, close: () => env.close() };
});
