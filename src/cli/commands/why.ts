/** `sluice why PIPELINE [--task T]`: why something did not run. */
import type { Command } from 'commander';
import type { GlobalOptions } from '../main.js';
import { openOrchestratorCommand } from './orchestrator-common.js';

export default async function why(args: unknown[], globals: GlobalOptions, cmd: Command): Promise<number> {
  const c = await openOrchestratorCommand(globals);
  try {
    const answer = await c.orch.why(args[0] as string, cmd.opts<{ task?: string }>().task);
    c.out.result(answer);
    for (const reason of answer.reasons) c.out.line(`- ${reason}`);
    return 0;
  } finally {
    await c.close();
  }
}
