/**
 * The one authorization policy every surface asks: may this principal do this to that?
 * Grants give a role a privilege on a resource; privileges are ordered (admin > write >
 * read; edit > run > view) and inherited from a namespace to every table under it.
 */

/** Kinds of resources grants name. */
export const RESOURCE_KINDS = ['namespace', 'table', 'pipeline', 'event_type'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** Privileges on data (namespaces, tables, event types), weakest first; `pii` is separate. */
export const DATA_PRIVILEGES = ['read', 'write', 'admin'] as const;
/** Privileges on pipelines, weakest first. */
export const PIPELINE_PRIVILEGES = ['view', 'run', 'edit'] as const;
export type Privilege = (typeof DATA_PRIVILEGES)[number] | (typeof PIPELINE_PRIVILEGES)[number] | 'pii';

/** The role whose members may do anything, including managing users and grants. */
export const ADMIN_ROLE = 'admin';

/** Who is asking. */
export interface Principal {
  name: string;
  /** How they proved it. */
  via: 'password' | 'token' | 'jwt' | 'local' | 'pipeline' | 'anonymous';
  roles: string[];
  /** Token scopes: when set, the principal can use at most these privileges, whatever the grants. */
  scopes?: string[];
}

export interface Grant {
  role: string;
  kind: ResourceKind;
  /** `ns.table`, `ns`, a pipeline or event type name, or `*` for every resource of the kind. */
  name: string;
  privilege: Privilege;
}

/** What is asked for. */
export interface Action {
  kind: ResourceKind;
  name: string;
  privilege: Privilege;
}

/** Privileges valid for a resource kind. */
export function privilegesOf(kind: ResourceKind): readonly Privilege[] {
  return kind === 'pipeline' ? PIPELINE_PRIVILEGES : [...DATA_PRIVILEGES, 'pii'];
}

function rank(p: Privilege): number {
  const data = DATA_PRIVILEGES.indexOf(p as never);
  if (data >= 0) return data;
  const pipe = PIPELINE_PRIVILEGES.indexOf(p as never);
  return pipe >= 0 ? pipe : -1;
}

/** True when holding `held` gives `wanted`. `admin` gives `pii`; nothing else does. */
export function implies(held: Privilege, wanted: Privilege): boolean {
  if (wanted === 'pii') return held === 'pii' || held === 'admin';
  if (held === 'pii') return false;
  const pipeline = (p: Privilege) => (PIPELINE_PRIVILEGES as readonly string[]).includes(p);
  if (pipeline(held) !== pipeline(wanted)) return false;
  return rank(held) >= rank(wanted);
}

/** Resources whose grants apply to `action`'s resource: itself, its namespaces, and `*`. */
function covering(action: Action): { kind: ResourceKind; name: string }[] {
  const out = [
    { kind: action.kind, name: action.name },
    { kind: action.kind, name: '*' },
  ];
  if (action.kind === 'table' || action.kind === 'namespace') {
    const parts = action.name.split('.');
    const levels = action.kind === 'table' ? parts.length - 1 : parts.length;
    for (let i = 1; i <= levels; i++) out.push({ kind: 'namespace', name: parts.slice(0, i).join('.') });
    out.push({ kind: 'namespace', name: '*' });
  }
  return out;
}

/** A decision, with the reason when denied (shown to the user, so it names what is missing). */
export type Decision = { allowed: true } | { allowed: false; reason: string };

/** May `principal` do `action` under `grants`? Pure and synchronous: call it per request. */
export function authorize(principal: Principal, grants: readonly Grant[], action: Action): Decision {
  if (principal.scopes && !scopeAllows(principal.scopes, action.privilege)) {
    return {
      allowed: false,
      reason: `the token's scopes (${principal.scopes.join(', ') || 'none'}) do not include ${action.privilege}`,
    };
  }
  if (principal.roles.includes(ADMIN_ROLE)) return { allowed: true };
  const places = covering(action);
  const ok = grants.some(
    (g) =>
      principal.roles.includes(g.role) &&
      places.some((p) => p.kind === g.kind && p.name === g.name) &&
      implies(g.privilege, action.privilege),
  );
  if (ok) return { allowed: true };
  return {
    allowed: false,
    reason: `${principal.name} lacks ${action.privilege} on ${action.kind.replace('_', ' ')} ${action.name}`,
  };
}

/** Scopes name privileges (`read`, `write`, `admin`, `run`...); a stronger scope covers weaker ones. */
function scopeAllows(scopes: readonly string[], wanted: Privilege): boolean {
  return scopes.some((s) => s === '*' || implies(s as Privilege, wanted));
}

/** True when the principal may manage users, roles, tokens and grants. */
export function isAdmin(principal: Principal): boolean {
  return (
    principal.roles.includes(ADMIN_ROLE) &&
    (!principal.scopes || principal.scopes.includes('admin') || principal.scopes.includes('*'))
  );
}
