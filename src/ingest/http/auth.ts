/** Request authentication: bearer, basic, API key (header or query) and OAuth2 client credentials. */
import { BackendError } from '../../util/index.js';
import type { AuthSpec } from '../spec.js';

/** Adds credentials to a request; `invalidate` drops a cached token after a 401. */
export interface Authenticator {
  apply(headers: Headers, url: URL, signal?: AbortSignal): Promise<void>;
  invalidate(): void;
}

/** Fetches and caches OAuth2 client-credentials tokens, refreshed before they expire or after a 401. */
class OAuth2ClientCredentials implements Authenticator {
  readonly #spec: Extract<AuthSpec, { oauth2: unknown }>['oauth2'];
  readonly #timeoutMs: number;
  #token: { value: string; expiresAt: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(spec: Extract<AuthSpec, { oauth2: unknown }>['oauth2'], timeoutMs: number) {
    this.#spec = spec;
    this.#timeoutMs = timeoutMs;
  }

  async apply(headers: Headers, _url: URL, signal?: AbortSignal): Promise<void> {
    headers.set('authorization', `Bearer ${await this.#current(signal)}`);
  }

  invalidate(): void {
    this.#token = undefined;
  }

  #current(signal?: AbortSignal): Promise<string> {
    if (this.#token && this.#token.expiresAt > Date.now()) return Promise.resolve(this.#token.value);
    this.#pending ??= this.#fetch(signal).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetch(signal?: AbortSignal): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.#spec.scope) form.set('scope', this.#spec.scope);
    if (this.#spec.audience) form.set('audience', this.#spec.audience);
    const basic = Buffer.from(
      `${encodeURIComponent(this.#spec.client_id)}:${encodeURIComponent(this.#spec.client_secret)}`,
    ).toString('base64');
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    let res: Response;
    try {
      res = await fetch(this.#spec.token_url, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      throw new BackendError(`cannot reach the OAuth2 token endpoint ${this.#spec.token_url}`, undefined, {
        cause: err,
      });
    }
    const body = await res.text();
    let parsed: { access_token?: unknown; expires_in?: unknown } = {};
    try {
      parsed = JSON.parse(body);
    } catch {}
    if (!res.ok || typeof parsed.access_token !== 'string')
      throw new BackendError(
        `the OAuth2 token endpoint ${this.#spec.token_url} answered ${res.status} without an access token`,
        'check auth.oauth2.client_id and client_secret',
      );
    const ttlMs = (typeof parsed.expires_in === 'number' ? parsed.expires_in : 3600) * 1000;
    // Refresh a little early so a request never leaves with a token about to expire.
    this.#token = {
      value: parsed.access_token,
      expiresAt: Date.now() + Math.max(0, ttlMs - Math.min(60_000, ttlMs / 10)),
    };
    return parsed.access_token;
  }
}

/** The authenticator of an auth spec (none when unset). */
export function authenticator(spec: AuthSpec | undefined, timeoutMs: number): Authenticator | undefined {
  if (!spec) return undefined;
  if ('bearer' in spec) {
    const value = `Bearer ${spec.bearer.token}`;
    return { apply: async (h) => h.set('authorization', value), invalidate() {} };
  }
  if ('basic' in spec) {
    const value = `Basic ${Buffer.from(`${spec.basic.username}:${spec.basic.password}`).toString('base64')}`;
    return { apply: async (h) => h.set('authorization', value), invalidate() {} };
  }
  if ('api_key' in spec) {
    const { name, value, in: where } = spec.api_key;
    return {
      apply: async (h, url) => {
        if (where === 'query') url.searchParams.set(name, value);
        else h.set(name, value);
      },
      invalidate() {},
    };
  }
  return new OAuth2ClientCredentials(spec.oauth2, timeoutMs);
}
