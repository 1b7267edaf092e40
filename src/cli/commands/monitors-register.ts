import type { Command } from 'commander';
import type { GlobalOptions } from '../main.js';

type Action = (args: unknown[], globals: GlobalOptions, cmd: Command) => Promise<number | undefined>;
type Lazy = (load: () => Promise<{ default: Action }>) => (...args: unknown[]) => Promise<void>;

/** Register `sluice monitors list|check`; each runs ./monitors.js. */
export function registerMonitorsCommands(program: Command, lazy: Lazy): void {
  const action = lazy(() => import('./monitors.js'));
  const monitors = program
    .command('monitors')
    .description('monitor rules (monitors/*.yaml): a measure per dimension value checked on a schedule');
  monitors
    .command('list')
    .description('rules with their condition, schedule and current state')
    .action(action);
  monitors
    .command('check')
    .description(
      'evaluate rules now, store their state and send alerts of changes; exit 1 if any value fires',
    )
    .argument('[name]', 'the rule to check (default: every rule)')
    .option('--dry-run', 'evaluate and print only: store no state, send no alert')
    .action(action);
}
