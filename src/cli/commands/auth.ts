import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { AuthStore, type Grant, RESOURCE_KINDS, type ResourceKind, recordAudit } from '../../auth/index.js';
import { parseDuration } from '../../config/index.js';
import { openRuntime } from '../../runtime/index.js';
import { InvalidInputError } from '../../util/index.js';
import { openCommand } from '../context.js';
import type { GlobalOptions } from '../main.js';
import { formatTable } from '../output.js';

/** The first line of stdin (a password piped in, or typed at a prompt). */
async function readSecret(prompt: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(prompt);
  const rl = createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  throw new InvalidInputError(
    'no password on stdin',
    'pipe it in: echo "$PASSWORD" | sluice users create NAME --password-stdin',
  );
}

/** `namespace:marts` → kind and name. @throws InvalidInputError */
export function parseResource(text: string): { kind: ResourceKind; name: string } {
  const colon = text.indexOf(':');
  const kind = text.slice(0, colon) as ResourceKind;
  const name = text.slice(colon + 1);
  if (colon < 0 || !(RESOURCE_KINDS as readonly string[]).includes(kind) || name === '')
    throw new InvalidInputError(
      `invalid resource "${text}"`,
      `write KIND:NAME with KIND one of ${RESOURCE_KINDS.join(', ')}, e.g. namespace:marts or table:shop.orders`,
    );
  return { kind, name };
}

const when = (d?: Date) => (d ? d.toISOString().replace(/\.\d+Z$/, 'Z') : '');

/** `sluice users|roles|tokens|grants <sub>`. */
export default async function auth(args: unknown[], globals: GlobalOptions, cmd: Command): Promise<number> {
  const ctx = await openCommand(globals);
  const runtime = await openRuntime(ctx.project, ctx.log);
  const store = new AuthStore(runtime.meta);
  const { out } = ctx;
  const opts = cmd.opts();
  const a = args as string[];
  const group = cmd.parent?.name();
  /** CLI changes are made by whoever can open the project's metastore: audited as the OS user. */
  const audit = (action: string, resource: string, detail?: Record<string, unknown>) =>
    recordAudit(runtime.meta, [
      {
        principal: { name: userInfo().username, via: 'local' },
        surface: 'cli',
        action,
        resource,
        outcome: 'ok',
        detail,
      },
    ]);
  try {
    switch (`${group} ${cmd.name()}`) {
      case 'users list': {
        const users = await store.listUsers();
        out.result(users);
        out.line(
          formatTable(
            users.map((u) => [
              u.name,
              u.roles.join(', '),
              u.hasPassword ? 'password' : 'tokens only',
              when(u.createdAt),
            ]),
            { header: ['USER', 'ROLES', 'LOGIN', 'CREATED'] },
          ),
        );
        break;
      }
      case 'users create': {
        const password = opts.passwordStdin ? await readSecret('Password: ') : undefined;
        await store.createUser(a[0] as string, { password, roles: opts.role });
        await audit('create_user', `user:${a[0]}`, { roles: opts.role ?? [] });
        out.result({ created: a[0] });
        out.line(`created user ${a[0]}${opts.role ? ` in ${opts.role.join(', ')}` : ''}`);
        break;
      }
      case 'users passwd':
        await store.setPassword(a[0] as string, await readSecret('New password: '));
        await audit('set_password', `user:${a[0]}`);
        out.result({ updated: a[0] });
        out.line(`password of ${a[0]} changed`);
        break;
      case 'users delete':
        await store.deleteUser(a[0] as string);
        await audit('delete_user', `user:${a[0]}`);
        out.result({ deleted: a[0] });
        out.line(`deleted user ${a[0]} and revoked their tokens`);
        break;
      case 'roles list': {
        const roles = await store.listRoles();
        out.result(roles);
        out.line(
          formatTable(
            roles.map((r) => [r.name, r.members.join(', '), r.description ?? '']),
            { header: ['ROLE', 'MEMBERS', 'DESCRIPTION'] },
          ),
        );
        break;
      }
      case 'roles create':
        await store.createRole(a[0] as string, opts.description);
        await audit('create_role', `role:${a[0]}`);
        out.result({ created: a[0] });
        out.line(`created role ${a[0]}`);
        break;
      case 'roles delete':
        await store.deleteRole(a[0] as string);
        await audit('delete_role', `role:${a[0]}`);
        out.result({ deleted: a[0] });
        out.line(`deleted role ${a[0]} and its grants`);
        break;
      case 'roles add':
        await store.addUserToRole(a[1] as string, a[0] as string);
        await audit('add_member', `role:${a[0]}`, { user: a[1] });
        out.result({ role: a[0], added: a[1] });
        out.line(`${a[1]} is now in ${a[0]}`);
        break;
      case 'roles remove':
        await store.removeUserFromRole(a[1] as string, a[0] as string);
        await audit('remove_member', `role:${a[0]}`, { user: a[1] });
        out.result({ role: a[0], removed: a[1] });
        out.line(`${a[1]} is no longer in ${a[0]}`);
        break;
      case 'tokens list': {
        const tokens = await store.listTokens(opts.user);
        out.result(tokens);
        out.line(
          formatTable(
            tokens.map((t) => [
              t.id,
              t.name,
              t.user,
              t.scopes?.join(',') ?? 'all',
              t.revokedAt ? 'revoked' : t.expiresAt && t.expiresAt < new Date() ? 'expired' : 'active',
              when(t.expiresAt),
              when(t.lastUsedAt),
            ]),
            { header: ['ID', 'NAME', 'USER', 'SCOPES', 'STATE', 'EXPIRES', 'LAST USED'] },
          ),
        );
        break;
      }
      case 'tokens create': {
        const expiresInMs = opts.expires === undefined ? undefined : parseDuration(opts.expires);
        if (opts.expires !== undefined && expiresInMs === undefined)
          throw new InvalidInputError(
            `invalid --expires "${opts.expires}"`,
            'use a duration such as 30d, 12h or 90m',
          );
        const { token, info } = await store.createToken(a[0] as string, {
          name: opts.name,
          scopes: opts.scope,
          expiresInMs,
        });
        await audit('create_token', `user:${a[0]}`, { token: info.id, scopes: opts.scope ?? null });
        out.result({ ...info, token });
        out.line(token);
        out.note(
          `token ${info.id} for ${info.user}: shown once, store it now (send it as "Authorization: Bearer <token>")`,
        );
        break;
      }
      case 'tokens revoke':
        await store.revokeToken(a[0] as string);
        await audit('revoke_token', `token:${a[0]}`);
        out.result({ revoked: a[0] });
        out.line(`revoked token ${a[0]}`);
        break;
      case 'grants list': {
        const grants = await store.listGrants(opts.role);
        out.result(grants);
        out.line(
          formatTable(
            grants.map((g) => [g.role, g.privilege, `${g.kind}:${g.name}`]),
            { header: ['ROLE', 'PRIVILEGE', 'RESOURCE'] },
          ),
        );
        break;
      }
      default: {
        const grant: Grant = {
          role: a[0] as string,
          privilege: a[1] as Grant['privilege'],
          ...parseResource(a[2] as string),
        };
        if (cmd.name() === 'add') {
          await store.grant(grant, 'cli');
          await audit('grant', `${grant.kind}:${grant.name}`, {
            role: grant.role,
            privilege: grant.privilege,
          });
          out.result({ granted: grant });
          out.line(`granted ${grant.privilege} on ${grant.kind}:${grant.name} to ${grant.role}`);
        } else {
          const removed = await store.revoke(grant);
          await audit('revoke', `${grant.kind}:${grant.name}`, {
            role: grant.role,
            privilege: grant.privilege,
            removed,
          });
          out.result({ revoked: grant, removed });
          out.line(
            removed
              ? `revoked ${grant.privilege} on ${grant.kind}:${grant.name} from ${grant.role}`
              : 'no such grant',
          );
        }
      }
    }
  } finally {
    await runtime.close();
  }
  return 0;
}
