import { createTestDatabase } from '../helpers/postgres.js';
import { useS3 } from '../helpers/s3.js';
import { openCatalogEnv } from '../table/table-helpers.js';
import { systemTableSuite } from './system-suite.js';

systemTableSuite('PostgreSQL + S3', async () => {
  const db = await createTestDatabase();
  const s3 = await useS3();
  const storage = s3.storage('warehouse');
  const env = await openCatalogEnv({ metaUrl: db.url, storage });
  return {
    env,
    storage,
    async close() {
      await env.close();
      await s3.stop();
      await db.drop();
    },
  };
});
