import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { scaffoldProject, type UpgradeReport, upgradeProject } from '../../config/index.js';
import { InvalidInputError } from '../../util/index.js';
import type { GlobalOptions } from '../main.js';
import { createOutput, type Output } from '../output.js';

/** The files of an upgrade, by what happened to them. */
function printUpgrade(out: Output, dir: string, report: UpgradeReport): void {
  const groups: [keyof Omit<UpgradeReport, 'template'>, string][] = [
    ['updated', 'Updated (you had not edited them)'],
    ['created', 'Created (new in the template, or missing)'],
    ['removed', 'Removed (no longer in the template; you had not edited them)'],
    ['kept', 'Kept as you edited them (the template has a newer version)'],
    ['orphaned', 'Kept as you edited them (no longer in the template)'],
  ];
  const changed = report.updated.length + report.created.length + report.removed.length;
  out.line(
    changed === 0
      ? `${dir} already has the files of the "${report.template}" template of this version.`
      : `Upgraded ${dir} to the "${report.template}" template of this version:`,
  );
  for (const [key, title] of groups) {
    if (report[key].length === 0) continue;
    out.line(`${title}:`);
    for (const file of report[key]) out.line(`  ${file}`);
  }
  if (report.unchanged.length) out.line(`${report.unchanged.length} files were already up to date.`);
  if (report.kept.length) {
    out.line('');
    out.line('To take the template version of a kept file, move it away (or delete it) and run this again.');
  }
}

export default async function init(args: unknown[], globals: GlobalOptions, cmd: Command): Promise<number> {
  const out = createOutput(globals.json ?? false);
  const dir = resolve(globals.project ?? '.', String(args[0] ?? '.'));
  const opts = cmd.opts<{ name?: string; force?: boolean; template?: string; upgrade?: boolean }>();
  const shown = relative(process.cwd(), dir) || '.';
  if (opts.upgrade) {
    if (opts.force || opts.name)
      throw new InvalidInputError('--upgrade keeps the project as it is named: drop --force and --name');
    const report = await upgradeProject(dir, { template: opts.template });
    out.result({ dir, ...report });
    printUpgrade(out, shown, report);
    return 0;
  }
  const { created } = await scaffoldProject(dir, {
    name: opts.name,
    force: opts.force,
    template: opts.template,
  });
  out.result({ dir, created });
  out.line(`Created a Sluice project in ${dir}:`);
  for (const file of created) out.line(`  ${relative(dir, file) || file}`);
  out.line('');
  out.line('Next:');
  out.line(`  cd ${shown}`);
  out.line('  sluice status        # check the configuration and backends');
  return 0;
}
