import type { Command } from 'commander';
import type { GlobalOptions } from '../main.js';

type Action = (args: unknown[], globals: GlobalOptions, cmd: Command) => Promise<number | undefined>;
type Lazy = (load: () => Promise<{ default: Action }>) => (...args: unknown[]) => Promise<void>;

const DIR_HELP = 'directory of dbt_project.yml, relative to the project (default: the project directory)';
const SELECT_HELP = 'models: name, +name (and ancestors), name+ (and descendants), tag:x, path:models/dir';
const TARGET_HELP =
  'schema of models without a custom schema (default: the dbt project name, prefixed by --env unless prod)';

/** Register `sluice models list|show|compile|build` and `sluice test`; each runs ./models.js. */
export function registerModelsCommands(program: Command, lazy: Lazy): void {
  const action = lazy(() => import('./models.js'));
  const models = program
    .command('models')
    .description('SQL models of a dbt project (models/, seeds/, macros/, schema.yml) built on the lake');
  models
    .command('list')
    .description('models and seeds with their materialization, table and tags')
    .option('--dir <path>', DIR_HELP)
    .option('-s, --select <selector...>', SELECT_HELP)
    .option('--target-schema <schema>', TARGET_HELP)
    .action(action);
  models
    .command('show')
    .description('a model: file, config, refs, sources, columns, tests and compiled SQL')
    .argument('<model>', 'model or seed name')
    .option('--dir <path>', DIR_HELP)
    .option('--target-schema <schema>', TARGET_HELP)
    .action(action);
  models
    .command('compile')
    .description('print the SQL of models (Jinja rendered, refs resolved, ephemeral models inlined)')
    .option('--dir <path>', DIR_HELP)
    .option('-s, --select <selector...>', SELECT_HELP)
    .option('--incremental', 'render with is_incremental() true')
    .option('--target-schema <schema>', TARGET_HELP)
    .action(action);
  models
    .command('build')
    .description('build models and seeds in ref order (one commit each), then run their data tests')
    .option('--dir <path>', DIR_HELP)
    .option('-s, --select <selector...>', SELECT_HELP)
    .option('--full-refresh', 'rebuild incremental models from scratch')
    .option('--skip-tests', 'do not run data tests after the build')
    .option('--threads <n>', 'models built at once', '4')
    .option('--target-schema <schema>', TARGET_HELP)
    .action(action);
  program
    .command('deploy')
    .description(
      'blue-green: build models into staging namespaces, test and health-check them there, then switch every production table and view in one transaction (nothing changes if a step fails)',
    )
    .option('--dir <path>', DIR_HELP)
    .option('-s, --select <selector...>', SELECT_HELP)
    .option('--full-refresh', 'rebuild incremental models from scratch')
    .option('--threads <n>', 'models built at once', '4')
    .option('--target-schema <schema>', TARGET_HELP)
    .action(action);
  program
    .command('test')
    .description('run the data tests of models (schema.yml and tests/*.sql) and source freshness checks')
    .option('--dir <path>', DIR_HELP)
    .option('-s, --select <selector...>', SELECT_HELP)
    .option('--target-schema <schema>', TARGET_HELP)
    .action(action);
}
