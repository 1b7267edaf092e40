import { createTestDatabase } from '../helpers/postgres.js';
import { useS3 } from '../helpers/s3.js';
import { historySuite } from './history-suite.js';

historySuite('PostgreSQL + S3', async () => {
  const db = await createTestDatabase();
  const s3 = await useS3();
  return {
    sluiceYaml: `metastore: { url: "${db.url}", poolMax: 4 }\nstorage: ${JSON.stringify(s3.storage('lake'))}\n`,
    async close() {
      await s3.stop();
      await db.drop();
    },
  };
});
