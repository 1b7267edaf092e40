/** Shared by `sluice run`, `sluice runs` and `sluice why`: open the orchestrator, parse flags, show runs. */
import {
  formatDuration,
  type Orchestrator,
  openOrchestrator,
  type RunInfo,
  type TaskRunInfo,
} from '../../orchestrator/index.js';
import { openRuntime } from '../../runtime/index.js';
import { InvalidInputError } from '../../util/index.js';
import { type CommandContext, openCommand } from '../context.js';
import type { GlobalOptions } from '../main.js';

/** A command's orchestrator over its project; `close()` stops workers and backends. */
export async function openOrchestratorCommand(
  globals: GlobalOptions,
): Promise<CommandContext & { orch: Orchestrator; close: () => Promise<void> }> {
  const ctx = await openCommand(globals);
  const runtime = await openRuntime(ctx.project, ctx.log);
  let orch: Orchestrator;
  try {
    orch = await openOrchestrator(runtime);
  } catch (err) {
    await runtime.close();
    throw err;
  }
  return {
    ...ctx,
    orch,
    async close() {
      await orch.close({ abort: true });
      await runtime.close();
    },
  };
}

/** `--param k=v` values as a record. @throws InvalidInputError for a value without "=". */
export function parseParams(values: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new InvalidInputError(`--param expects KEY=VALUE, got "${v}"`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** A date flag: YYYY-MM-DD (UTC midnight) or an ISO timestamp. @throws InvalidInputError */
export function parseDate(value: string | undefined, flag: string): Date {
  const d =
    value === undefined
      ? Number.NaN
      : Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(d))
    throw new InvalidInputError(`${flag} expects a date such as 2026-01-31, got "${value ?? ''}"`);
  return new Date(d);
}

/** A positive integer flag. @throws InvalidInputError */
export function parsePositive(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidInputError(`${flag} expects a positive integer, got "${value}"`);
  return n;
}

/** How long a run or task took (or has been running). */
export function elapsed(start: Date | null, end: Date | null): string {
  if (!start) return '';
  return formatDuration((end ?? new Date()).getTime() - start.getTime());
}

/** A run as JSON output shows it, with its tasks. */
export function runJson(run: RunInfo, tasks: TaskRunInfo[]): Record<string, unknown> {
  return { ...run, tasks };
}
