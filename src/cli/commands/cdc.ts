/**
 * `sluice cdc run|status|reset SPEC`: change data capture from PostgreSQL. SPEC is a YAML file
 * holding one CDC task (`name:` and `source: { postgres_cdc: {...} }`, `${VAR}` interpolated).
 */
import type { Command } from 'commander';
import { loadYamlFile } from '../../config/index.js';
import { cdcStatus, cdcTaskSchema, resetCdc, runCdc } from '../../ingest/cdc/index.js';
import { openRuntime } from '../../runtime/index.js';
import { openCommand } from '../context.js';
import type { GlobalOptions } from '../main.js';
import { formatTable } from '../output.js';

/** `sluice cdc run|status|reset SPEC`. */
export default async function cdc(args: unknown[], globals: GlobalOptions, cmd: Command): Promise<number> {
  const which = cmd.name();
  const { project, log, out } = await openCommand(globals);
  const spec = await loadYamlFile(String(args[0]), cdcTaskSchema);
  const runtime = await openRuntime(project, log);
  try {
    if (which === 'reset') {
      await resetCdc(runtime, spec);
      out.result({ reset: spec.name });
      out.line(`cdc ${spec.name}: slot, state and lake tables dropped; the next run takes a new snapshot`);
      return 0;
    }
    if (which === 'status') {
      const s = await cdcStatus(runtime, spec);
      out.result(s);
      out.line(`cdc ${s.name}  phase ${s.phase}  confirmed ${s.confirmedLsn ?? '-'}`);
      out.line(
        `slot ${s.slot}: ${s.slotExists ? `${s.walStatus ?? '?'}, lag ${s.lagBytes ?? 0} bytes` : 'MISSING'}  publication ${s.publication}`,
      );
      out.line(
        formatTable(
          s.tables.map((t) => [t.source, t.table, t.lsn ?? '-']),
          { header: ['source', 'table', 'lsn'] },
        ),
      );
      return s.slotExists || s.phase === 'not started' ? 0 : 1;
    }
    const ac = new AbortController();
    const stop = () => ac.abort(new Error('interrupted'));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const r = await runCdc(runtime, spec, {
        signal: ac.signal,
        untilCaughtUp: cmd.opts().untilCaughtUp === true,
        progress: (p) => log.info(p, 'cdc progress'),
      });
      out.result(r);
      out.line(`cdc ${spec.name}: ${r.snapshotRows} rows copied, ${r.changes} changes applied, at ${r.lsn}`);
    } catch (err) {
      if (!ac.signal.aborted) throw err;
      out.line(`cdc ${spec.name}: stopped`);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return 0;
  } finally {
    await runtime.close();
  }
}
