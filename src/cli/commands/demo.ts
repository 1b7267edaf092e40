import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { scaffoldProject } from '../../config/index.js';
import type { GlobalOptions } from '../main.js';
import { createOutput } from '../output.js';
import status from './status.js';

/**
 * The newcomer's first command: a demo project (created once, reused after) whose
 * backends are opened and checked, so the embedded stack is proven working end to end.
 */
export default async function demo(args: unknown[], globals: GlobalOptions): Promise<number> {
  const out = createOutput(globals.json ?? false);
  const dir = resolve(String(args[0] ?? 'sluice-demo'));
  if (existsSync(join(dir, 'sluice.yaml'))) {
    out.note(`Using the demo project in ${dir}`);
  } else {
    await scaffoldProject(dir, { name: 'sluice-demo' });
    out.note(`Created the demo project in ${dir}`);
  }
  const code = await status([], { ...globals, project: dir });
  if (!out.json) {
    const shown = relative(process.cwd(), dir) || '.';
    out.line('');
    out.line('The project is plain files you can read and edit:');
    out.line(`  ${join(shown, 'sluice.yaml')}      storage, metastore, server settings`);
    out.line(`  ${join(shown, 'pipelines')}/       pipelines as code`);
    out.line(`  ${join(shown, 'models')}/          SQL models`);
    out.line(`  ${join(shown, 'events')}/          event types`);
    out.line('');
    out.line('Next:');
    out.line(
      `  npx sluice serve --project ${shown}   # web UI, health, metrics and the Iceberg REST catalog`,
    );
    out.line(`  npx sluice tables list --project ${shown}`);
  }
  return code;
}
