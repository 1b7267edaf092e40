/** `sluice runs list|show|logs|cancel|mark`: run history and operations on runs. */
import type { Command } from 'commander';
import { RUN_STATES, type RunState } from '../../orchestrator/index.js';
import { InvalidInputError } from '../../util/index.js';
import type { GlobalOptions } from '../main.js';
import { formatTable } from '../output.js';
import { elapsed, openOrchestratorCommand, parsePositive, runJson } from './orchestrator-common.js';

export default async function runs(args: unknown[], globals: GlobalOptions, cmd: Command): Promise<number> {
  const c = await openOrchestratorCommand(globals);
  const { orch, out } = c;
  const opts = cmd.opts<{
    pipeline?: string;
    state?: string;
    limit?: string;
    task?: string;
    attempt?: string;
  }>();
  try {
    const runId = args[0] as string;
    switch (cmd.name()) {
      case 'list': {
        if (opts.state && !RUN_STATES.includes(opts.state as RunState)) {
          throw new InvalidInputError(`--state must be one of ${RUN_STATES.join(', ')}`);
        }
        const list = await orch.listRuns({
          pipeline: opts.pipeline,
          state: opts.state as RunState | undefined,
          limit: parsePositive(opts.limit, '--limit', 20),
        });
        out.result(list);
        out.line(
          formatTable(
            list.map((r) => [
              r.runId,
              r.pipeline,
              r.state,
              r.trigger,
              r.dataIntervalStart.toISOString(),
              elapsed(r.startedAt ?? r.createdAt, r.endedAt),
            ]),
            { header: ['run', 'pipeline', 'state', 'trigger', 'logical date', 'time'] },
          ),
        );
        return 0;
      }
      case 'show': {
        const run = await orch.getRun(runId);
        const tasks = await orch.taskRuns(runId);
        out.result(runJson(run, tasks));
        out.line(`run       ${run.runId}`);
        out.line(`pipeline  ${run.pipeline} (version ${run.versionHash})`);
        out.line(
          `state     ${run.state}, ${run.trigger}, ${elapsed(run.startedAt ?? run.createdAt, run.endedAt)}`,
        );
        out.line(`interval  ${run.dataIntervalStart.toISOString()} → ${run.dataIntervalEnd.toISOString()}`);
        if (Object.keys(run.params).length) out.line(`params    ${JSON.stringify(run.params)}`);
        out.line('');
        out.line(
          formatTable(
            tasks.map((t) => [
              t.taskId,
              t.state,
              String(t.tries),
              elapsed(t.startedAt, t.endedAt),
              t.error ?? '',
            ]),
            { header: ['task', 'state', 'attempts', 'time', 'error'] },
          ),
        );
        return 0;
      }
      case 'logs': {
        const lines = await orch.logs(runId, {
          taskId: opts.task,
          attempt: opts.attempt === undefined ? undefined : parsePositive(opts.attempt, '--attempt', 1),
        });
        out.result(lines);
        for (const l of lines)
          out.line(`${l.at.toISOString()} ${l.taskId}#${l.attempt} ${l.stream.padEnd(6)} ${l.text}`);
        return 0;
      }
      case 'cancel': {
        const run = await orch.cancel(runId);
        out.result(run);
        out.line(`run ${runId} cancelled`);
        return 0;
      }
      case 'mark': {
        const state = args[1] as string;
        if (state !== 'success' && state !== 'failed')
          throw new InvalidInputError('mark STATE must be success or failed');
        const run = await orch.mark(runId, state, opts.task);
        out.result(run);
        out.line(`${opts.task ? `task ${opts.task} of ` : ''}run ${runId} marked ${state}`);
        return 0;
      }
      default:
        throw new InvalidInputError(`unknown runs subcommand ${cmd.name()}`);
    }
  } finally {
    await c.close();
  }
}
