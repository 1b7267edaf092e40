import { createWriteStream, existsSync, readFileSync, type WriteStream } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
// The lexer alone: `--server` never loads DuckDB.
import { splitStatements } from '../../engine/lexer.js';
import { InvalidInputError } from '../../util/index.js';
import { openCommand } from '../context.js';
import type { GlobalOptions } from '../main.js';
import { printRows, type Sink, summaryLine, type TextFormat } from '../sql/format.js';
import type { SqlRunner } from '../sql/types.js';

interface SqlOptions {
  server?: string;
  format?: string;
  output?: string;
  file?: string;
  readOnly?: boolean;
  user?: string;
}

const FORMATS = ['table', 'csv', 'json', 'ndjson', 'parquet'] as const;

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

function sinkOf(stream: NodeJS.WritableStream): Sink {
  return (text) =>
    new Promise<void>((res, rej) => {
      if (stream.write(text)) res();
      else {
        stream.once('drain', () => res());
        stream.once('error', rej);
      }
    });
}

async function openRunner(
  opts: SqlOptions,
  globals: GlobalOptions,
): Promise<{ runner: SqlRunner; history: string }> {
  if (opts.server) {
    if (opts.user)
      throw new InvalidInputError('--user is for embedded SQL; a server knows you by SLUICE_TOKEN');
    const { openRemote } = await import('../sql/remote.js');
    return {
      runner: openRemote(opts.server, opts.readOnly === true),
      history: join(homedir(), '.sluice_history'),
    };
  }
  const { project, log } = await openCommand(globals);
  const { openEmbedded } = await import('../sql/embedded.js');
  const history = existsSync(project.dataDir)
    ? join(project.dataDir, 'sql_history')
    : join(homedir(), '.sluice_history');
  const who = { user: opts.user, token: opts.user ? undefined : process.env.SLUICE_TOKEN || undefined };
  return { runner: await openEmbedded(project, log, opts.readOnly === true, who), history };
}

/** `sluice sql "QUERY"`: run statements embedded or on a server and print their results. */
export default async function sqlCommand(
  args: unknown[],
  globals: GlobalOptions,
  cmd: Command,
): Promise<number> {
  const opts = cmd.opts<SqlOptions>();
  const format = (opts.format ?? (globals.json ? 'json' : 'table')) as (typeof FORMATS)[number];
  if (!FORMATS.includes(format))
    throw new InvalidInputError(`--format must be one of ${FORMATS.join(', ')}, got "${format}"`);
  if (format === 'parquet' && !opts.output)
    throw new InvalidInputError('--format parquet needs --output FILE');
  const given = args[0] as string | undefined;
  if (given !== undefined && opts.file)
    throw new InvalidInputError('give the query as an argument or with -f, not both');
  let text: string | undefined = given;
  if (opts.file) text = readFileSync(resolve(opts.file), 'utf8');
  else if (text === undefined && !process.stdin.isTTY) text = await readStdin();
  const interactive = text === undefined;
  if (!interactive && splitStatements(text ?? '').length === 0)
    throw new InvalidInputError('no SQL statement given');

  const controller = new AbortController();
  const onSigint = () => controller.abort();
  // Ctrl-C from the start: a statement that has not begun yet is cancelled too.
  if (!interactive) process.once('SIGINT', onSigint);
  const { runner, history } = await openRunner(opts, globals).catch((err) => {
    process.removeListener('SIGINT', onSigint);
    throw err;
  });
  const file: WriteStream | undefined =
    opts.output && format !== 'parquet' ? createWriteStream(resolve(opts.output)) : undefined;
  const out = sinkOf(file ?? process.stdout);
  try {
    if (interactive) {
      const { repl } = await import('../sql/repl.js');
      await repl(runner, format === 'parquet' ? 'table' : format, history, out);
      return 0;
    }
    const statements = splitStatements(text ?? '');
    for (const [i, sql] of statements.entries()) {
      const last = i === statements.length - 1;
      if (format === 'parquet' && last) {
        const n = await runner.toParquet(sql, resolve(opts.output as string), controller.signal);
        // A server answer without its row count still names the file.
        process.stderr.write(`wrote ${Number.isFinite(n) ? `${n} rows ` : ''}to ${opts.output}\n`);
        continue;
      }
      const result = await runner.run(sql, controller.signal);
      if (result.columns.length === 0 || (format === 'parquet' && !last)) {
        for await (const _ of result.rows);
        process.stderr.write(`${summaryLine(result)}\n`);
      } else await printRows(result, format as TextFormat, out);
    }
    return 0;
  } catch (err) {
    if (controller.signal.aborted) {
      process.stderr.write('cancelled\n');
      return 130;
    }
    throw err;
  } finally {
    process.removeListener('SIGINT', onSigint);
    if (file) await new Promise<void>((res) => file.end(() => res()));
    await runner.close();
  }
}
