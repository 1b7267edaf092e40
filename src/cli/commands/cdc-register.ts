import type { Command } from 'commander';
import type { GlobalOptions } from '../main.js';

type Action = (args: unknown[], globals: GlobalOptions, cmd: Command) => Promise<number | undefined>;
type Lazy = (load: () => Promise<{ default: Action }>) => (...args: unknown[]) => Promise<void>;

const SPEC_HELP =
  'YAML file with the CDC task: name and source.postgres_cdc (environment references interpolated)';

/** Register `sluice cdc run|status|reset`; each runs ./cdc.js, loaded only when used. */
export function registerCdcCommands(program: Command, lazy: Lazy): void {
  const action = lazy(() => import('./cdc.js'));
  const cdc = program.command('cdc').description('change data capture from PostgreSQL into lake tables');
  cdc
    .command('run')
    .description('take the initial snapshot (first run), then stream changes until interrupted')
    .argument('<spec>', SPEC_HELP)
    .option('--until-caught-up', 'stop once the changes committed before the start are applied')
    .action(action);
  cdc
    .command('status')
    .description('the slot (lag, WAL status), the confirmed LSN and the last LSN committed per table')
    .argument('<spec>', SPEC_HELP)
    .action(action);
  cdc
    .command('reset')
    .description('drop the slot, the state and the lake tables: the next run takes a new snapshot')
    .argument('<spec>', SPEC_HELP)
    .action(action);
}
