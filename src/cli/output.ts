import { errorMessage, redactText, SluiceError } from '../util/index.js';

/** Where a command writes: results on stdout, progress and errors on stderr. */
export interface Output {
  readonly json: boolean;
  /** A result line (human mode) — ignored in JSON mode. */
  line(text?: string): void;
  /** The machine-readable result (JSON mode) — printed once. */
  result(value: unknown): void;
  /** Progress and notes for humans, on stderr (never pollutes piped stdout). */
  note(text: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    line(text = '') {
      if (!json) process.stdout.write(`${text}\n`);
    },
    result(value) {
      if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    note(text) {
      process.stderr.write(`${text}\n`);
    },
  };
}

/** Align rows into columns for terminal output. */
export function formatTable(rows: string[][], o: { header?: string[] } = {}): string {
  const all = o.header ? [o.header, ...rows] : rows;
  const widths: number[] = [];
  for (const row of all) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  const fmt = (row: string[]) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const lines = all.map(fmt);
  if (o.header) lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines.join('\n');
}

/** Print an error for a user (secrets redacted) and return the process exit code. */
export function reportError(err: unknown, json: boolean): number {
  const code = err instanceof SluiceError ? err.code : 'internal_error';
  const message = redactText(errorMessage(err));
  if (json) {
    process.stdout.write(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
  } else {
    process.stderr.write(`error: ${message}\n`);
    if (!(err instanceof SluiceError) && err instanceof Error && process.env.SLUICE_DEBUG && err.stack) {
      process.stderr.write(`${redactText(err.stack)}\n`);
    }
  }
  return code === 'invalid_usage' ? 2 : 1;
}
