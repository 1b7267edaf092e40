import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { BackendError, InvalidInputError, NotFoundError, redactUrl } from '../util/index.js';
import { checkRange, chunksOf, readAll } from './body.js';
import { type ReadCache, sharedReadCache } from './cache.js';
import { validateKey, validatePrefix } from './keys.js';
import type { OpenStoreOptions, StorageLogger, StorageOptions } from './options.js';
import { requestSignal, withRequestSignal } from './request-signal.js';
import { mapS3Error, s3Code } from './s3-errors.js';
import { uploadObject } from './s3-upload.js';
import type { Body, GetOptions, ListOptions, ObjectInfo, ObjectStore, SignalOptions } from './types.js';

/**
 * The SDK warns on every process start that its future releases will need a newer Node.js;
 * Sluice pins the SDK in its lockfile, so the notice is noise on users' terminals.
 */
function newS3Client(config: S3ClientConfig): S3Client {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client(config);
}

const DELETE_BATCH = 1000;
const DEFAULT_PAGE_SIZE = 1000;

/** Open the store of an `s3://bucket/prefix` URL; credentials and endpoint fall back to the AWS env vars. */
export async function openS3Store(
  url: URL,
  config: StorageOptions,
  o: OpenStoreOptions,
): Promise<ObjectStore> {
  const bucket = url.hostname;
  if (!bucket || url.search || url.hash) {
    throw new InvalidInputError(
      `storage url ${JSON.stringify(redactUrl(url.href))} is not an S3 location`,
      'write s3://bucket or s3://bucket/prefix',
    );
  }
  if (url.username || url.password) {
    throw new InvalidInputError(
      `storage url ${JSON.stringify(redactUrl(url.href))} carries credentials`,
      'set storage.accessKeyId/secretAccessKey (from environment references) or the AWS_* environment variables instead',
    );
  }
  let prefix: string;
  try {
    prefix = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '');
  } catch (err) {
    throw new InvalidInputError(
      `storage url ${JSON.stringify(url.href)} has a malformed %-escape`,
      undefined,
      {
        cause: err,
      },
    );
  }
  if (prefix) validateKey(prefix);
  if (Boolean(config.accessKeyId) !== Boolean(config.secretAccessKey)) {
    throw new InvalidInputError(
      'storage.accessKeyId and storage.secretAccessKey go together',
      'set both, or neither to use the AWS credential chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, instance roles...)',
    );
  }
  const env = process.env;
  const endpoint = config.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const region = config.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const clientConfig: S3ClientConfig = {
    region,
    endpoint,
    forcePathStyle: config.forcePathStyle ?? endpoint !== undefined,
    maxAttempts: o.maxAttempts,
    // Flexible checksums only where S3 requires them: S3-compatible servers often reject the newer headers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: o.connectTimeoutMs ?? 5000, requestTimeout: 120_000 },
  };
  if (config.accessKeyId && config.secretAccessKey) {
    clientConfig.credentials = {
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
      sessionToken: config.sessionToken,
    };
  }
  const cacheDir = config.cache?.dir ?? o.cacheDir ?? join(tmpdir(), 'sluice-cache');
  const cache = sharedReadCache({ dir: cacheDir, maxBytes: config.cache?.maxBytes, log: o.log });
  return new S3Store({
    client: newS3Client(clientConfig),
    bucket,
    prefix,
    endpoint: endpoint ? redactUrl(endpoint) : `https://s3.${region}.amazonaws.com`,
    cache,
    stagingRoot: join(cacheDir, '.staging'),
    log: o.log,
  });
}

interface S3StoreParts {
  client: S3Client;
  bucket: string;
  /** Key prefix inside the bucket, without slashes at either end ('' for the bucket root). */
  prefix: string;
  endpoint: string;
  cache: ReadCache;
  /** Parent of staging directories (files written locally before upload). */
  stagingRoot: string;
  log?: StorageLogger;
}

/** Objects in an S3 (or S3-compatible) bucket under a prefix; files for readers come from a read cache. */
export class S3Store implements ObjectStore {
  readonly url: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #endpoint: string;
  readonly #cache: ReadCache;
  readonly #stagingRoot: string;
  #stagingCleaned = false;
  readonly #log: StorageLogger | undefined;

  constructor(p: S3StoreParts) {
    this.#client = p.client;
    this.#bucket = p.bucket;
    this.#prefix = p.prefix ? `${p.prefix}/` : '';
    this.#endpoint = p.endpoint;
    this.#cache = p.cache;
    this.#stagingRoot = p.stagingRoot;
    this.#log = p.log;
    this.url = `s3://${p.bucket}${p.prefix ? `/${p.prefix}` : ''}`;
  }

  async get(key: string, o: GetOptions = {}): Promise<Readable> {
    const range = checkRange(o.range);
    const fullKey = this.#key(key);
    // The request lasts until its body is read (or destroyed), so the signal is released then.
    const req = requestSignal(o.signal);
    try {
      const r = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key: fullKey,
          Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined,
        }),
        { abortSignal: req.signal },
      );
      const body = r.Body as Readable;
      finished(body, () => req.release());
      return body;
    } catch (err) {
      req.release();
      // A range starting past the end: empty, as the local store answers.
      if (range && s3Code(err) === 'InvalidRange' && (await this.head(key, o))) return Readable.from([]);
      throw this.#error(err, 'get', key);
    }
  }

  async getBytes(key: string, o: GetOptions = {}): Promise<Buffer> {
    const stream = await this.get(key, o);
    try {
      return await readAll(stream);
    } catch (err) {
      throw this.#error(err, 'get', key);
    }
  }

  async put(key: string, body: Body, o: SignalOptions = {}): Promise<void> {
    await this.#upload(key, body, false, o.signal);
  }

  async putIfAbsent(key: string, body: Body, o: SignalOptions = {}): Promise<boolean> {
    return (await this.#upload(key, body, true, o.signal)) === 'written';
  }

  async head(key: string, o: SignalOptions = {}): Promise<ObjectInfo | undefined> {
    try {
      const r = await withRequestSignal(o.signal, (abortSignal) =>
        this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }), {
          abortSignal,
        }),
      );
      return { key, size: r.ContentLength ?? 0, lastModified: r.LastModified ?? new Date(0), etag: r.ETag };
    } catch (err) {
      const code = s3Code(err);
      if (code === 'NotFound' || code === 'NoSuchKey') return undefined;
      throw this.#error(err, 'head', key);
    }
  }

  async *list(prefix: string, o: ListOptions = {}): AsyncIterable<ObjectInfo> {
    validatePrefix(prefix);
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        const command = new ListObjectsV2Command({
          Bucket: this.#bucket,
          Prefix: this.#prefix + prefix,
          StartAfter: o.startAfter === undefined ? undefined : this.#prefix + o.startAfter,
          ContinuationToken: token,
          MaxKeys: Math.min(1000, Math.max(1, o.pageSize ?? DEFAULT_PAGE_SIZE)),
        });
        page = await withRequestSignal(o.signal, (abortSignal) =>
          this.#client.send(command, { abortSignal }),
        );
      } catch (err) {
        throw this.#error(err, 'list', prefix);
      }
      for (const c of page.Contents ?? []) {
        if (!c.Key) continue;
        yield {
          key: c.Key.slice(this.#prefix.length),
          size: c.Size ?? 0,
          lastModified: c.LastModified ?? new Date(0),
          etag: c.ETag,
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(keys: string[], o: SignalOptions = {}): Promise<void> {
    const full = keys.map((k) => this.#key(k));
    for (let i = 0; i < full.length; i += DELETE_BATCH) {
      const batch = full.slice(i, i + DELETE_BATCH);
      let failed: { Key?: string; Code?: string; Message?: string }[];
      try {
        const command = new DeleteObjectsCommand({
          Bucket: this.#bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        });
        const r = await withRequestSignal(o.signal, (abortSignal) =>
          this.#client.send(command, { abortSignal }),
        );
        failed = (r.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      } catch (err) {
        throw this.#error(err, 'delete', batch.length === 1 ? keys[i] : undefined);
      }
      if (failed.length > 0) {
        const first = failed[0]!;
        throw new BackendError(
          `S3 delete failed for ${failed.length} of ${batch.length} keys in ${this.url}; first: ${JSON.stringify(
            first.Key?.slice(this.#prefix.length),
          )}: ${first.Code}`,
          first.Code === 'AccessDenied' ? 'check the s3:DeleteObject permission' : 'retry the delete',
        );
      }
    }
  }

  async localPath(key: string, o: SignalOptions = {}): Promise<string> {
    const info = await this.head(key, o);
    if (!info) throw new NotFoundError(`object ${JSON.stringify(key)} not found in ${this.url}`);
    const id = `${this.url}\0${key}\0${info.etag ?? ''}\0${info.size}`;
    // The download is shared by concurrent callers, so one caller's signal does not cancel it.
    return this.#cache.localPath({ id, key, size: info.size }, async (tmp) => {
      try {
        const r = await this.#client.send(
          new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(key), IfMatch: info.etag }),
        );
        await pipeline(r.Body as Readable, createWriteStream(tmp));
      } catch (err) {
        throw this.#error(err, 'download', key);
      }
    });
  }

  async stagingDir(o: SignalOptions = {}): Promise<string> {
    o.signal?.throwIfAborted();
    try {
      await mkdir(this.#stagingRoot, { recursive: true });
      if (!this.#stagingCleaned) {
        this.#stagingCleaned = true;
        await removeStaleStaging(this.#stagingRoot);
      }
      return await mkdtemp(join(this.#stagingRoot, 'stage-'));
    } catch (err) {
      throw new BackendError(
        `cannot create a staging directory under ${this.#stagingRoot}: ${(err as { code?: string }).code ?? err}`,
        'check storage.cache.dir and its free space',
        { cause: err },
      );
    }
  }

  async importFile(key: string, localPath: string, o: SignalOptions = {}): Promise<void> {
    await this.#upload(key, createReadStream(localPath), false, o.signal);
    await rm(localPath, { force: true });
  }

  async health(o: SignalOptions = {}): Promise<{ ok: boolean; detail: string }> {
    try {
      const command = new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: this.#prefix, MaxKeys: 1 });
      await withRequestSignal(o.signal, (abortSignal) => this.#client.send(command, { abortSignal }));
      return { ok: true, detail: `${this.url} reachable at ${this.#endpoint}` };
    } catch (err) {
      return { ok: false, detail: this.#error(err, 'list').message };
    }
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }

  #key(key: string): string {
    return this.#prefix + validateKey(key);
  }

  async #upload(key: string, body: Body, ifAbsent: boolean, signal?: AbortSignal) {
    const fullKey = this.#key(key);
    try {
      // At most a few parts in flight, so one request signal serves the whole upload.
      return await withRequestSignal(signal, (requestSignal) =>
        uploadObject(
          { client: this.#client, bucket: this.#bucket, key: fullKey, ifAbsent, signal: requestSignal },
          chunksOf(body),
        ),
      );
    } catch (err) {
      throw this.#error(err, ifAbsent ? 'putIfAbsent' : 'put', key);
    }
  }

  #error(err: unknown, op: string, key?: string): Error {
    const mapped = mapS3Error(err, { op, key, url: this.url, endpoint: this.#endpoint });
    if (mapped !== err) this.#log?.debug({ err: mapped, op, store: this.url }, 's3 error');
    return mapped;
  }
}

/** Remove staging directories that crashed processes left behind (older than a day). */
async function removeStaleStaging(root: string): Promise<void> {
  const cutoff = Date.now() - 24 * 3600_000;
  for (const name of await readdir(root)) {
    const path = join(root, name);
    const st = await stat(path).catch(() => undefined);
    if (st && st.mtimeMs < cutoff) await rm(path, { recursive: true, force: true });
  }
}
