/**
 * JWTs from an external identity provider, verified against its JWKS. Claims map to a
 * Sluice principal: the user name from one claim, roles from another through `roleMap`.
 */
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { AuthenticationError } from './errors.js';
import type { Principal } from './policy.js';

export interface JwtOptions {
  jwksUrl: string;
  issuer?: string;
  audience?: string;
  /** Claim holding the user name (default `sub`). */
  userClaim: string;
  /** Claim holding the caller's groups or roles (a list or a space-separated string). */
  rolesClaim: string;
  /** Claim value → Sluice role; values not listed are ignored. */
  roleMap: Record<string, string>;
  /** Claim holding OAuth scopes (default `scope`); when present they limit the principal. */
  scopeClaim?: string;
}

function listClaim(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (typeof v === 'string') return v.split(/\s+/).filter(Boolean);
  return [];
}

/** A verifier for bearer JWTs; keys are fetched from the JWKS URL and cached by jose. */
export function createJwtVerifier(o: JwtOptions): (token: string) => Promise<Principal> {
  const keys = createRemoteJWKSet(new URL(o.jwksUrl));
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, { issuer: o.issuer, audience: o.audience }));
    } catch (err) {
      throw new AuthenticationError(`invalid JWT: ${(err as Error).message}`);
    }
    const name = payload[o.userClaim];
    if (typeof name !== 'string' || name === '')
      throw new AuthenticationError(`the JWT has no "${o.userClaim}" claim naming the user`);
    const roles = [
      ...new Set(listClaim(payload[o.rolesClaim]).flatMap((g) => (o.roleMap[g] ? [o.roleMap[g]] : []))),
    ];
    const scopeClaim = payload[o.scopeClaim ?? 'scope'];
    const principal: Principal = { name, via: 'jwt', roles };
    return scopeClaim === undefined ? principal : { ...principal, scopes: listClaim(scopeClaim) };
  };
}

/** True for a string shaped like a JWT (three base64url parts). */
export function looksLikeJwt(text: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(text);
}
