import { Command, CommanderError, Option } from 'commander';
import { registerAuthCommands } from './commands/auth-register.js';
import { registerCdcCommands } from './commands/cdc-register.js';
import { registerEventsCommands } from './commands/events-register.js';
import { registerModelsCommands } from './commands/models-register.js';
import { registerMonitorsCommands } from './commands/monitors-register.js';
import { registerOrchestratorCommands } from './commands/orchestrator-register.js';
import { registerTablesCommands } from './commands/tables-register.js';
import { reportError } from './output.js';
import { packageVersion } from './version.js';

/** Options every command accepts (see `sluice --help`). */
export interface GlobalOptions {
  project?: string;
  json?: boolean;
  logLevel?: string;
  env?: string;
}

type Action = (args: unknown[], globals: GlobalOptions, cmd: Command) => Promise<number | undefined>;

/**
 * Each command's code is imported only when that command runs, so `sluice --help` and
 * `sluice version` start without loading database drivers or the AWS SDK.
 */
function lazy(load: () => Promise<{ default: Action }>) {
  return async (...all: unknown[]) => {
    const cmd = all[all.length - 1] as Command;
    const globals = cmd.optsWithGlobals() as GlobalOptions;
    const args = all.slice(0, -1);
    const action = (await load()).default;
    const code = await action(args, globals, cmd);
    if (code) process.exitCode = code;
  };
}

export function buildProgram(): Command {
  const program = new Command('sluice')
    .description('Sluice: ingest, lakehouse tables, orchestration, event bus and SQL in one tool.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .addOption(
      new Option(
        '-p, --project <dir>',
        'project directory (default: the current directory or a parent holding sluice.yaml)',
      ),
    )
    .addOption(new Option('--json', 'machine-readable output on stdout'))
    .addOption(
      new Option('--log-level <level>', 'log level').choices([
        'trace',
        'debug',
        'info',
        'warn',
        'error',
        'silent',
      ]),
    )
    .addOption(new Option('--env <name>', 'environment from sluice.yaml `environments:` (or $SLUICE_ENV)'))
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false })
    .exitOverride();

  program
    .command('version')
    .description('print the version of sluice, Node.js and the platform')
    .action(lazy(() => import('./commands/version.js')));

  program
    .command('init')
    .description('create a project: sluice.yaml, pipelines/, models/, events/, .gitignore')
    .argument('[dir]', 'directory to create the project in', '.')
    .option('--name <name>', 'project name (default: the directory name)')
    .option('--force', 'overwrite an existing sluice.yaml')
    .option(
      '--template <name>',
      'start from a template: marketplace (pipelines, models and event types of the demo)',
    )
    .option('--upgrade', "update the template's files you have not edited to this version of Sluice")
    .action(lazy(() => import('./commands/init.js')));

  program
    .command('status')
    .description('show the project, its configuration and the health of each backend')
    .action(lazy(() => import('./commands/status.js')));

  program
    .command('serve')
    .description('serve the HTTP API, scheduler and workers for the project until stopped')
    .addOption(
      new Option('--role <role>', 'which parts to run')
        .choices(['all', 'api', 'worker', 'scheduler'])
        .default('all'),
    )
    .option('--host <host>', 'address to listen on (default: server.host in sluice.yaml)')
    .option('--http-port <port>', 'HTTP port (default: server.http in sluice.yaml; 0 picks a free port)')
    .option(
      '--pg-port <port>',
      'PostgreSQL wire port (default: server.pg in sluice.yaml; 0 picks a free port)',
    )
    .action(lazy(() => import('./commands/serve.js')));

  registerTablesCommands(program, lazy);
  registerAuthCommands(program, lazy);
  registerOrchestratorCommands(program, lazy);

  program
    .command('sql')
    .description(
      'run SQL over the lake tables (embedded, or on a server with --server); a prompt when no query is given',
    )
    .argument('[query]', 'the statements to run (default: -f FILE, else stdin, else an interactive prompt)')
    .option('-f, --file <file>', 'read the statements from a file')
    .option('--server <url>', 'run on a Sluice server (its HTTP URL) instead of in this process')
    .option('--format <format>', 'table | csv | json | ndjson | parquet (default table; json with --json)')
    .option('-o, --output <file>', 'write the result to a file instead of stdout')
    .option('--read-only', 'refuse statements that write')
    .option(
      '--user <name>',
      "embedded: run under this Sluice user's grants and PII masking (default: the owner)",
    )
    .action(lazy(() => import('./commands/sql.js')));
  registerModelsCommands(program, lazy);
  registerMonitorsCommands(program, lazy);
  registerEventsCommands(program, lazy);
  registerCdcCommands(program, lazy);

  program
    .command('demo')
    .description('create a demo project and check that every backend works')
    .argument('[dir]', 'directory of the demo project', 'sluice-demo')
    .option('--no-serve', 'set up the demo and exit')
    .action(lazy(() => import('./commands/demo.js')));

  return program;
}

/** Run the CLI with `argv` (as in process.argv) and set process.exitCode. */
export async function run(argv: string[]): Promise<void> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version requests exit 0; usage errors were already printed by commander.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    process.exitCode = reportError(err, json);
  }
}
