/**
 * Users, roles, service tokens and grants, stored in the metastore (SQLite or PostgreSQL).
 * Every change bumps a version in sluice_state, so each process's cached grants are
 * refreshed on its next request: a revoked grant takes effect at once, everywhere.
 */
import { randomBytes } from 'node:crypto';
import type { MetaStore, SqlRunner } from '../metastore/index.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../util/index.js';
import { AuthenticationError } from './errors.js';
import {
  checkPasswordStrength,
  formatScramVerifier,
  hashPassword,
  scramVerifier,
  verifyPassword,
} from './passwords.js';
import {
  ADMIN_ROLE,
  type Grant,
  type Principal,
  privilegesOf,
  RESOURCE_KINDS,
  type ResourceKind,
} from './policy.js';
import { newToken, parseToken } from './tokens.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_.@-]{0,127}$/;

/** @throws InvalidInputError for a user or role name that is not an identifier-like name */
function checkName(what: string, name: string): void {
  if (!NAME.test(name))
    throw new InvalidInputError(
      `invalid ${what} name "${name}"`,
      'use letters, digits, _ . @ -, starting with a letter or _ (at most 128)',
    );
}

export interface UserInfo {
  name: string;
  roles: string[];
  hasPassword: boolean;
  disabled: boolean;
  createdAt: Date;
}

export interface TokenInfo {
  id: string;
  name: string;
  user: string;
  scopes?: string[];
  expiresAt?: Date;
  createdAt: Date;
  revokedAt?: Date;
  lastUsedAt?: Date;
}

type TokenRow = {
  id: string;
  name: string;
  user_name: string;
  token_hash: string;
  scopes: string | null;
  expires_at: number | string | null;
  created_at: number | string;
  revoked_at: number | string | null;
  last_used_at: number | string | null;
};

const at = (v: number | string | null) => (v === null ? undefined : new Date(Number(v)));

function tokenInfo(r: TokenRow): TokenInfo {
  return {
    id: r.id,
    name: r.name,
    user: r.user_name,
    scopes: r.scopes ? (JSON.parse(r.scopes) as string[]) : undefined,
    expiresAt: at(r.expires_at),
    createdAt: at(r.created_at) as Date,
    revokedAt: at(r.revoked_at),
    lastUsedAt: at(r.last_used_at),
  };
}

/** The auth tables of one metastore. */
export class AuthStore {
  readonly #meta: MetaStore;
  #cache?: { version: number; grants: Grant[]; roles: Map<string, string[]> };

  constructor(meta: MetaStore) {
    this.#meta = meta;
  }

  async #bump(tx: SqlRunner): Promise<void> {
    const changed = await tx.execute(
      "UPDATE sluice_state SET version = version + 1 WHERE scope = 'auth' AND key = 'version'",
    );
    if (changed.rowCount === 0)
      await tx.execute(
        "INSERT INTO sluice_state (scope, key, value, version) VALUES ('auth', 'version', NULL, 1)",
      );
  }

  async #version(): Promise<number> {
    const rows = await this.#meta.query<{ version: number | string }>(
      "SELECT version FROM sluice_state WHERE scope = 'auth' AND key = 'version'",
    );
    return Number(rows[0]?.version ?? 0);
  }

  /** Grants and role memberships, reloaded only when something changed since the last call. */
  async snapshot(): Promise<{ grants: Grant[]; roles: Map<string, string[]> }> {
    const version = await this.#version();
    if (this.#cache && this.#cache.version === version) return this.#cache;
    const [grants, memberships] = await Promise.all([
      this.#meta.query<{
        role_name: string;
        resource_kind: string;
        resource_name: string;
        privilege: string;
      }>('SELECT role_name, resource_kind, resource_name, privilege FROM sluice_grants'),
      this.#meta.query<{ user_name: string; role_name: string }>(
        'SELECT user_name, role_name FROM sluice_user_roles',
      ),
    ]);
    const roles = new Map<string, string[]>();
    for (const m of memberships) roles.set(m.user_name, [...(roles.get(m.user_name) ?? []), m.role_name]);
    this.#cache = {
      version,
      grants: grants.map((g) => ({
        role: g.role_name,
        kind: g.resource_kind as ResourceKind,
        name: g.resource_name,
        privilege: g.privilege as Grant['privilege'],
      })),
      roles,
    };
    return this.#cache;
  }

  // ---- users

  /** @throws ConflictError when the user exists; InvalidInputError for a bad name or weak password */
  async createUser(name: string, o: { password?: string; roles?: string[] } = {}): Promise<void> {
    checkName('user', name);
    const secrets = o.password === undefined ? undefined : await this.#secrets(o.password);
    await this.#meta.transaction(async (tx) => {
      const exists = await tx.query('SELECT 1 FROM sluice_users WHERE name = ?', [name]);
      if (exists.length > 0) throw new ConflictError(`user "${name}" already exists`);
      const now = Date.now();
      await tx.execute(
        'INSERT INTO sluice_users (name, password_hash, scram_verifier, disabled, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)',
        [name, secrets?.hash ?? null, secrets?.scram ?? null, now, now],
      );
      for (const role of o.roles ?? []) await this.#addRole(tx, name, role);
      await this.#bump(tx);
    });
  }

  async #secrets(password: string): Promise<{ hash: string; scram: string }> {
    checkPasswordStrength(password);
    return { hash: await hashPassword(password), scram: formatScramVerifier(scramVerifier(password)) };
  }

  /** @throws NotFoundError for an unknown user */
  async setPassword(name: string, password: string): Promise<void> {
    const s = await this.#secrets(password);
    const r = await this.#meta.execute(
      'UPDATE sluice_users SET password_hash = ?, scram_verifier = ?, updated_at = ? WHERE name = ?',
      [s.hash, s.scram, Date.now(), name],
    );
    if (r.rowCount === 0) throw new NotFoundError(`no user "${name}"`);
  }

  /** Deletes the user, their role memberships and tokens. @throws NotFoundError */
  async deleteUser(name: string): Promise<void> {
    await this.#meta.transaction(async (tx) => {
      const r = await tx.execute('DELETE FROM sluice_users WHERE name = ?', [name]);
      if (r.rowCount === 0) throw new NotFoundError(`no user "${name}"`);
      await tx.execute('DELETE FROM sluice_user_roles WHERE user_name = ?', [name]);
      await tx.execute('UPDATE sluice_tokens SET revoked_at = ? WHERE user_name = ? AND revoked_at IS NULL', [
        Date.now(),
        name,
      ]);
      await this.#bump(tx);
    });
  }

  async listUsers(): Promise<UserInfo[]> {
    const [users, { roles }] = await Promise.all([
      this.#meta.query<{
        name: string;
        password_hash: string | null;
        disabled: number;
        created_at: number | string;
      }>('SELECT name, password_hash, disabled, created_at FROM sluice_users ORDER BY name'),
      this.snapshot(),
    ]);
    return users.map((u) => ({
      name: u.name,
      roles: roles.get(u.name) ?? [],
      hasPassword: u.password_hash !== null,
      disabled: Number(u.disabled) === 1,
      createdAt: new Date(Number(u.created_at)),
    }));
  }

  /** The SCRAM verifier of a user who may log in with a password (for the wire server). */
  async scramVerifierOf(name: string): Promise<string | undefined> {
    const rows = await this.#meta.query<{ scram_verifier: string | null; disabled: number }>(
      'SELECT scram_verifier, disabled FROM sluice_users WHERE name = ?',
      [name],
    );
    const row = rows[0];
    return row && Number(row.disabled) === 0 ? (row.scram_verifier ?? undefined) : undefined;
  }

  /** The principal of a user whose identity is already proven (e.g. by SCRAM). */
  async principalOf(name: string, via: Principal['via']): Promise<Principal> {
    const { roles } = await this.snapshot();
    return { name, via, roles: roles.get(name) ?? [] };
  }

  /** @throws AuthenticationError for an unknown user, a wrong password or a disabled user (same message for all) */
  async authenticatePassword(name: string, password: string): Promise<Principal> {
    const rows = await this.#meta.query<{ password_hash: string | null; disabled: number }>(
      'SELECT password_hash, disabled FROM sluice_users WHERE name = ?',
      [name],
    );
    const row = rows[0];
    // Verify even for unknown users, so timing does not tell which names exist.
    const hash = row?.password_hash ?? (await dummy());
    const ok = await verifyPassword(password, hash);
    if (!row || !ok || row.password_hash === null || Number(row.disabled) === 1)
      throw new AuthenticationError(`password authentication failed for user "${name}"`);
    return this.principalOf(name, 'password');
  }

  // ---- roles

  async createRole(name: string, description?: string): Promise<void> {
    checkName('role', name);
    await this.#meta.transaction(async (tx) => {
      const exists = await tx.query('SELECT 1 FROM sluice_roles WHERE name = ?', [name]);
      if (exists.length > 0) throw new ConflictError(`role "${name}" already exists`);
      await tx.execute('INSERT INTO sluice_roles (name, description, created_at) VALUES (?, ?, ?)', [
        name,
        description ?? null,
        Date.now(),
      ]);
      await this.#bump(tx);
    });
  }

  /** Deletes the role with its grants and memberships. @throws NotFoundError; InvalidInputError for `admin` */
  async deleteRole(name: string): Promise<void> {
    if (name === ADMIN_ROLE) throw new InvalidInputError('the admin role cannot be deleted');
    await this.#meta.transaction(async (tx) => {
      const r = await tx.execute('DELETE FROM sluice_roles WHERE name = ?', [name]);
      if (r.rowCount === 0) throw new NotFoundError(`no role "${name}"`);
      await tx.execute('DELETE FROM sluice_grants WHERE role_name = ?', [name]);
      await tx.execute('DELETE FROM sluice_user_roles WHERE role_name = ?', [name]);
      await this.#bump(tx);
    });
  }

  async listRoles(): Promise<{ name: string; description?: string; members: string[] }[]> {
    const [rows, { roles }] = await Promise.all([
      this.#meta.query<{ name: string; description: string | null }>(
        'SELECT name, description FROM sluice_roles ORDER BY name',
      ),
      this.snapshot(),
    ]);
    return rows.map((r) => ({
      name: r.name,
      description: r.description ?? undefined,
      members: [...roles.entries()].filter(([, rs]) => rs.includes(r.name)).map(([u]) => u),
    }));
  }

  async #addRole(tx: SqlRunner, user: string, role: string): Promise<void> {
    const known = await tx.query('SELECT 1 FROM sluice_roles WHERE name = ?', [role]);
    if (known.length === 0)
      throw new NotFoundError(`no role "${role}"`, 'create it first: sluice roles create NAME');
    await tx.execute(
      'INSERT INTO sluice_user_roles (user_name, role_name) VALUES (?, ?) ON CONFLICT (user_name, role_name) DO NOTHING',
      [user, role],
    );
  }

  /** @throws NotFoundError for an unknown user or role */
  async addUserToRole(user: string, role: string): Promise<void> {
    await this.#meta.transaction(async (tx) => {
      const known = await tx.query('SELECT 1 FROM sluice_users WHERE name = ?', [user]);
      if (known.length === 0) throw new NotFoundError(`no user "${user}"`);
      await this.#addRole(tx, user, role);
      await this.#bump(tx);
    });
  }

  async removeUserFromRole(user: string, role: string): Promise<void> {
    await this.#meta.transaction(async (tx) => {
      await tx.execute('DELETE FROM sluice_user_roles WHERE user_name = ? AND role_name = ?', [user, role]);
      await this.#bump(tx);
    });
  }

  // ---- grants

  /** @throws InvalidInputError for an unknown kind or a privilege that does not apply to it; NotFoundError for an unknown role */
  async grant(g: Grant, by?: string): Promise<void> {
    checkGrant(g);
    await this.#meta.transaction(async (tx) => {
      const known = await tx.query('SELECT 1 FROM sluice_roles WHERE name = ?', [g.role]);
      if (known.length === 0)
        throw new NotFoundError(`no role "${g.role}"`, 'create it first: sluice roles create NAME');
      await tx.execute(
        `INSERT INTO sluice_grants (role_name, resource_kind, resource_name, privilege, granted_by, granted_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (role_name, resource_kind, resource_name, privilege) DO NOTHING`,
        [g.role, g.kind, g.name, g.privilege, by ?? null, Date.now()],
      );
      await this.#bump(tx);
    });
  }

  /** True when a grant was removed. */
  async revoke(g: Grant): Promise<boolean> {
    checkGrant(g);
    return this.#meta.transaction(async (tx) => {
      const r = await tx.execute(
        'DELETE FROM sluice_grants WHERE role_name = ? AND resource_kind = ? AND resource_name = ? AND privilege = ?',
        [g.role, g.kind, g.name, g.privilege],
      );
      await this.#bump(tx);
      return r.rowCount > 0;
    });
  }

  async listGrants(role?: string): Promise<Grant[]> {
    const { grants } = await this.snapshot();
    return grants.filter((g) => role === undefined || g.role === role);
  }

  // ---- tokens

  /**
   * A new service token for `user`; the secret is returned once and only its hash kept.
   * @throws NotFoundError for an unknown user
   */
  async createToken(
    user: string,
    o: { name?: string; scopes?: string[]; expiresInMs?: number } = {},
  ): Promise<{ token: string; info: TokenInfo }> {
    const t = newToken();
    const now = Date.now();
    const expires = o.expiresInMs === undefined ? null : now + o.expiresInMs;
    await this.#meta.transaction(async (tx) => {
      const known = await tx.query('SELECT 1 FROM sluice_users WHERE name = ?', [user]);
      if (known.length === 0)
        throw new NotFoundError(`no user "${user}"`, 'tokens belong to a user: sluice users create NAME');
      await tx.execute(
        `INSERT INTO sluice_tokens (id, name, user_name, token_hash, scopes, expires_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [t.id, o.name ?? t.id, user, t.hash, o.scopes ? JSON.stringify(o.scopes) : null, expires, now],
      );
    });
    return {
      token: t.secret,
      info: {
        id: t.id,
        name: o.name ?? t.id,
        user,
        scopes: o.scopes,
        expiresAt: at(expires),
        createdAt: new Date(now),
      },
    };
  }

  /** @throws AuthenticationError for an unknown, wrong, revoked or expired token, or a disabled user */
  async authenticateToken(text: string): Promise<Principal> {
    const parsed = parseToken(text);
    if (!parsed) throw new AuthenticationError('invalid token');
    const rows = await this.#meta.query<TokenRow>('SELECT * FROM sluice_tokens WHERE id = ?', [parsed.id]);
    const row = rows[0];
    if (!row || !safeHexEqual(row.token_hash, parsed.hash)) throw new AuthenticationError('invalid token');
    if (row.revoked_at !== null) throw new AuthenticationError(`token ${row.id} was revoked`);
    if (row.expires_at !== null && Number(row.expires_at) <= Date.now())
      throw new AuthenticationError(
        `token ${row.id} expired at ${new Date(Number(row.expires_at)).toISOString()}`,
      );
    const users = await this.#meta.query<{ disabled: number }>(
      'SELECT disabled FROM sluice_users WHERE name = ?',
      [row.user_name],
    );
    if (users.length === 0 || Number(users[0]?.disabled) === 1)
      throw new AuthenticationError(`the user of token ${row.id} is disabled or deleted`);
    await this.#meta.execute('UPDATE sluice_tokens SET last_used_at = ? WHERE id = ?', [Date.now(), row.id]);
    const principal = await this.principalOf(row.user_name, 'token');
    return row.scopes ? { ...principal, scopes: JSON.parse(row.scopes) as string[] } : principal;
  }

  async listTokens(user?: string): Promise<TokenInfo[]> {
    const rows = await this.#meta.query<TokenRow>(
      user === undefined
        ? 'SELECT * FROM sluice_tokens ORDER BY created_at'
        : 'SELECT * FROM sluice_tokens WHERE user_name = ? ORDER BY created_at',
      user === undefined ? [] : [user],
    );
    return rows.map(tokenInfo);
  }

  /** @throws NotFoundError for an unknown token id */
  async revokeToken(id: string): Promise<void> {
    const r = await this.#meta.execute(
      'UPDATE sluice_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
      [Date.now(), id],
    );
    if (r.rowCount === 0) throw new NotFoundError(`no active token "${id}"`);
  }
}

/** A hash of a random password, verified against for unknown users (made once, lazily). */
let dummyHash: Promise<string> | undefined;
function dummy(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(24).toString('base64'));
  return dummyHash;
}

function safeHexEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function checkGrant(g: Grant): void {
  if (!(RESOURCE_KINDS as readonly string[]).includes(g.kind))
    throw new InvalidInputError(`unknown resource kind "${g.kind}"`, `kinds: ${RESOURCE_KINDS.join(', ')}`);
  const allowed = privilegesOf(g.kind);
  if (!allowed.includes(g.privilege))
    throw new InvalidInputError(
      `privilege "${g.privilege}" does not apply to a ${g.kind.replace('_', ' ')}`,
      `privileges: ${allowed.join(', ')}`,
    );
  if (!g.name)
    throw new InvalidInputError('the resource name is empty', 'use * for every resource of the kind');
}
