/**
 * Authentication and authorization on the HTTP surfaces. The middleware resolves the
 * caller once per request (token, JWT, Basic, or loopback trust) and keeps the principal
 * on the context; routes then ask the one policy with `requireAccess`.
 */
import type { Context, MiddlewareHandler } from 'hono';
import {
  type Action,
  type Authenticator,
  type AuthStore,
  authorize,
  isAdmin,
  type Principal,
} from '../auth/index.js';
import { PermissionError } from '../util/index.js';

/** The Hono context variables this module sets. */
export type AuthVariables = { principal: Principal };

/** Where the request came from (the TCP peer; proxies are not trusted). */
export function remoteAddressOf(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}

/**
 * Resolve the caller of every request; failures go to the app's error handler as
 * AuthenticationError (401). `skip` lists path prefixes that need no identity (health).
 */
export function authenticate(
  authn: Authenticator,
  o: { skip?: (path: string) => boolean } = {},
): MiddlewareHandler {
  return async (c, next) => {
    if (o.skip?.(c.req.path)) return next();
    const principal = await authn(c.req.header('authorization'), remoteAddressOf(c));
    c.set('principal', principal);
    await next();
  };
}

/** The caller resolved by `authenticate`. @throws Error when the middleware did not run (a wiring bug) */
export function principalOf(c: Context): Principal {
  const p = c.get('principal') as Principal | undefined;
  if (!p) throw new Error(`no principal on ${c.req.path}: authenticate() is not mounted`);
  return p;
}

/** @throws PermissionError (403) naming what is missing when the caller may not do `action` */
export async function requireAccess(c: Context, store: AuthStore, action: Action): Promise<Principal> {
  const principal = principalOf(c);
  const { grants } = await store.snapshot();
  const decision = authorize(principal, grants, action);
  if (!decision.allowed) throw new PermissionError(decision.reason);
  return principal;
}

/** @throws PermissionError unless the caller administers the platform */
export function requireAdmin(c: Context): Principal {
  const principal = principalOf(c);
  if (!isAdmin(principal)) throw new PermissionError(`${principal.name} is not an administrator`);
  return principal;
}
