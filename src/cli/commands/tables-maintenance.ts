import type { Command } from 'commander';
import type { GlobalOptions } from '../main.js';

type Action = (args: unknown[], globals: GlobalOptions, cmd: Command) => Promise<number | undefined>;
type Lazy = (load: () => Promise<{ default: Action }>) => (...args: unknown[]) => Promise<void>;

/** Register `sluice tables compact|expire|remove-orphans`; they run ./tables-maintenance-run.js, loaded only when used. */
export function registerTablesMaintenance(tables: Command, lazy: Lazy): void {
  const action = lazy(() => import('./tables-maintenance-run.js'));
  tables
    .command('compact')
    .description('rewrite small data files of each partition into files near the target size')
    .argument('<table>', 'NAMESPACE.TABLE')
    .option(
      '--target-file-size <bytes>',
      'size of the rewritten files (default: the table property, else 128 MiB)',
    )
    .option('--where <predicate>', 'only compact files that may hold rows matching this SQL predicate')
    .action(action);
  tables
    .command('expire')
    .description('remove old snapshots and delete the files only they referenced')
    .argument('<table>', 'NAMESPACE.TABLE')
    .option('--older-than <duration>', 'expire snapshots older than this (e.g. 5d, 12h, 30m)', '5d')
    .option('--retain-last <n>', 'always keep this many of the newest snapshots', '1')
    .action(action);
  tables
    .command('remove-orphans')
    .description('delete files under the table location that no metadata references')
    .argument('<table>', 'NAMESPACE.TABLE')
    .option(
      '--older-than <duration>',
      'only files older than this (e.g. 3d); younger ones may belong to writes in progress',
      '3d',
    )
    .option('--dry-run', 'list the files without deleting them')
    .action(action);
}
