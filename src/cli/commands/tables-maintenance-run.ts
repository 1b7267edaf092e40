import type { Command } from 'commander';
import { formatIdentifier } from '../../catalog/index.js';
import { parseDuration } from '../../config/index.js';
import { openDuck } from '../../duck/index.js';
import { openTable } from '../../table/index.js';
import { InvalidInputError } from '../../util/index.js';
import { openCommand } from '../context.js';
import type { GlobalOptions } from '../main.js';
import { emit, loadNamed, openTables } from './tables-common.js';

/** Milliseconds of `30m`, `12h`, `5d` (a bare number is milliseconds). @throws InvalidInputError */
export function parseDurationMs(text: string, flag: string): number {
  const ms = parseDuration(text);
  if (ms === undefined)
    throw new InvalidInputError(
      `${flag} ${JSON.stringify(text)} is not a duration`,
      'write e.g. 90m, 12h or 5d',
    );
  return ms;
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidInputError(`${flag} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

/** `sluice tables compact|expire|remove-orphans TABLE`. */
export default async function tablesMaintenance(
  args: unknown[],
  globals: GlobalOptions,
  cmd: Command,
): Promise<number> {
  const t = await openTables(await openCommand(globals));
  const duck = await openDuck();
  const opts = cmd.opts();
  try {
    const loaded = await loadNamed(t.catalog, String(args[0] ?? ''));
    const table = await openTable(t.catalog, t.runtime.store, duck, loaded.identifier);
    const name = formatIdentifier(loaded.identifier);
    switch (cmd.name()) {
      case 'compact': {
        const target =
          opts.targetFileSize === undefined
            ? undefined
            : positiveInt(opts.targetFileSize, '--target-file-size');
        const r = await table.compact({ targetFileSizeBytes: target, where: opts.where });
        emit(t.out, {
          table: name,
          rewrittenFiles: r.rewrittenFiles,
          addedFiles: r.addedFiles,
          snapshotId: r.commit?.snapshot['snapshot-id'] ?? null,
        });
        t.out.line(
          r.commit
            ? `${name}: compacted ${r.rewrittenFiles} files into ${r.addedFiles} (snapshot ${r.commit.snapshot['snapshot-id']})`
            : `${name}: nothing to compact`,
        );
        break;
      }
      case 'expire': {
        const r = await table.expireSnapshots({
          olderThanMs: parseDurationMs(opts.olderThan, '--older-than'),
          retainLast: positiveInt(opts.retainLast, '--retain-last'),
        });
        emit(t.out, { table: name, expiredSnapshotIds: r.expiredSnapshotIds, deletedFiles: r.deletedFiles });
        t.out.line(
          `${name}: expired ${r.expiredSnapshotIds.length} snapshots, deleted ${r.deletedFiles} files`,
        );
        break;
      }
      default: {
        const r = await table.removeOrphanFiles({
          olderThanMs: parseDurationMs(opts.olderThan, '--older-than'),
          dryRun: opts.dryRun === true,
        });
        emit(t.out, { table: name, dryRun: opts.dryRun === true, orphanFiles: r.orphanFiles });
        for (const f of r.orphanFiles) t.out.line(f);
        t.out.line(
          `${name}: ${r.orphanFiles.length} orphan files ${opts.dryRun ? 'found (dry run)' : 'deleted'}`,
        );
      }
    }
  } finally {
    await duck.close();
    await t.runtime.close();
    await t.log.flush?.();
  }
  return 0;
}
