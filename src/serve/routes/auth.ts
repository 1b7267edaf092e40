/**
 * `/api/v1/me`, and the administration of users, roles, tokens and grants
 * (`/api/v1/users`, `/roles`, `/tokens`, `/grants`): the same operations as the
 * `sluice users|roles|tokens|grants` commands, for administrators only.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { type AuthStore, type Grant, privilegesOf, RESOURCE_KINDS } from '../../auth/index.js';
import { parseDuration } from '../../config/index.js';
import type { MetaStore } from '../../metastore/index.js';
import { InvalidInputError } from '../../util/index.js';
import { type AuthVariables, auditRequest, principalOf, requireAdmin } from '../auth.js';

const userBody = z.strictObject({
  name: z.string(),
  password: z.string().optional(),
  roles: z.array(z.string()).optional(),
});
const roleBody = z.strictObject({ name: z.string(), description: z.string().optional() });
const tokenBody = z.strictObject({
  user: z.string(),
  name: z.string().optional(),
  scopes: z.array(z.string()).optional(),
  expires: z.string().optional(),
});
const grantBody = z.strictObject({
  role: z.string(),
  kind: z.enum(RESOURCE_KINDS),
  name: z.string().min(1),
  privilege: z.string(),
});

async function body<T>(req: { json(): Promise<unknown> }, schema: z.ZodType<T>): Promise<T> {
  let raw: unknown;
  try {
    raw = await req.json();
  } catch {
    throw new InvalidInputError('the request body is not valid JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(`invalid body: ${issue?.path.join('.') || 'body'}: ${issue?.message}`);
  }
  return parsed.data;
}

function toGrant(g: z.infer<typeof grantBody>): Grant {
  if (!(privilegesOf(g.kind) as readonly string[]).includes(g.privilege))
    throw new InvalidInputError(`privilege "${g.privilege}" does not apply to a ${g.kind}`);
  return g as Grant;
}

/** Routes under /api/v1 for identities and grants. */
export function authRoutes(store: AuthStore, meta: MetaStore): Hono<{ Variables: AuthVariables }> {
  const app = new Hono<{ Variables: AuthVariables }>();

  app.get('/me', (c) => {
    const p = principalOf(c);
    return c.json({ name: p.name, via: p.via, roles: p.roles, scopes: p.scopes ?? null });
  });

  for (const path of [
    '/users',
    '/users/*',
    '/roles',
    '/roles/*',
    '/tokens',
    '/tokens/*',
    '/grants',
    '/grants/*',
  ]) {
    app.use(path, async (c, next) => {
      requireAdmin(c);
      await next();
    });
  }

  app.get('/users', async (c) => c.json({ users: await store.listUsers() }));
  app.post('/users', async (c) => {
    const b = await body(c.req, userBody);
    await store.createUser(b.name, { password: b.password, roles: b.roles });
    await auditRequest(c, meta, 'create_user', `user:${b.name}`, { roles: b.roles ?? [] });
    return c.json({ created: b.name }, 201);
  });
  app.delete('/users/:name', async (c) => {
    await store.deleteUser(c.req.param('name'));
    await auditRequest(c, meta, 'delete_user', `user:${c.req.param('name')}`);
    return c.body(null, 204);
  });

  app.get('/roles', async (c) => c.json({ roles: await store.listRoles() }));
  app.post('/roles', async (c) => {
    const b = await body(c.req, roleBody);
    await store.createRole(b.name, b.description);
    await auditRequest(c, meta, 'create_role', `role:${b.name}`);
    return c.json({ created: b.name }, 201);
  });
  app.delete('/roles/:name', async (c) => {
    await store.deleteRole(c.req.param('name'));
    await auditRequest(c, meta, 'delete_role', `role:${c.req.param('name')}`);
    return c.body(null, 204);
  });
  app.put('/roles/:name/members/:user', async (c) => {
    await store.addUserToRole(c.req.param('user'), c.req.param('name'));
    await auditRequest(c, meta, 'add_member', `role:${c.req.param('name')}`, { user: c.req.param('user') });
    return c.body(null, 204);
  });
  app.delete('/roles/:name/members/:user', async (c) => {
    await store.removeUserFromRole(c.req.param('user'), c.req.param('name'));
    await auditRequest(c, meta, 'remove_member', `role:${c.req.param('name')}`, {
      user: c.req.param('user'),
    });
    return c.body(null, 204);
  });

  app.get('/tokens', async (c) => c.json({ tokens: await store.listTokens(c.req.query('user')) }));
  app.post('/tokens', async (c) => {
    const b = await body(c.req, tokenBody);
    const expiresInMs = b.expires === undefined ? undefined : parseDuration(b.expires);
    if (b.expires !== undefined && expiresInMs === undefined)
      throw new InvalidInputError(`invalid expires "${b.expires}"`, 'use a duration such as 30d or 12h');
    const { token, info } = await store.createToken(b.user, { name: b.name, scopes: b.scopes, expiresInMs });
    await auditRequest(c, meta, 'create_token', `user:${b.user}`, {
      token: info.id,
      scopes: b.scopes ?? null,
    });
    return c.json({ ...info, token }, 201);
  });
  app.delete('/tokens/:id', async (c) => {
    await store.revokeToken(c.req.param('id'));
    await auditRequest(c, meta, 'revoke_token', `token:${c.req.param('id')}`);
    return c.body(null, 204);
  });

  app.get('/grants', async (c) => c.json({ grants: await store.listGrants(c.req.query('role')) }));
  app.post('/grants', async (c) => {
    const g = toGrant(await body(c.req, grantBody));
    await store.grant(g, principalOf(c).name);
    await auditRequest(c, meta, 'grant', `${g.kind}:${g.name}`, { role: g.role, privilege: g.privilege });
    return c.json({ granted: g }, 201);
  });
  app.post('/grants/revoke', async (c) => {
    const g = toGrant(await body(c.req, grantBody));
    const removed = await store.revoke(g);
    await auditRequest(c, meta, 'revoke', `${g.kind}:${g.name}`, {
      role: g.role,
      privilege: g.privilege,
      removed,
    });
    return c.json({ revoked: g, removed });
  });
  return app;
}
