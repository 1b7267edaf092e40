import type { Command } from 'commander';
import type { GlobalOptions } from '../main.js';
import { registerTablesMaintenance } from './tables-maintenance.js';

type Action = (args: unknown[], globals: GlobalOptions, cmd: Command) => Promise<number | undefined>;
type Lazy = (load: () => Promise<{ default: Action }>) => (...args: unknown[]) => Promise<void>;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Register `sluice tables ...`; every subcommand runs ./tables.js, loaded only when used. */
export function registerTablesCommands(program: Command, lazy: Lazy): void {
  const action = lazy(() => import('./tables.js'));
  const tables = program
    .command('tables')
    .description('inspect and manage Iceberg tables and namespaces in the catalog');

  tables
    .command('list')
    .description('list tables: of one namespace, or of every namespace')
    .argument('[namespace]', 'namespace, levels separated by "." (e.g. shop or a.b)')
    .action(action);
  tables
    .command('show')
    .description(
      'location, format version, current snapshot, schema, partition spec and properties of a table',
    )
    .argument('<table>', 'NAMESPACE.TABLE')
    .action(action);
  tables
    .command('schema')
    .description('columns of the current schema')
    .argument('<table>', 'NAMESPACE.TABLE')
    .action(action);
  tables
    .command('snapshots')
    .description('snapshots of a table, oldest first')
    .argument('<table>', 'NAMESPACE.TABLE')
    .action(action);
  tables
    .command('history')
    .description(
      'when each snapshot became current, its parent, and whether it is an ancestor of the current one',
    )
    .argument('<table>', 'NAMESPACE.TABLE')
    .action(action);
  tables
    .command('files')
    .description('data and delete files of a snapshot (the current one by default)')
    .argument('<table>', 'NAMESPACE.TABLE')
    .option('--snapshot <id>', 'snapshot id')
    .action(action);
  tables
    .command('rollback')
    .description('make an earlier snapshot current again (moves branch main)')
    .argument('<table>', 'NAMESPACE.TABLE')
    .requiredOption('--to <snapshotId>', 'snapshot to make current: an ancestor of the current snapshot')
    .option('--force', 'allow a snapshot that is not an ancestor of the current one')
    .action(action);
  tables
    .command('drop')
    .description('remove a table from the catalog; with --purge, delete its files too')
    .argument('<table>', 'NAMESPACE.TABLE')
    .option('--purge', 'delete every file under the table location')
    .action(action);

  tables
    .command('set-pii')
    .description(
      'tag columns as PII: masked in SQL for readers without the pii privilege (no columns: clear the tag)',
    )
    .argument('<table>', 'NAMESPACE.TABLE')
    .argument('[columns...]', 'columns, each optionally COLUMN:METHOD (hash, redact, null)')
    .option('--method <method>', 'masking of columns listed without one: hash (default), redact or null')
    .action(action);
  tables
    .command('approve')
    .description('mark a table approved: with auth.approvedOnly, readers see only approved tables')
    .argument('<table>', 'NAMESPACE.TABLE')
    .option('--draft', 'mark it a draft again')
    .option('--owner <user>', 'the user who owns it (reads it while it is a draft)')
    .action(action);

  registerTablesMaintenance(tables, lazy);

  const namespaces = tables.command('namespaces').description('list, create and drop namespaces');
  namespaces
    .command('list')
    .description('list namespaces (every level), under PARENT when given')
    .argument('[parent]', 'parent namespace')
    .action(action);
  namespaces
    .command('create')
    .description('create a namespace')
    .argument('<namespace>', 'namespace, levels separated by "."')
    .option('--property <key=value>', 'namespace property (repeatable)', collect)
    .action(action);
  namespaces
    .command('drop')
    .description('drop an empty namespace')
    .argument('<namespace>', 'namespace')
    .action(action);
}
