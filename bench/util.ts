import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

/** Where benchmark JSON goes (git-ignored). */
export const benchOutDir = join(new URL('../..', import.meta.url).pathname, 'bench', 'out');

/** The machine a result was measured on, recorded beside every result. */
export function machine(): { cpu: string; cores: number; memGiB: number; node: string; date: string } {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.versions.node,
    date: new Date().toISOString(),
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Print rows as an aligned table on stdout. */
export function printTable(header: string[], rows: (string | number)[][]): void {
  const all = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i] ?? '').length)));
  for (const [n, row] of all.entries()) {
    console.log(row.map((c, i) => String(c).padEnd(widths[i] ?? 0)).join('  '));
    if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

/** Save a benchmark's result as bench/out/NAME.json. */
export function saveResult(name: string, result: unknown): string {
  mkdirSync(benchOutDir, { recursive: true });
  const file = join(benchOutDir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ machine: machine(), result }, null, 2)}\n`);
  return file;
}
