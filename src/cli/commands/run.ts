/**
 * `sluice run PIPELINE`: start a run (or resume one, re-run from a task, or backfill a date
 * range), work on it in this process, show live progress, and exit 0 only on success.
 */
import type { Command } from 'commander';
import type { Orchestrator, RunInfo } from '../../orchestrator/index.js';
import { REPROCESS_FROM_PARAM, REPROCESS_PARAM } from '../../orchestrator/index.js';
import { InvalidInputError } from '../../util/index.js';
import type { GlobalOptions } from '../main.js';
import { formatTable, type Output } from '../output.js';
import {
  elapsed,
  openOrchestratorCommand,
  parseDate,
  parseParams,
  parsePositive,
  runJson,
} from './orchestrator-common.js';
import { RunProgress } from './run-progress.js';

interface RunOptions {
  param?: string[];
  resume?: string;
  fromTask?: string;
  backfill?: boolean;
  reprocess?: boolean;
  from?: string;
  to?: string;
  parallel?: string;
  dryRun?: boolean;
  wait: boolean;
  worker: boolean;
  concurrency?: string;
}

export default async function runCommand(
  args: unknown[],
  globals: GlobalOptions,
  cmd: Command,
): Promise<number> {
  const name = args[0] as string;
  const o = cmd.opts<RunOptions>();
  if ((o.to || o.parallel) && !o.backfill)
    throw new InvalidInputError('--to and --parallel go with --backfill');
  if (o.from && !o.backfill && !o.reprocess)
    throw new InvalidInputError('--from goes with --backfill or --reprocess');
  if (o.reprocess && (o.backfill || o.resume || o.fromTask))
    throw new InvalidInputError(
      '--reprocess starts a new run: it cannot be combined with --backfill, --resume or --from-task',
    );
  if (o.backfill && (o.resume || o.fromTask))
    throw new InvalidInputError('--backfill cannot be combined with --resume or --from-task');
  const c = await openOrchestratorCommand(globals);
  const { orch, out } = c;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  try {
    orch.pipeline(name);
    if (o.backfill) return await backfill(orch, name, o, out, stop.signal);
    let runId: string;
    if (o.resume || o.fromTask) {
      runId = o.resume ?? (await latestRun(orch, name));
      const plan = await orch.resume(runId, { fromTask: o.fromTask, dryRun: o.dryRun });
      const what = `${plan.rerun.length + plan.added.length} task(s): ${[...plan.rerun, ...plan.added].join(', ') || 'none'}`;
      if (o.dryRun) {
        out.result(plan);
        out.line(`would re-run ${what} of run ${runId}; keep ${plan.kept.join(', ') || 'none'}`);
        if (plan.removed.length)
          out.line(`tasks no longer in the pipeline (not run): ${plan.removed.join(', ')}`);
        return 0;
      }
      out.note(`re-running ${what} of run ${runId}`);
    } else {
      if (o.dryRun) throw new InvalidInputError('--dry-run goes with --resume, --from-task or --backfill');
      const params = parseParams(o.param);
      // Ingest tasks rebuild their tables from the raw zone instead of calling their sources.
      if (o.reprocess)
        Object.assign(params, { [REPROCESS_PARAM]: 'true', [REPROCESS_FROM_PARAM]: o.from ?? '' });
      runId = (await orch.trigger(name, { params })).runId;
      out.note(`run ${runId} of ${name} started`);
    }
    if (!o.wait) {
      out.result({ runId });
      out.line(runId);
      return 0;
    }
    if (o.worker)
      await orch.startWorker({ concurrency: parsePositive(o.concurrency, '--concurrency', 4), role: 'cli' });
    const progress = globals.json ? undefined : new RunProgress();
    const run = await orch.waitForRun(runId, {
      signal: stop.signal,
      onUpdate: (r, t) => progress?.update(r, t),
    });
    return await summary(orch, run, out);
  } finally {
    process.removeListener('SIGINT', onSignal);
    await c.close();
  }
}

async function latestRun(orch: Orchestrator, name: string): Promise<string> {
  const [run] = await orch.listRuns({ pipeline: name, limit: 1 });
  if (!run)
    throw new InvalidInputError(
      `pipeline "${name}" has no run to re-run from`,
      `start one: sluice run ${name}`,
    );
  return run.runId;
}

async function summary(orch: Orchestrator, run: RunInfo, out: Output): Promise<number> {
  const tasks = await orch.taskRuns(run.runId);
  out.result(runJson(run, tasks));
  out.line(
    formatTable(
      tasks.map((t) => [t.taskId, t.state, String(t.tries), elapsed(t.startedAt, t.endedAt), t.error ?? '']),
      { header: ['task', 'state', 'attempts', 'time', 'error'] },
    ),
  );
  out.line(
    `run ${run.runId} ${run.state} in ${elapsed(run.startedAt ?? run.createdAt, run.endedAt)} (version ${run.versionHash})`,
  );
  if (run.state !== 'success')
    out.line(`logs: sluice runs logs ${run.runId}    why: sluice why ${run.pipeline}`);
  return run.state === 'success' ? 0 : 1;
}

async function backfill(
  orch: Orchestrator,
  name: string,
  o: RunOptions,
  out: Output,
  signal: AbortSignal,
): Promise<number> {
  const from = parseDate(o.from, '--from');
  const to = parseDate(o.to, '--to');
  const parallel = parsePositive(o.parallel, '--parallel', 1);
  if (!o.dryRun && o.worker) await orch.startWorker({ concurrency: Math.max(4, parallel), role: 'cli' });
  const result = await orch.backfill(name, {
    from,
    to,
    parallel,
    dryRun: o.dryRun,
    params: parseParams(o.param),
    signal,
    onRun: (e) =>
      out.note(
        `${e.interval.start.toISOString()}  ${e.existing ? 'already has a run, skipped' : `run ${e.runId} started`}`,
      ),
  });
  out.result(result);
  out.line(
    formatTable(
      result.intervals.map((i) => [
        i.start,
        i.end,
        i.existing ? 'existing' : o.dryRun ? 'would run' : 'ran',
        i.state ?? '',
        i.runId ?? '',
      ]),
      { header: ['logical date', 'interval end', 'action', 'state', 'run'] },
    ),
  );
  return result.intervals.every((i) => !i.state || i.state === 'success') ? 0 : 1;
}
