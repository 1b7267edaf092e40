import type { Readable } from 'node:stream';

/** What a store knows about one object. */
export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
  etag?: string;
}

export interface SignalOptions {
  signal?: AbortSignal;
}

export interface GetOptions extends SignalOptions {
  /** Byte range, `end` inclusive (as in HTTP Range). */
  range?: { start: number; end?: number };
}

export interface ListOptions extends SignalOptions {
  /** Only keys sorting after this one (resume a listing). */
  startAfter?: string;
  /** Objects fetched per backend request. */
  pageSize?: number;
}

/** Bodies accepted by put: bytes, text, or a stream of chunks (consumed once). */
export type Body = Uint8Array | string | AsyncIterable<Uint8Array>;

/**
 * Object storage: the lake's bytes (raw zone, Parquet, manifests, metadata JSON).
 * Keys are relative, `/`-separated, validated: no `..`, no leading `/`, nothing escapes the root.
 */
export interface ObjectStore {
  /** The store's URL with secrets redacted (`file:///abs/dir`, `s3://bucket/prefix`). */
  readonly url: string;
  /** A stream of the object's bytes. @throws NotFoundError when the key does not exist. */
  get(key: string, o?: GetOptions): Promise<Readable>;
  /** The whole object in memory: for small objects (metadata, manifests). @throws NotFoundError */
  getBytes(key: string, o?: GetOptions): Promise<Buffer>;
  /** Write atomically: readers see the old object or the new one, never a partial one. */
  put(key: string, body: Body, o?: SignalOptions): Promise<void>;
  /** Write only if no object exists under the key; atomic. Returns false if it existed. */
  putIfAbsent(key: string, body: Body, o?: SignalOptions): Promise<boolean>;
  /** Metadata of the object, or undefined if absent. */
  head(key: string, o?: SignalOptions): Promise<ObjectInfo | undefined>;
  /** Objects whose key starts with `prefix`, in key order, fetched page by page. */
  list(prefix: string, o?: ListOptions): AsyncIterable<ObjectInfo>;
  /** Delete keys (missing keys are not an error); batched for remote stores. */
  delete(keys: string[], o?: SignalOptions): Promise<void>;
  /**
   * A local filesystem path holding the object's bytes, for readers that need files
   * (DuckDB): the file itself for a local store, a read-through cache entry for remote ones.
   */
  localPath(key: string, o?: SignalOptions): Promise<string>;
  /**
   * A fresh, empty local directory for files meant for `importFile`: inside a local store's
   * root (so imports are renames), in the cache directory for remote stores. The caller removes
   * it when done; leftovers of crashed processes are removed with the store's temp files.
   */
  stagingDir(o?: SignalOptions): Promise<string>;
  /**
   * Move a local file into the store under `key`, consuming the file: a rename when it lies on
   * the store's filesystem, else a copy (local) or an upload (S3). Atomic like `put`.
   */
  importFile(key: string, localPath: string, o?: SignalOptions): Promise<void>;
  /** Reachability and permissions check for `sluice status`. */
  health(o?: SignalOptions): Promise<{ ok: boolean; detail: string }>;
  close(): Promise<void>;
}
