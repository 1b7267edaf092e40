/**
 * One HTTP request with the policies an API source needs: credentials, a request timeout, a
 * shared rate limit, and retries with exponential backoff and jitter on network errors, 5xx,
 * 408 and 429 (honouring Retry-After). When retries are spent the error names the last status
 * and an excerpt of the last body.
 */
import { assertReachableUrl, BackendError, InvalidInputError, redactText } from '../../util/index.js';
import type { Authenticator } from './auth.js';
import { type BackoffOptions, backoffDelayMs, retryAfterMs, wait } from './backoff.js';
import type { RateLimiter } from './rate-limit.js';

/** A request as recorded in the ledger (credentials are added when it is sent, never recorded). */
export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** A complete response. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Policies of an HTTP client. */
export interface HttpClientOptions {
  auth?: Authenticator;
  /** Allow link-local and cloud-metadata addresses (refused by default: they hand out credentials). */
  allowLinkLocal?: boolean;
  limiter?: RateLimiter;
  timeoutMs: number;
  maxAttempts: number;
  backoff: BackoffOptions;
  /** Largest response body accepted. */
  maxBodyBytes?: number;
  /** Called before each retry, for logs and metrics. */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
}

const RETRY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
const DEFAULT_MAX_BODY = 1024 ** 3;

function excerpt(body: Buffer): string {
  const text = body.subarray(0, 300).toString('utf8').replace(/\s+/g, ' ').trim();
  return redactText(body.length > 300 ? `${text}…` : text);
}

async function readBody(res: Response, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (!res.body) return Buffer.alloc(0);
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > max)
      throw new BackendError(
        `response body larger than ${max} bytes`,
        'use pagination or a smaller page size',
      );
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks, size);
}

/** Sends requests with retries; one instance is shared by the streams of a source. */
export class HttpClient {
  readonly #o: HttpClientOptions;

  constructor(o: HttpClientOptions) {
    this.#o = o;
  }

  /**
   * Send a request until it succeeds (2xx) or the attempts are spent.
   * @throws BackendError with the last status and body excerpt; aborts propagate.
   */
  async send(req: HttpRequest, signal?: AbortSignal): Promise<HttpResponse> {
    let last = '';
    let authRetried = false;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      await this.#o.limiter?.take(signal);
      let delayMs: number | undefined;
      try {
        const res = await this.#once(req, signal);
        if (res.status >= 200 && res.status < 300) return res;
        last = `HTTP ${res.status}: ${excerpt(res.body)}`;
        if (res.status === 401 && this.#o.auth && !authRetried) {
          // A token may have expired early: fetch a new one once.
          authRetried = true;
          this.#o.auth.invalidate();
          attempt--;
          continue;
        }
        if (!RETRY_STATUS.has(res.status))
          throw new BackendError(
            `${req.method} ${redactText(req.url)} failed: ${last}`,
            'check the URL, parameters and credentials',
            {
              cause: { status: res.status },
            },
          );
        delayMs = retryAfterMs(res.headers['retry-after']);
        if (delayMs !== undefined) delayMs = Math.min(delayMs, this.#o.backoff.maxMs);
      } catch (err) {
        if (err instanceof BackendError || err instanceof InvalidInputError || signal?.aborted) throw err;
        last = `${(err as Error).name === 'TimeoutError' ? `no response within ${this.#o.timeoutMs} ms` : networkMessage(err)}`;
      }
      if (attempt >= this.#o.maxAttempts)
        throw new BackendError(
          `${req.method} ${redactText(req.url)} failed after ${attempt} attempts; last: ${last}`,
          'the API may be down or rate limiting: raise retry.max_attempts or lower rate_limit',
        );
      delayMs ??= backoffDelayMs(attempt, this.#o.backoff);
      this.#o.onRetry?.({ attempt, delayMs, reason: last });
      await wait(delayMs, signal);
    }
  }

  async #once(req: HttpRequest, signal?: AbortSignal): Promise<HttpResponse> {
    const url = new URL(req.url);
    await assertReachableUrl(url, { allowLinkLocal: this.#o.allowLinkLocal });
    const headers = new Headers(req.headers);
    if (!headers.has('accept'))
      headers.set('accept', 'application/json, application/x-ndjson, text/csv, application/xml, */*');
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    await this.#o.auth?.apply(headers, url, signal);
    const timeout = AbortSignal.timeout(this.#o.timeoutMs);
    const res = await fetch(url, {
      method: req.method,
      headers,
      body,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const out: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      out[k] = v;
    });
    return {
      status: res.status,
      headers: out,
      body: await readBody(res, this.#o.maxBodyBytes ?? DEFAULT_MAX_BODY),
    };
  }
}

function networkMessage(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return `network error: ${e.message ?? String(err)}${cause ? ` (${cause})` : ''}`;
}
