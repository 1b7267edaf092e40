import type { Command } from 'commander';
import { openCommand } from '../context.js';
import type { GlobalOptions } from '../main.js';
import { openTables } from './tables-common.js';
import { files } from './tables-files.js';
import { approve, setPii } from './tables-governance.js';
import { history, schema, show, snapshots } from './tables-inspect.js';
import { drop, list, namespaces, rollback } from './tables-manage.js';

/** `sluice tables <sub>`: one entry point, dispatched on the subcommand's name. */
export default async function tables(args: unknown[], globals: GlobalOptions, cmd: Command): Promise<number> {
  const t = await openTables(await openCommand(globals));
  const name = args[0] as string | undefined;
  const opts = cmd.opts();
  try {
    if (cmd.parent?.name() === 'namespaces') await namespaces(t, cmd.name(), name, opts);
    else {
      const table = name ?? '';
      switch (cmd.name()) {
        case 'list':
          await list(t, name);
          break;
        case 'show':
          await show(t, table);
          break;
        case 'schema':
          await schema(t, table);
          break;
        case 'snapshots':
          await snapshots(t, table);
          break;
        case 'history':
          await history(t, table);
          break;
        case 'files':
          await files(t, table, opts);
          break;
        case 'set-pii':
          await setPii(t, table, (args[1] as string[] | undefined) ?? [], opts);
          break;
        case 'approve':
          await approve(t, table, opts);
          break;
        case 'rollback':
          await rollback(t, table, opts as { to: string; force?: boolean });
          break;
        default:
          await drop(t, table, opts);
      }
    }
  } finally {
    await t.runtime.close();
    await t.log.flush?.();
  }
  return 0;
}
