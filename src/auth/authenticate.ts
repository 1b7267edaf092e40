/**
 * Who is calling: one function for every HTTP surface (platform API, Iceberg REST catalog,
 * event bus, UI). Credentials are a Sluice token, a JWT from the identity provider or a
 * user's password (Basic); without credentials, callers on loopback are the local
 * administrator unless `auth.required` is set, as a local PostgreSQL's `trust` line.
 */
import { AuthenticationError } from './errors.js';
import { createJwtVerifier, type JwtOptions, looksLikeJwt } from './jwt.js';
import { ADMIN_ROLE, type Principal } from './policy.js';
import type { AuthStore } from './store.js';
import { looksLikeToken } from './tokens.js';

export interface AuthenticatorOptions {
  /** Credentials required from every caller, loopback included. */
  required: boolean;
  jwt?: JwtOptions;
}

/** The local administrator: a caller on this machine when credentials are not required. */
export const LOCAL_PRINCIPAL: Principal = Object.freeze({
  name: 'sluice',
  via: 'local',
  roles: [ADMIN_ROLE],
});

/** True for addresses only this machine can reach (IPv4-mapped IPv6 included). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || a.startsWith('127.') || a === 'localhost';
}

export type Authenticator = (
  authorization: string | undefined,
  remoteAddress: string | undefined,
) => Promise<Principal>;

/** @returns a function resolving an Authorization header (and the peer address) to a principal */
export function createAuthenticator(store: AuthStore, o: AuthenticatorOptions): Authenticator {
  const verifyJwt = o.jwt ? createJwtVerifier(o.jwt) : undefined;
  return async (authorization, remoteAddress) => {
    if (!authorization) {
      if (!o.required && isLoopbackAddress(remoteAddress)) return LOCAL_PRINCIPAL;
      throw new AuthenticationError(
        'authentication required',
        'send "Authorization: Bearer <token>" (create one with: sluice tokens create USER)',
      );
    }
    const space = authorization.indexOf(' ');
    const scheme = authorization.slice(0, space < 0 ? undefined : space).toLowerCase();
    const value = space < 0 ? '' : authorization.slice(space + 1).trim();
    if (scheme === 'bearer') {
      if (looksLikeToken(value)) return store.authenticateToken(value);
      if (verifyJwt && looksLikeJwt(value)) return verifyJwt(value);
      throw new AuthenticationError('invalid bearer token');
    }
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new AuthenticationError('malformed Basic credentials');
      return store.authenticatePassword(decoded.slice(0, colon), decoded.slice(colon + 1));
    }
    throw new AuthenticationError(`unsupported authorization scheme "${scheme}"`, 'use Bearer or Basic');
  };
}
