/**
 * `sluice monitors list`: the rules of monitors/*.yaml with their state.
 * `sluice monitors check [NAME]`: evaluate now, store the states, send the alerts of
 * transitions, print every value; exit code 1 when any value fires.
 */
import type { Command } from 'commander';
import { MonitorService } from '../../monitor/index.js';
import { openRuntime } from '../../runtime/index.js';
import { openCommand } from '../context.js';
import type { GlobalOptions } from '../main.js';
import { formatTable } from '../output.js';

export default async function monitorsCommand(
  args: unknown[],
  globals: GlobalOptions,
  cmd: Command,
): Promise<number> {
  const { project, log, out } = await openCommand(globals);
  const runtime = await openRuntime(project, log);
  const service = new MonitorService(runtime);
  try {
    if (cmd.name() === 'list') {
      const rules = await service.overview();
      out.result({ monitors: rules });
      if (rules.length === 0) out.line('No monitors: add monitors/NAME.yaml (see docs/monitoring.md).');
      else
        out.line(
          formatTable(
            rules.map((m) => [
              m.name,
              m.table,
              m.dimension ?? '',
              m.condition,
              m.schedule,
              m.severity,
              m.error ? 'error' : m.state === 'firing' ? `firing (${m.firing})` : m.state,
            ]),
            { header: ['MONITOR', 'TABLE', 'DIMENSION', 'CONDITION', 'SCHEDULE', 'SEVERITY', 'STATE'] },
          ),
        );
      return 0;
    }
    const dryRun = cmd.opts<{ dryRun?: boolean }>().dryRun === true;
    const results = await service.checkNow(args[0] as string | undefined, { dryRun });
    const sent = dryRun ? 0 : await service.deliver();
    let firing = 0;
    let failed = 0;
    const rows: string[][] = [];
    for (const r of results) {
      if (r.error) {
        failed += 1;
        rows.push([r.monitor.name, '', 'error', '', r.error]);
      }
      const changed = new Map(r.transitions.map((t) => [t.value, t.event]));
      for (const v of r.verdicts) {
        if (v.state === 'firing') firing += 1;
        const event = changed.get(v.value);
        rows.push([
          r.monitor.name,
          v.value,
          event ? `${v.state} (${event === 'firing' ? 'new' : 'resolved'})` : v.state,
          v.expected,
          v.reason,
        ]);
      }
    }
    out.result({
      firing,
      failed,
      alertsSent: sent,
      monitors: results.map((r) => ({
        name: r.monitor.name,
        error: r.error ?? null,
        verdicts: r.verdicts,
        transitions: r.transitions.map((t) => ({ value: t.value, event: t.event })),
      })),
    });
    if (rows.length > 0)
      out.line(formatTable(rows, { header: ['MONITOR', 'VALUE', 'STATE', 'EXPECTED', 'REASON'] }));
    out.line(
      `${results.length} monitor(s) checked: ${firing} value(s) firing${failed ? `, ${failed} check(s) failed` : ''}${sent ? `, ${sent} alert(s) sent` : ''}${dryRun ? ' (dry run: states not stored)' : ''}`,
    );
    return firing > 0 || failed > 0 ? 1 : 0;
  } finally {
    await service.stop();
    await runtime.close();
  }
}
