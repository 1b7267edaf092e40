import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { openMetaStore } from '../../src/metastore/index.js';
import { openObjectStore } from '../../src/storage/index.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { type S3Fixture, useS3 } from '../helpers/s3.js';
import { catalogContract } from './contract.js';

let s3: S3Fixture;
before(async () => {
  s3 = await useS3();
});
after(async () => {
  await s3?.stop();
});

catalogContract('PostgreSQL + S3', async () => {
  const db = await createTestDatabase();
  const cacheDir = await mkdtemp(join(tmpdir(), 'sluice-catalog-cache-'));
  const meta = await openMetaStore(db.url, { poolMax: 12 });
  const store = await openObjectStore(s3.storage(`catalog-${Date.now()}`), { cacheDir });
  return {
    meta,
    store,
    async dispose() {
      await meta.close();
      await store.close();
      await db.drop();
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
});
