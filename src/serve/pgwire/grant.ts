/**
 * GRANT and REVOKE over the wire, as PostgreSQL and Redshift users type them, mapped onto
 * the auth store's grants (administrators only). The subset:
 *
 *   GRANT|REVOKE priv[, priv] ON [TABLE] ns.t[, ...]         TO|FROM role[, ...]
 *   GRANT|REVOKE priv[, priv] ON SCHEMA ns                   TO|FROM role[, ...]
 *   GRANT|REVOKE priv[, priv] ON ALL TABLES IN SCHEMA ns     TO|FROM role[, ...]
 *   GRANT role[, ...] TO user[, ...]        REVOKE role[, ...] FROM user[, ...]
 *
 * priv: SELECT|READ → read; INSERT|UPDATE|DELETE|TRUNCATE|WRITE → write; ALL [PRIVILEGES]|ADMIN
 * → admin; PII → pii. Other forms: 0A000 (WITH GRANT OPTION, functions, PUBLIC...) or 42601.
 */
import {
  type AuthStore,
  type Grant,
  isAdmin,
  type Principal,
  type Privilege,
  recordAudit,
} from '../../auth/index.js';
import type { MetaStore } from '../../metastore/index.js';
import { NotFoundError, PermissionError } from '../../util/index.js';
import type { LocalAnswer } from './catalog.js';
import { ProtocolError } from './sqlstate.js';

const PRIVILEGES: Record<string, Privilege> = {
  select: 'read',
  read: 'read',
  insert: 'write',
  update: 'write',
  delete: 'write',
  truncate: 'write',
  write: 'write',
  all: 'admin',
  admin: 'admin',
  pii: 'pii',
};

/** A parsed GRANT/REVOKE. */
export type GrantStatement =
  | {
      kind: 'privileges';
      revoke: boolean;
      privileges: Privilege[];
      on: Pick<Grant, 'kind' | 'name'>[];
      roles: string[];
    }
  | { kind: 'membership'; revoke: boolean; roles: string[]; users: string[] };

/** Words, quoted identifiers and punctuation of a statement. */
function words(text: string): string[] {
  const out: string[] = [];
  const re = /\s*("(?:[^"]|"")*"|[A-Za-z_][\w$@-]*(?:\.(?:"(?:[^"]|"")*"|[A-Za-z_][\w$@-]*))*|[,;*]|\S)/gy;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1] as string);
  return out;
}

/** An identifier as written: quoted parts keep their case, others are lower-cased (PostgreSQL's rule). */
function ident(word: string): string {
  return word
    .split(/\.(?=(?:[^"]*"[^"]*")*[^"]*$)/)
    .map((p) => (p.startsWith('"') ? p.slice(1, -1).replace(/""/g, '"') : p.toLowerCase()))
    .join('.');
}

function syntax(message: string): ProtocolError {
  return new ProtocolError('42601', `syntax error in GRANT/REVOKE: ${message}`);
}

function unsupported(what: string): ProtocolError {
  return new ProtocolError(
    '0A000',
    `${what} is not supported; see docs/security.md for the GRANT/REVOKE forms Sluice understands`,
  );
}

/** A comma-separated list of words from `i`, until `stop` (a keyword) or the end. */
function list(ws: string[], i: number, stop?: string): { items: string[]; next: number } {
  const items: string[] = [];
  let j = i;
  while (j < ws.length) {
    const w = ws[j] as string;
    if (stop && w.toLowerCase() === stop) break;
    if (w === ';') break;
    if (w !== ',') items.push(w);
    else if (items.length === 0) throw syntax('a list starts with ","');
    j++;
  }
  return { items, next: j };
}

/** Parse a GRANT or REVOKE statement. @throws ProtocolError 42601 / 0A000 */
export function parseGrant(text: string): GrantStatement {
  const ws = words(text.trim());
  const revoke = ws[0]?.toLowerCase() === 'revoke';
  const to = revoke ? 'from' : 'to';
  const lower = ws.map((w) => w.toLowerCase());
  if (lower.includes('option') || lower.includes('granted') || lower.includes('cascade'))
    throw unsupported('WITH GRANT OPTION, GRANTED BY and CASCADE');
  const onAt = lower.indexOf('on');
  if (onAt < 0) {
    const roles = list(ws, 1, to);
    if (roles.next >= ws.length || roles.items.length === 0)
      throw syntax(`expected "role ${to.toUpperCase()} user"`);
    const users = list(ws, roles.next + 1);
    if (users.items.length === 0) throw syntax('expected a user name');
    return { kind: 'membership', revoke, roles: roles.items.map(ident), users: users.items.map(ident) };
  }
  let privWords = lower.slice(1, onAt).filter((w) => w !== ',');
  if (privWords.at(-1) === 'privileges') privWords = privWords.slice(0, -1);
  if (privWords.length === 0) throw syntax('expected privileges before ON');
  const privileges = privWords.map((w) => {
    const p = PRIVILEGES[w];
    if (!p) throw unsupported(`the privilege ${w.toUpperCase()}`);
    return p;
  });
  let i = onAt + 1;
  let kind: Grant['kind'] = 'table';
  if (lower[i] === 'table') i++;
  else if (lower[i] === 'schema') {
    kind = 'namespace';
    i++;
  } else if (
    lower[i] === 'all' &&
    lower[i + 1] === 'tables' &&
    lower[i + 2] === 'in' &&
    lower[i + 3] === 'schema'
  ) {
    kind = 'namespace';
    i += 4;
  } else if (
    ['function', 'functions', 'sequence', 'sequences', 'database', 'language', 'type', 'domain'].includes(
      lower[i] ?? '',
    )
  )
    throw unsupported(`GRANT ON ${ws[i]?.toUpperCase()}`);
  const objects = list(ws, i, to);
  if (objects.items.length === 0) throw syntax('expected a table or schema name after ON');
  if (objects.next >= ws.length) throw syntax(`expected ${to.toUpperCase()} role`);
  const roles = list(ws, objects.next + 1);
  if (roles.items.length === 0) throw syntax('expected a role name');
  if (roles.items.some((r) => r.toLowerCase() === 'public')) throw unsupported('granting to PUBLIC');
  const on = objects.items.map((o) => {
    const name = ident(o);
    if (kind === 'table' && !name.includes('.'))
      throw syntax(`name the table with its schema (namespace): ${name} → schema.${name}`);
    return { kind, name };
  });
  return { kind: 'privileges', revoke, privileges, on, roles: roles.items.map(ident) };
}

/** The answer of a GRANT/REVOKE statement: runs it for an administrator. */
export function grantAnswer(
  text: string,
  principal: Principal,
  store: AuthStore,
  audit?: MetaStore,
  remote?: string,
): LocalAnswer {
  const statement = parseGrant(text);
  return {
    columns: null,
    async run() {
      if (!isAdmin(principal))
        throw new PermissionError(
          `permission denied: ${principal.name} is not an administrator`,
          'only members of the admin role GRANT and REVOKE',
        );
      let changes: string[];
      try {
        changes = await apply(statement, principal.name, store);
      } catch (err) {
        if (err instanceof NotFoundError)
          throw new ProtocolError('42704', err.message.split('\n')[0] as string);
        throw err;
      }
      if (audit)
        await recordAudit(
          audit,
          changes.map((c) => ({
            principal,
            surface: 'pgwire' as const,
            action: statement.revoke ? 'revoke' : 'grant',
            resource: c,
            outcome: 'ok' as const,
            remote,
          })),
        );
      return { rows: [], tag: statement.revoke ? 'REVOKE' : 'GRANT' };
    },
  };
}

/** Apply the statement to the store; returns what changed, for the audit trail. */
async function apply(statement: GrantStatement, by: string, store: AuthStore): Promise<string[]> {
  const changes: string[] = [];
  if (statement.kind === 'membership') {
    for (const role of statement.roles)
      for (const user of statement.users) {
        if (statement.revoke) await store.removeUserFromRole(user, role);
        else await store.addUserToRole(user, role);
        changes.push(`role:${role} ${user}`);
      }
    return changes;
  }
  for (const role of statement.roles)
    for (const on of statement.on)
      for (const privilege of statement.privileges) {
        const grant = { role, ...on, privilege };
        if (statement.revoke) await store.revoke(grant);
        else await store.grant(grant, by);
        changes.push(`${on.kind}:${on.name} ${privilege} ${role}`);
      }
  return changes;
}
