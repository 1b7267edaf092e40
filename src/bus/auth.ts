/**
 * Who is calling: OAuth2 bearer tokens (static tokens from the configuration, or JWTs
 * verified with a JWKS), their Nakadi scopes, and the per-resource authorization lists.
 */
import { timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import type { BusConfig } from '../config/index.js';
import { ForbiddenError, UnauthorizedError } from './problem.js';
import type { AuthorizationAttribute } from './types.js';

/** The Nakadi scopes. */
export const SCOPES = {
  eventTypeWrite: 'nakadi.event_type.write',
  streamWrite: 'nakadi.event_stream.write',
  streamRead: 'nakadi.event_stream.read',
  configWrite: 'nakadi.config.write',
} as const;

/** An authenticated caller. */
export interface Subject {
  /** `service:order-api`, `user:jane` or `anonymous`. */
  name: string;
  anonymous: boolean;
  attribute?: AuthorizationAttribute;
  scopes: ReadonlySet<string>;
  /** Listed in bus.auth.admins: passes every authorization list. */
  admin: boolean;
}

type AuthConfig = BusConfig['auth'];

/** Authenticates requests against the `bus.auth` configuration. */
export class Authenticator {
  readonly #config: AuthConfig;
  readonly #jwks?: ReturnType<typeof createRemoteJWKSet>;

  constructor(config: AuthConfig) {
    this.#config = config;
    if (config.jwks) this.#jwks = createRemoteJWKSet(new URL(config.jwks.url));
  }

  /**
   * The subject of a request.
   * @throws UnauthorizedError for a missing (where required), unknown or invalid token.
   */
  async authenticate(authorization: string | undefined, loopback: boolean): Promise<Subject> {
    if (!authorization) {
      const mode = this.#config.anonymous;
      if (mode === 'always' || (mode === 'loopback' && loopback)) {
        return { name: 'anonymous', anonymous: true, scopes: new Set(Object.values(SCOPES)), admin: true };
      }
      throw new UnauthorizedError('Full authentication is required to access this resource');
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) throw new UnauthorizedError('expected an "Authorization: Bearer TOKEN" header');
    const token = match[1];
    const given = Buffer.from(token);
    for (const t of this.#config.tokens) {
      const known = Buffer.from(t.token);
      if (known.length === given.length && timingSafeEqual(known, given)) {
        return this.#subject({ data_type: t.type, value: t.subject }, new Set(t.scopes));
      }
    }
    if (this.#jwks && this.#config.jwks && token.split('.').length === 3) {
      const j = this.#config.jwks;
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, this.#jwks, { issuer: j.issuer, audience: j.audience }));
      } catch (err) {
        throw new UnauthorizedError(`invalid token: ${(err as Error).message}`, { cause: err });
      }
      const sub = payload[j.subjectClaim];
      if (typeof sub !== 'string' || !sub)
        throw new UnauthorizedError(`invalid token: no "${j.subjectClaim}" claim`);
      return this.#subject({ data_type: j.subjectType, value: sub }, scopesOf(payload[j.scopeClaim]));
    }
    throw new UnauthorizedError('invalid token');
  }

  #subject(attribute: AuthorizationAttribute, scopes: Set<string>): Subject {
    const admin = this.#config.admins.some((a) => matches(a, attribute));
    return { name: `${attribute.data_type}:${attribute.value}`, anonymous: false, attribute, scopes, admin };
  }
}

function scopesOf(claim: unknown): Set<string> {
  if (typeof claim === 'string') return new Set(claim.split(/\s+/).filter(Boolean));
  if (Array.isArray(claim)) return new Set(claim.filter((s): s is string => typeof s === 'string'));
  return new Set();
}

function matches(rule: AuthorizationAttribute, attr: AuthorizationAttribute): boolean {
  if (rule.data_type === '*' && rule.value === '*') return true;
  return rule.data_type === attr.data_type && (rule.value === '*' || rule.value === attr.value);
}

/** @throws ForbiddenError when the subject lacks the scope. */
export function requireScope(subject: Subject, scope: string): void {
  if (!subject.scopes.has(scope)) throw new ForbiddenError(`Access denied: scope ${scope} is required`);
}

/**
 * Check a resource's authorization list (absent = open to every authenticated caller).
 * @throws ForbiddenError naming the operation and resource.
 */
export function authorize(
  subject: Subject,
  list: AuthorizationAttribute[] | undefined,
  operation: 'admin' | 'read' | 'write',
  resource: string,
): void {
  if (!list || subject.admin || subject.anonymous) return;
  if (subject.attribute && list.some((rule) => matches(rule, subject.attribute as AuthorizationAttribute)))
    return;
  throw new ForbiddenError(`Access on ${operation.toUpperCase()} ${resource} denied`);
}
