import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { scaffoldProject } from '../../config/index.js';
import type { GlobalOptions } from '../main.js';
import { createOutput } from '../output.js';

export default async function init(args: unknown[], globals: GlobalOptions, cmd: Command): Promise<number> {
  const out = createOutput(globals.json ?? false);
  const dir = resolve(globals.project ?? '.', String(args[0] ?? '.'));
  const opts = cmd.opts<{ name?: string; force?: boolean; template?: string }>();
  const { created } = await scaffoldProject(dir, {
    name: opts.name,
    force: opts.force,
    template: opts.template,
  });
  out.result({ dir, created });
  out.line(`Created a Sluice project in ${dir}:`);
  for (const file of created) out.line(`  ${relative(dir, file) || file}`);
  const shown = relative(process.cwd(), dir) || '.';
  out.line('');
  out.line('Next:');
  out.line(`  cd ${shown}`);
  out.line('  sluice status        # check the configuration and backends');
  return 0;
}
