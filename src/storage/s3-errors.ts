import { BackendError, isNetworkErrorCode, NotFoundError, redactText, SluiceError } from '../util/index.js';

/** What was being done when an S3 call failed, for the error message. */
export interface S3ErrorContext {
  op: string;
  /** The store URL (`s3://bucket/prefix`). */
  url: string;
  /** The endpoint actually called, for connection errors. */
  endpoint: string;
  key?: string;
}

/** S3 SDK error names for requests that timed out before any answer. */
const TIMEOUT_NAMES = new Set(['TimeoutError', 'RequestTimeout']);

const ACCESS_NAMES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
]);

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  errors?: { code?: string }[];
  $metadata?: { httpStatusCode?: number };
}

/** The HTTP status of an SDK error, if it got a response. */
export function httpStatus(err: unknown): number | undefined {
  return (err as SdkError | null)?.$metadata?.httpStatusCode;
}

/** The S3 error code (`NoSuchKey`, `PreconditionFailed`...) or Node.js error code of an SDK error. */
export function s3Code(err: unknown): string | undefined {
  const e = err as SdkError | null;
  return e?.code ?? e?.errors?.find((x) => x.code)?.code ?? e?.name;
}

/**
 * Turn an SDK error into a SluiceError whose message says what failed and what to check.
 * Messages never carry credentials: only names, codes and redacted SDK text.
 */
export function mapS3Error(err: unknown, ctx: S3ErrorContext): Error {
  if (err instanceof SluiceError) return err;
  const e = (err ?? {}) as SdkError;
  if (e.name === 'AbortError') return err as Error;
  const code = s3Code(err) ?? 'Error';
  const status = httpStatus(err);
  const what = ctx.key === undefined ? ctx.url : `${JSON.stringify(ctx.key)} in ${ctx.url}`;
  if (code === 'NoSuchKey' || (status === 404 && code === 'NotFound')) {
    return new NotFoundError(`object ${what} not found`, undefined, { cause: err });
  }
  if (code === 'NoSuchBucket') {
    return new BackendError(
      `S3 ${ctx.op} failed: the bucket of ${ctx.url} does not exist`,
      'create the bucket, or fix storage.url',
      { cause: err },
    );
  }
  if (ACCESS_NAMES.has(code) || status === 403) {
    return new BackendError(
      `S3 ${ctx.op} of ${what} was denied (${code})`,
      'check the credentials (storage.accessKeyId/secretAccessKey, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_PROFILE) and the bucket policy',
      { cause: err },
    );
  }
  if (code === 'CredentialsProviderError') {
    return new BackendError(
      `no S3 credentials found for ${ctx.url}`,
      'set storage.accessKeyId and storage.secretAccessKey, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or AWS_PROFILE',
      { cause: err },
    );
  }
  if (
    isNetworkErrorCode(code) ||
    TIMEOUT_NAMES.has(code) ||
    (status === undefined && /ECONNREFUSED|ENOTFOUND|timed? ?out/i.test(e.message ?? ''))
  ) {
    return new BackendError(
      `cannot reach the S3 endpoint ${ctx.endpoint} (${code}) during ${ctx.op} of ${what}`,
      'check storage.endpoint (or AWS_ENDPOINT_URL_S3) and that the server is running and reachable',
      { cause: err },
    );
  }
  const detail = redactText(e.message ?? String(err)).split('\n')[0];
  return new BackendError(
    `S3 ${ctx.op} of ${what} failed: ${code}${status ? ` (HTTP ${status})` : ''}: ${detail}`,
    undefined,
    { cause: err },
  );
}
