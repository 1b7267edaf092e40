/**
 * The one policy applied inside SQL: the access hook every surface (HTTP SQL, the PostgreSQL
 * wire server, the CLI through the server) passes when it opens an engine session. Per table:
 * `read`/`write` grants, dataset approval, production namespaces and PII masking, all from the
 * grants of the auth store (reloaded when they change, so a revoke applies to the next statement)
 * and the table's properties.
 */
import type { AccessHook, MaskMethod, TableAccess } from '../engine/index.js';
import { InvalidInputError, PermissionError } from '../util/index.js';
import { authorize, isAdmin, type Principal } from './policy.js';
import type { AuthStore } from './store.js';

/** Table properties the policy reads. */
export const TABLE_PROPERTIES = {
  /** `col,col` or `col:method,col:method` (methods: hash, redact, null). */
  piiColumns: 'sluice.pii.columns',
  /** Method for PII columns listed without one (default hash). */
  piiMethod: 'sluice.pii.method',
  /** `draft` (default) or `approved`. */
  state: 'sluice.state',
  /** User who owns the dataset: reads it while it is a draft. */
  owner: 'sluice.owner',
} as const;

/** Principals whose roles are the store's memberships (JWT roles come from claims). */
const STORE_VIAS = new Set<Principal['via']>(['password', 'token']);

const MASK_METHODS: readonly MaskMethod[] = ['hash', 'redact', 'null'];

/** Settings of the SQL policy (the `auth` section). */
export interface SqlPolicyOptions {
  /** Readers who do not own a table see it only once it is approved. */
  approvedOnly?: boolean;
  /** Namespaces (and their children) written only by pipelines, or by holders of `admin` on them. */
  productionNamespaces?: readonly string[];
}

/** The PII columns a table's properties tag, with their masking method. @throws InvalidInputError for an unknown method */
export function piiColumnsOf(properties: Readonly<Record<string, string>>): Record<string, MaskMethod> {
  const list = properties[TABLE_PROPERTIES.piiColumns];
  if (!list) return {};
  const fallback = parseMethod(properties[TABLE_PROPERTIES.piiMethod] ?? 'hash');
  const out: Record<string, MaskMethod> = {};
  for (const item of list.split(',')) {
    const [col = '', method] = item.split(':').map((s) => s.trim());
    if (col) out[col] = method ? parseMethod(method) : fallback;
  }
  return out;
}

function parseMethod(text: string): MaskMethod {
  if ((MASK_METHODS as readonly string[]).includes(text)) return text as MaskMethod;
  throw new InvalidInputError(
    `unknown PII masking method "${text}"`,
    `methods: ${MASK_METHODS.join(', ')} (table property ${TABLE_PROPERTIES.piiColumns})`,
  );
}

function underAny(namespace: string, roots: readonly string[]): string | undefined {
  return roots.find((r) => namespace === r || namespace.startsWith(`${r}.`));
}

/**
 * The engine access hook of `principal`'s session.
 * `onChecked` hears the tables of every statement (for the audit trail).
 */
export function sqlAccessHook(
  principal: Principal,
  store: AuthStore,
  o: SqlPolicyOptions & { onChecked?: AccessHook['checked'] } = {},
): AccessHook {
  const may = async (table: string, privilege: 'read' | 'write' | 'admin' | 'pii') => {
    const { grants, roles } = await store.snapshot();
    // Store users' memberships are read again, so GRANT role TO user applies to the next statement.
    const current = STORE_VIAS.has(principal.via)
      ? { ...principal, roles: roles.get(principal.name) ?? [] }
      : principal;
    return authorize(current, grants, { kind: 'table', name: table, privilege });
  };
  return {
    trusted: isAdmin(principal),
    checked: o.onChecked,
    async authorize(action: 'read' | 'write', table: TableAccess) {
      const namespace = table.name.slice(0, table.name.lastIndexOf('.'));
      if (action === 'write') {
        const write = await may(table.name, 'write');
        if (!write.allowed)
          throw new PermissionError(`permission denied for table ${table.name}: ${write.reason}`);
        const production = underAny(namespace, o.productionNamespaces ?? []);
        if (production && principal.via !== 'pipeline' && !(await may(table.name, 'admin')).allowed)
          throw new PermissionError(
            `permission denied for table ${table.name}: namespace ${production} is production and accepts writes from pipelines only`,
            `to allow ad-hoc writes: sluice grants add ROLE admin namespace:${production}`,
          );
        return undefined;
      }
      const read = await may(table.name, 'read');
      if (!read.allowed)
        throw new PermissionError(`permission denied for table ${table.name}: ${read.reason}`);
      if (o.approvedOnly && table.properties[TABLE_PROPERTIES.state] !== 'approved') {
        const owner =
          table.properties[TABLE_PROPERTIES.owner] === principal.name ||
          (await may(table.name, 'admin')).allowed;
        if (!owner)
          throw new PermissionError(
            `permission denied for table ${table.name}: it is a draft, readable by its owners until approved`,
            `an owner or administrator approves it: sluice tables approve ${table.name}`,
          );
      }
      const pii = piiColumnsOf(table.properties);
      const present: Record<string, MaskMethod> = {};
      for (const [col, method] of Object.entries(pii)) {
        const actual = table.columns.find((c) => c.toLowerCase() === col.toLowerCase());
        if (actual) present[actual] = method;
      }
      if (Object.keys(present).length === 0 || (await may(table.name, 'pii')).allowed) return undefined;
      return { mask: present };
    },
  };
}

/**
 * Whether `principal` could write anything (admin, or some role with a write or admin grant):
 * sessions of everyone else are read-only, refusing writes before looking at tables.
 */
export async function mayWriteSomething(principal: Principal, store: AuthStore): Promise<boolean> {
  if (principal.scopes && !principal.scopes.some((s) => s === '*' || s === 'write' || s === 'admin'))
    return false;
  if (isAdmin(principal)) return true;
  const { grants } = await store.snapshot();
  return grants.some(
    (g) =>
      principal.roles.includes(g.role) &&
      (g.kind === 'table' || g.kind === 'namespace') &&
      (g.privilege === 'write' || g.privilege === 'admin'),
  );
}
