/** The interactive prompt of `sluice sql`: multi-line statements ended by `;`, history kept in a file. */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tokenize } from '../../engine/lexer.js';
import { errorMessage } from '../../util/index.js';
import { printRows, type Sink, summaryLine, type TextFormat } from './format.js';
import type { SqlRunner } from './types.js';

const HISTORY_MAX = 1000;

function loadHistory(file: string): string[] {
  if (!existsSync(file)) return [];
  // readline wants the newest entry first.
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(-HISTORY_MAX)
    .reverse()
    .map(decodeEntry);
}

const encodeEntry = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const decodeEntry = (s: string) => s.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));

/** Whether the text so far ends a statement (a `;` outside strings and comments). */
export function statementComplete(text: string): boolean {
  const tokens = tokenize(text);
  return tokens.length > 0 && tokens[tokens.length - 1]?.text === ';';
}

/** Run the prompt until `\q`, `exit` or Ctrl-D. Ctrl-C cancels the running statement or clears the input. */
export async function repl(
  runner: SqlRunner,
  format: TextFormat,
  historyFile: string,
  out: Sink,
): Promise<void> {
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: true,
    history: loadHistory(historyFile),
    historySize: HISTORY_MAX,
    removeHistoryDuplicates: true,
  });
  let buffer = '';
  let running: AbortController | undefined;
  const prompt = () => {
    rl.setPrompt(buffer ? '     -> ' : 'sluice> ');
    rl.prompt();
  };
  rl.on('SIGINT', () => {
    if (running) {
      running.abort();
      return;
    }
    if (buffer) {
      buffer = '';
      process.stdout.write('\n');
      prompt();
    } else rl.close();
  });
  process.stdout.write('Sluice SQL. End statements with ";". \\q quits, Ctrl-C cancels.\n');
  prompt();
  for await (const line of rl) {
    const trimmed = line.trim();
    if (!buffer && ['\\q', 'exit', 'quit'].includes(trimmed)) break;
    buffer = buffer ? `${buffer}\n${line}` : line;
    if (!buffer.trim() || !statementComplete(buffer)) {
      if (!buffer.trim()) buffer = '';
      prompt();
      continue;
    }
    const sql = buffer;
    buffer = '';
    try {
      appendFileSync(historyFile, `${encodeEntry(sql)}\n`);
    } catch {}
    running = new AbortController();
    rl.pause();
    try {
      const result = await runner.run(sql, running.signal);
      if (result.columns.length) await printRows(result, format, out);
      else {
        for await (const _ of result.rows);
        await out(`${summaryLine(result)}\n`);
      }
    } catch (err) {
      await out(`error: ${errorMessage(err)}\n`);
    } finally {
      running = undefined;
      rl.resume();
    }
    prompt();
  }
  rl.close();
}
