import type { Command } from 'commander';
import type { GlobalOptions } from '../main.js';

type Action = (args: unknown[], globals: GlobalOptions, cmd: Command) => Promise<number | undefined>;
type Lazy = (load: () => Promise<{ default: Action }>) => (...args: unknown[]) => Promise<void>;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Register `sluice run`, `sluice runs ...` and `sluice why`. */
export function registerOrchestratorCommands(program: Command, lazy: Lazy): void {
  program
    .command('run')
    .description('run a pipeline and wait for it, with live progress; exit code 0 only on success')
    .argument('<pipeline>', 'pipeline name')
    .option('--param <key=value>', 'run parameter ({{ params.key }}); repeatable', collect)
    .option('--resume <run-id>', 're-run the failed and not-run tasks of a failed or cancelled run')
    .option(
      '--from-task <task>',
      're-run this task and everything downstream (of --resume RUN, else the latest run)',
    )
    .option('--backfill', 'one run per schedule interval between --from and --to')
    .option(
      '--reprocess',
      'rebuild the tables of ingest tasks from the raw zone, without calling the sources',
    )
    .option(
      '--from <date>',
      'first logical date of a backfill, or first raw-zone date of --reprocess (YYYY-MM-DD)',
    )
    .option('--to <date>', 'last logical date of a backfill (inclusive)')
    .option('--parallel <n>', 'backfill runs active at once (default 1)')
    .option('--dry-run', 'show what a resume or backfill would run, and run nothing')
    .option('--no-wait', 'start the run and print its id without waiting')
    .option('--no-worker', 'do not work on the run in this process (leave it to `sluice serve` workers)')
    .option('--concurrency <n>', 'tasks this process runs at once (default 4)')
    .action(lazy(() => import('./run.js')));

  const runs = program.command('runs').description('run history: list, show, logs; cancel and mark runs');
  const action = lazy(() => import('./runs.js'));
  runs
    .command('list')
    .description('recent runs, newest first')
    .option('--pipeline <name>', 'only runs of this pipeline')
    .option('--state <state>', 'only runs in this state (queued, running, success, failed, cancelled)')
    .option('--limit <n>', 'how many (default 20)')
    .action(action);
  runs.command('show').description('a run and its tasks').argument('<run-id>').action(action);
  runs
    .command('logs')
    .description('captured logs of a run (stdout/stderr of isolated tasks included), per attempt')
    .argument('<run-id>')
    .option('--task <task>', 'only this task')
    .option('--attempt <n>', 'only this attempt')
    .action(action);
  runs.command('cancel').description('cancel a queued or running run').argument('<run-id>').action(action);
  runs
    .command('mark')
    .description('mark a run (or one task with --task) success or failed')
    .argument('<run-id>')
    .argument('<state>', 'success or failed')
    .option('--task <task>', 'mark only this task; downstream tasks then run or fail accordingly')
    .action(action);

  program
    .command('why')
    .description(
      'explain why a pipeline or task did not run (not due, upstream failed, pool full, paused, no worker)',
    )
    .argument('<pipeline>', 'pipeline name')
    .option('--task <task>', 'one task of the latest run')
    .action(lazy(() => import('./why.js')));
}
