/**
 * Authentication and authorization on the HTTP surfaces. The middleware resolves the
 * caller once per request (token, JWT, Basic, or loopback trust) and keeps the principal
 * on the context; routes then ask the one policy with `requireAccess`.
 */
import type { Context, MiddlewareHandler } from 'hono';
import {
  type Action,
  AuthenticationError,
  type Authenticator,
  type AuthStore,
  authorize,
  isAdmin,
  loginAuditor,
  type Principal,
  recordAudit,
} from '../auth/index.js';
import type { MetaStore } from '../metastore/index.js';
import { PermissionError, withActor } from '../util/index.js';

/** The Hono context variables this module sets. */
export type AuthVariables = { principal: Principal };

/** Where the request came from (the TCP peer; proxies are not trusted). */
export function remoteAddressOf(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  // A request made in-process (app.request) has no network peer: it is this machine.
  if (!env?.incoming) return '127.0.0.1';
  return env.incoming.socket?.remoteAddress;
}

/**
 * Resolve the caller of every request; failures go to the app's error handler as
 * AuthenticationError (401). `skip` lists path prefixes that need no identity (health).
 */
export function authenticate(
  authn: Authenticator,
  o: { skip?: (path: string) => boolean; audit?: MetaStore } = {},
): MiddlewareHandler {
  const audited = o.audit ? loginAuditor(o.audit) : undefined;
  return async (c, next) => {
    if (o.skip?.(c.req.path)) return next();
    let principal: Principal;
    try {
      principal = await authn(c.req.header('authorization'), remoteAddressOf(c));
    } catch (err) {
      if (o.audit && err instanceof AuthenticationError) {
        await recordAudit(o.audit, [
          {
            principal: { name: 'anonymous', via: 'anonymous' },
            surface: 'http',
            action: 'authenticate',
            resource: `${c.req.method} ${c.req.path}`,
            outcome: 'denied',
            remote: remoteAddressOf(c),
            detail: { reason: err.message.split('\n')[0] },
          },
        ]).catch(() => undefined);
      }
      throw err;
    }
    const surface = c.req.path.startsWith('/iceberg/') ? 'iceberg' : 'http';
    audited?.(principal, surface, remoteAddressOf(c));
    c.set('principal', principal);
    // Commits made while serving the request are audited as the caller's.
    await withActor({ name: principal.name, via: principal.via, surface }, () => next());
  };
}

/** Audit an action taken through the HTTP API by the request's caller. */
export async function auditRequest(
  c: Context,
  meta: MetaStore,
  action: string,
  resource: string,
  detail?: Record<string, unknown>,
): Promise<void> {
  await recordAudit(meta, [
    {
      principal: principalOf(c),
      surface: 'http',
      action,
      resource,
      outcome: 'ok',
      remote: remoteAddressOf(c),
      detail,
    },
  ]);
}

/**
 * Audit every successful change through the routes below (catalog commits, pipeline triggers):
 * `actionOf` names the action of a request path.
 */
export function auditChanges(
  meta: MetaStore,
  actionOf: (method: string, path: string) => string,
): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.res.status >= 400) return;
    await auditRequest(c, meta, actionOf(c.req.method, c.req.path), `${c.req.method} ${c.req.path}`).catch(
      () => undefined,
    );
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
