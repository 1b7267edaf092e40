import type { Command } from 'commander';
import type { GlobalOptions } from '../main.js';

type Action = (args: unknown[], globals: GlobalOptions, cmd: Command) => Promise<number | undefined>;
type Lazy = (load: () => Promise<{ default: Action }>) => (...args: unknown[]) => Promise<void>;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const RESOURCE_HELP =
  'KIND:NAME — namespace:marts, table:shop.orders, pipeline:orders, event_type:order.created; NAME * for all';

/** Register `sluice users|roles|tokens|grants ...`; each runs ./auth.js, loaded only when used. */
export function registerAuthCommands(program: Command, lazy: Lazy): void {
  const action = lazy(() => import('./auth.js'));

  const users = program
    .command('users')
    .description('manage users (passwords are stored as argon2id and SCRAM hashes)');
  users.command('list').description('list users and their roles').action(action);
  users
    .command('create')
    .description(
      'create a user; the password is read from stdin with --password-stdin (none: token-only service user)',
    )
    .argument('<name>', 'user name')
    .option('--password-stdin', 'read the password from the first line of stdin')
    .option('--role <role>', 'add the user to a role (repeatable)', collect)
    .action(action);
  users
    .command('passwd')
    .description("set a user's password, read from the first line of stdin")
    .argument('<name>', 'user name')
    .action(action);
  users
    .command('delete')
    .description('delete a user and revoke their tokens')
    .argument('<name>', 'user name')
    .action(action);

  const roles = program
    .command('roles')
    .description('manage roles: grants are given to roles, users are members of roles');
  roles.command('list').description('list roles and their members').action(action);
  roles
    .command('create')
    .description('create a role')
    .argument('<name>', 'role name')
    .option('--description <text>', 'what the role is for')
    .action(action);
  roles
    .command('delete')
    .description('delete a role with its grants')
    .argument('<name>', 'role name')
    .action(action);
  roles
    .command('add')
    .description('add a user to a role')
    .argument('<role>')
    .argument('<user>')
    .action(action);
  roles
    .command('remove')
    .description('remove a user from a role')
    .argument('<role>')
    .argument('<user>')
    .action(action);

  const tokens = program.command('tokens').description('manage service tokens (shown once, stored hashed)');
  tokens
    .command('list')
    .description('list tokens (never their secrets)')
    .option('--user <name>', "only this user's")
    .action(action);
  tokens
    .command('create')
    .description('create a token for a user and print it once')
    .argument('<user>', 'the user the token acts as')
    .option('--name <name>', 'a name to recognise the token by')
    .option(
      '--scope <scope>',
      'limit the token to a privilege: read, write, admin, run... (repeatable)',
      collect,
    )
    .option('--expires <duration>', 'lifetime such as 30d, 12h or 90m (default: no expiry)')
    .action(action);
  tokens
    .command('revoke')
    .description('revoke a token')
    .argument('<id>', 'token id (from tokens list)')
    .action(action);

  const grants = program
    .command('grants')
    .description('grant privileges on namespaces, tables, pipelines and event types to roles');
  grants
    .command('list')
    .description('list grants')
    .option('--role <role>', "only this role's")
    .action(action);
  for (const verb of ['add', 'revoke'] as const) {
    grants
      .command(verb)
      .description(verb === 'add' ? 'grant a privilege to a role' : 'take a privilege back from a role')
      .argument('<role>', 'role name')
      .argument('<privilege>', 'read|write|admin|pii on data; view|run|edit on pipelines')
      .argument('<resource>', RESOURCE_HELP)
      .action(action);
  }
}
