import type { ObjectStore } from './types.js';

/** The `storage` section of sluice.yaml, as validated by the config area. */
export interface StorageOptions {
  /** `file:///absolute/dir` or `s3://bucket/prefix`. */
  url: string;
  /** S3-compatible endpoint (MinIO, R2...); falls back to AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL. */
  endpoint?: string;
  /** S3 region; falls back to AWS_REGION / AWS_DEFAULT_REGION, then us-east-1. */
  region?: string;
  /** Path-style S3 URLs (`endpoint/bucket/key`); defaults to true when a custom endpoint is set. */
  forcePathStyle?: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Local read cache of remote objects (files for DuckDB). */
  cache?: { dir?: string; maxBytes?: number };
}

/** The subset of a pino logger the stores use. */
export interface StorageLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Process-level settings of openObjectStore that do not belong in sluice.yaml. */
export interface OpenStoreOptions {
  /** Cache directory used when `storage.cache.dir` is not set (e.g. `<project>/.sluice/cache`). */
  cacheDir?: string;
  log?: StorageLogger;
  /** Attempts per S3 request, first try included (default 3, or AWS_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** TCP connect timeout of S3 requests (default 5000). */
  connectTimeoutMs?: number;
}

/** Opens one kind of store; registered by URL scheme in index.ts. */
export type StoreFactory = (url: URL, config: StorageOptions, o: OpenStoreOptions) => Promise<ObjectStore>;
