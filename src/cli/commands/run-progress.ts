/**
 * Live progress of a run: on a terminal, a block of one line per task redrawn in place
 * (state, time, the task's latest progress report); otherwise one plain line per change.
 */
import type { RunInfo, TaskRunInfo } from '../../orchestrator/index.js';
import { elapsed } from './orchestrator-common.js';

const SYMBOL: Record<string, string> = {
  pending: '·',
  waiting: '…',
  queued: '○',
  running: '▶',
  retry: '↻',
  success: '✓',
  failed: '✗',
  upstream_failed: '⊘',
  skipped: '-',
  cancelled: '■',
};

/** Renders updates of one run to a stream. */
export class RunProgress {
  readonly #stream: NodeJS.WriteStream;
  readonly #tty: boolean;
  #drawn = 0;
  readonly #seen = new Map<string, string>();

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.#stream = stream;
    this.#tty = stream.isTTY === true;
  }

  update(run: RunInfo, tasks: TaskRunInfo[]): void {
    if (this.#tty) this.#redraw(run, tasks);
    else this.#lines(tasks);
  }

  #redraw(run: RunInfo, tasks: TaskRunInfo[]): void {
    const counts = new Map<string, number>();
    for (const t of tasks) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
    const shown =
      tasks.length > 30
        ? tasks
            .filter((t) => t.state === 'running' || t.state === 'failed' || t.state === 'retry')
            .slice(0, 30)
        : tasks;
    const lines = [
      `${run.pipeline} ${run.runId}  ${run.state}  ${elapsed(run.startedAt ?? run.createdAt, run.endedAt)}  ` +
        [...counts].map(([s, n]) => `${n} ${s}`).join(', '),
      ...shown.map(
        (t) =>
          `  ${SYMBOL[t.state] ?? '?'} ${t.taskId.padEnd(24)} ${t.state.padEnd(15)} ${elapsed(t.startedAt, t.endedAt).padEnd(8)} ${describe(t)}`,
      ),
    ];
    const width = this.#stream.columns ?? 120;
    let out = this.#drawn > 0 ? `\x1b[${this.#drawn}F` : '';
    for (const line of lines) out += `\x1b[2K${line.slice(0, width - 1)}\n`;
    for (let i = lines.length; i < this.#drawn; i++) out += '\x1b[2K\n';
    this.#stream.write(out);
    this.#drawn = Math.max(lines.length, this.#drawn);
  }

  #lines(tasks: TaskRunInfo[]): void {
    for (const t of tasks) {
      if (this.#seen.get(t.taskId) === t.state) continue;
      this.#seen.set(t.taskId, t.state);
      if (t.state === 'pending') continue;
      const extra = t.state === 'failed' || t.state === 'retry' ? `: ${t.error ?? ''}` : '';
      this.#stream.write(`${new Date().toISOString().slice(11, 19)} ${t.taskId} ${t.state}${extra}\n`);
    }
  }
}

function describe(t: TaskRunInfo): string {
  if (t.state === 'failed' || t.state === 'retry' || t.state === 'waiting') return t.error ?? '';
  const p = t.progress;
  if (!p) return '';
  return Object.entries(p)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}
