/**
 * An in-process S3-compatible server for tests: s3rver (files in a temp directory) behind a
 * small front that fills the gaps the storage tests rely on:
 * - conditional writes: s3rver ignores `If-None-Match: *` on PutObject and
 *   CompleteMultipartUpload. Real S3 honours it (since 2024): the write fails with
 *   412 PreconditionFailed when the key exists. The front serialises writes per key and answers
 *   412 itself, as S3 documents. Serialising every write also keeps s3rver, which writes objects
 *   in place, from interleaving two bodies;
 * - ListObjectsV2: s3rver encrypts continuation tokens with DES, which OpenSSL 3 no longer
 *   offers (every truncated listing fails with 500), and lists in directory order rather than
 *   key order. The front answers ListObjectsV2 from s3rver's store, sorted, with plain tokens;
 * - credentials: s3rver does not check V4 signatures; the front at least rejects unknown
 *   access key ids with 403 InvalidAccessKeyId, so that "access denied" paths can be exercised.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StorageOptions } from '../../src/storage/index.js';

/** A running S3-compatible endpoint and the credentials it accepts. */
export interface S3Server {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

/** A server plus a key prefix of its own: test files sharing one server do not see each other. */
export interface S3Fixture extends S3Server {
  prefix: string;
  /** Storage options for `s3://bucket/<prefix>/<sub>`. */
  storage(sub?: string): StorageOptions;
}

interface S3rverObject {
  key: string;
  size: number;
  lastModifiedDate: Date;
  metadata: { etag?: string };
}
interface S3rverInstance {
  configureBuckets(): Promise<void>;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  store: {
    existsObject(bucket: string, key: string): Promise<boolean>;
    listObjects(
      bucket: string,
      o: { prefix?: string; maxKeys?: number },
    ): Promise<{ objects: S3rverObject[] }>;
  };
  logger?: { close(): void };
}
type S3rverClass = new (o: Record<string, unknown>) => S3rverInstance;

const require = createRequire(import.meta.url);
/** s3rver's only account. */
const ACCESS_KEY_ID = 'S3RVER';
const SECRET_ACCESS_KEY = 'S3RVER';

/** Start s3rver on 127.0.0.1 and a free port, with a fresh temp directory and one bucket. */
export async function startS3(o: { bucket?: string } = {}): Promise<S3Server> {
  const S3rver = require('s3rver') as S3rverClass;
  const bucket = o.bucket ?? 'sluice-test';
  const dir = await mkdtemp(join(tmpdir(), 'sluice-s3-'));
  const s3 = new S3rver({ directory: dir, silent: true, configureBuckets: [{ name: bucket }] });
  await s3.configureBuckets();
  const front = new Front(s3);
  const server = createServer((req, res) => {
    front.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'InternalError', String(err));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      s3.logger?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The server named by SLUICE_TEST_S3_ENDPOINT (+ _BUCKET, _ACCESS_KEY_ID, _SECRET_ACCESS_KEY) when
 * a suite runner started one for all test files, else a server of our own; either way with a
 * fresh key prefix. `stop()` stops only a server this call started.
 */
export async function useS3(): Promise<S3Fixture> {
  const env = process.env;
  const server: S3Server = env.SLUICE_TEST_S3_ENDPOINT
    ? {
        endpoint: env.SLUICE_TEST_S3_ENDPOINT,
        bucket: env.SLUICE_TEST_S3_BUCKET ?? 'sluice-test',
        accessKeyId: env.SLUICE_TEST_S3_ACCESS_KEY_ID ?? ACCESS_KEY_ID,
        secretAccessKey: env.SLUICE_TEST_S3_SECRET_ACCESS_KEY ?? SECRET_ACCESS_KEY,
        stop: async () => {},
      }
    : await startS3();
  const prefix = `t-${process.pid}-${randomBytes(4).toString('hex')}`;
  return {
    ...server,
    prefix,
    storage: (sub?: string) => ({
      url: `s3://${server.bucket}/${prefix}${sub ? `/${sub}` : ''}`,
      endpoint: server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      accessKeyId: server.accessKeyId,
      secretAccessKey: server.secretAccessKey,
    }),
  };
}

/** Environment variables that make useS3() in child processes reuse `s`. */
export function s3Env(s: S3Server): Record<string, string> {
  return {
    SLUICE_TEST_S3_ENDPOINT: s.endpoint,
    SLUICE_TEST_S3_BUCKET: s.bucket,
    SLUICE_TEST_S3_ACCESS_KEY_ID: s.accessKeyId,
    SLUICE_TEST_S3_SECRET_ACCESS_KEY: s.secretAccessKey,
  };
}

class Front {
  readonly #s3: S3rverInstance;
  readonly #pass: (req: IncomingMessage, res: ServerResponse) => void;
  /** Tail of the queue of writes per `bucket/key`. */
  readonly #queues = new Map<string, Promise<void>>();

  constructor(s3: S3rverInstance) {
    this.#s3 = s3;
    this.#pass = s3.callback();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://s3.local');
    const [bucket = '', ...rest] = url.pathname.slice(1).split('/');
    const key = rest.map(decodeURIComponent).join('/');
    const id = credentialOf(req, url);
    if (id !== ACCESS_KEY_ID) {
      await drain(req);
      return sendError(
        res,
        403,
        'InvalidAccessKeyId',
        'The AWS Access Key Id you provided does not exist in our records.',
      );
    }
    if (req.method === 'GET' && key === '' && url.searchParams.get('list-type') === '2') {
      if (!url.searchParams.has('delimiter')) return this.#listV2(decodeURIComponent(bucket), url, res);
    }
    const isWrite =
      key !== '' &&
      ((req.method === 'PUT' && !url.searchParams.has('partNumber') && !url.searchParams.has('tagging')) ||
        (req.method === 'POST' && url.searchParams.has('uploadId')));
    if (!isWrite) return this.#pass(req, res);
    await this.#serialised(`${bucket}/${key}`, async () => {
      if (req.headers['if-none-match'] === '*' && (await this.#s3.store.existsObject(bucket, key))) {
        await drain(req);
        return sendError(
          res,
          412,
          'PreconditionFailed',
          'At least one of the pre-conditions you specified did not hold',
        );
      }
      const done = new Promise<void>((resolve) => res.once('close', resolve));
      this.#pass(req, res);
      await done;
    });
  }

  async #serialised(id: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.#queues.get(id) ?? Promise.resolve();
    const run = prev.then(fn);
    const tail = run.catch(() => {});
    this.#queues.set(id, tail);
    try {
      await run;
    } finally {
      if (this.#queues.get(id) === tail) this.#queues.delete(id);
    }
  }

  async #listV2(bucket: string, url: URL, res: ServerResponse): Promise<void> {
    const q = url.searchParams;
    const prefix = q.get('prefix') ?? '';
    const maxKeys = Math.min(1000, Number(q.get('max-keys') ?? 1000));
    const token = q.get('continuation-token');
    const after = token ? Buffer.from(token, 'base64url').toString('utf8') : (q.get('start-after') ?? '');
    const { objects } = await this.#s3.store.listObjects(bucket, {
      prefix: prefix || undefined,
      maxKeys: Infinity,
    });
    const sorted = objects
      .filter((o) => o.key.startsWith(prefix) && byteCompare(o.key, after) > 0)
      .sort((a, b) => byteCompare(a.key, b.key));
    const page = sorted.slice(0, maxKeys);
    const truncated = sorted.length > page.length;
    const last = page.at(-1);
    const xml = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
      tag('Name', bucket),
      tag('Prefix', prefix),
      token ? tag('ContinuationToken', token) : '',
      q.has('start-after') ? tag('StartAfter', q.get('start-after') ?? '') : '',
      tag('KeyCount', String(page.length)),
      tag('MaxKeys', String(maxKeys)),
      tag('IsTruncated', String(truncated)),
      truncated && last ? tag('NextContinuationToken', Buffer.from(last.key).toString('base64url')) : '',
      ...page.map(
        (o) =>
          `<Contents>${tag('Key', o.key)}${tag('LastModified', o.lastModifiedDate.toISOString())}${tag(
            'ETag',
            o.metadata.etag ?? '',
          )}${tag('Size', String(o.size))}${tag('StorageClass', 'STANDARD')}</Contents>`,
      ),
      '</ListBucketResult>',
    ].join('');
    res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
    res.end(xml);
  }
}

/** The access key id of a V4-signed request (header or presigned query). */
function credentialOf(req: IncomingMessage, url: URL): string | undefined {
  const auth = req.headers.authorization;
  const credential = auth ? /Credential=([^,\s]+)/.exec(auth)?.[1] : url.searchParams.get('X-Amz-Credential');
  return credential?.split('/')[0];
}

function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function tag(name: string, value: string): string {
  const escaped = value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<${name}>${escaped}</${name}>`;
}

function drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (req.readableEnded) return resolve();
    req.on('end', resolve).on('error', () => resolve());
    req.resume();
  });
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const xml = `<?xml version="1.0" encoding="UTF-8"?><Error>${tag('Code', code)}${tag('Message', message)}</Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
  res.end(xml);
}
