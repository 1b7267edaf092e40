/**
 * Who is calling and what they may do. Inside `sluice serve` the bus asks the platform first:
 * users' tokens, passwords and identity-provider JWTs (the `auth` section), authorized by the
 * one policy with event types as grant objects (read, write, admin). The Nakadi-compatible
 * path stays: static `bus.auth` tokens and `bus.auth.jwks` JWTs carry Nakadi scopes. Either
 * way, an event type's own authorization lists apply on top.
 */
import { timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import {
  AuthenticationError,
  authorize as authorizeByPolicy,
  type Grant,
  isAdmin,
  isLoopbackAddress,
  looksLikeJwt,
  looksLikeToken,
  type Authenticator as PlatformAuthenticator,
  type Principal,
} from '../auth/index.js';
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
  /** Listed in bus.auth.admins (or a platform administrator): passes every authorization list. */
  admin: boolean;
  /** A platform identity: grants decide instead of Nakadi scopes. */
  policy?: { principal: Principal; grants: readonly Grant[] };
  /** The platform roles of a platform identity (matched by `role` entries of authorization lists). */
  roles?: readonly string[];
}

/** The platform's users, tokens and grants, when the bus serves inside `sluice serve`. */
export interface PlatformAuth {
  authenticate: PlatformAuthenticator;
  grants(): Promise<readonly Grant[]>;
  /** `auth.required`: no anonymous callers from loopback either. */
  required: boolean;
  /** `auth.jwt` is configured: JWTs go to the platform first. */
  jwt: boolean;
}

type AuthConfig = BusConfig['auth'];

/** Authenticates requests against the `bus.auth` configuration. */
export class Authenticator {
  readonly #config: AuthConfig;
  readonly #jwks?: ReturnType<typeof createRemoteJWKSet>;
  readonly #platform?: PlatformAuth;

  constructor(config: AuthConfig, platform?: PlatformAuth) {
    this.#config = config;
    this.#platform = platform;
    if (config.jwks) this.#jwks = createRemoteJWKSet(new URL(config.jwks.url));
  }

  /**
   * The subject of a request.
   * @throws UnauthorizedError for a missing (where required), unknown or invalid token.
   */
  async authenticate(authorization: string | undefined, remoteAddress: string | undefined): Promise<Subject> {
    if (!authorization) {
      const mode = this.#config.anonymous;
      const loopback = isLoopbackAddress(remoteAddress) && !this.#platform?.required;
      if (mode === 'always' || (mode === 'loopback' && loopback)) {
        return { name: 'anonymous', anonymous: true, scopes: new Set(Object.values(SCOPES)), admin: true };
      }
      throw new UnauthorizedError('Full authentication is required to access this resource');
    }
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    if (token) {
      const given = Buffer.from(token);
      for (const t of this.#config.tokens) {
        const known = Buffer.from(t.token);
        if (known.length === given.length && timingSafeEqual(known, given)) {
          return this.#subject({ data_type: t.type, value: t.subject }, new Set(t.scopes));
        }
      }
    }
    const platform = this.#platform;
    const basic = /^Basic\s/i.test(authorization);
    if (platform && (basic || (token && (looksLikeToken(token) || (platform.jwt && looksLikeJwt(token)))))) {
      try {
        return await this.#platformSubject(
          platform,
          await platform.authenticate(authorization, remoteAddress),
        );
      } catch (err) {
        // A JWT the platform's identity provider rejects may still be one of bus.auth.jwks.
        if (!(err instanceof AuthenticationError) || !token || !this.#jwks || !looksLikeJwt(token))
          throw err instanceof AuthenticationError
            ? new UnauthorizedError(err.message.split('\n')[0] ?? '')
            : err;
      }
    }
    if (!token) throw new UnauthorizedError('expected an "Authorization: Bearer TOKEN" header');
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

  async #platformSubject(platform: PlatformAuth, principal: Principal): Promise<Subject> {
    const attribute = { data_type: 'user', value: principal.name };
    return {
      ...this.#subject(attribute, new Set()),
      roles: principal.roles,
      admin: isAdmin(principal) || this.#config.admins.some((a) => matches(a, attribute)),
      policy: { principal, grants: await platform.grants() },
    };
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

/** @throws ForbiddenError when a Nakadi-path subject lacks the scope (platform identities have grants instead). */
export function requireScope(subject: Subject, scope: string): void {
  if (subject.policy) return;
  if (!subject.scopes.has(scope)) throw new ForbiddenError(`Access denied: scope ${scope} is required`);
}

/**
 * Check the platform grant on `eventType` (platform identities only), then a resource's
 * authorization list (absent = open to every authenticated caller). List entries match the
 * subject (`user: jane`) or, for platform identities, one of their roles (`role: analysts`).
 * @throws ForbiddenError naming the operation and resource.
 */
export function authorize(
  subject: Subject,
  list: AuthorizationAttribute[] | undefined,
  operation: 'admin' | 'read' | 'write',
  resource: string,
  eventType?: string,
): void {
  const denied = `Access on ${operation.toUpperCase()} ${resource} denied`;
  if (subject.policy && eventType !== undefined) {
    const { principal, grants } = subject.policy;
    const d = authorizeByPolicy(principal, grants, {
      kind: 'event_type',
      name: eventType,
      privilege: operation,
    });
    if (!d.allowed) throw new ForbiddenError(`${denied}: ${d.reason}`);
  }
  if (!list || subject.admin || subject.anonymous) return;
  const attributes = [
    ...(subject.attribute ? [subject.attribute] : []),
    ...(subject.roles ?? []).map((value) => ({ data_type: 'role', value })),
  ];
  if (attributes.some((a) => list.some((rule) => matches(rule, a)))) return;
  throw new ForbiddenError(denied);
}
