// Change data capture from PostgreSQL: logical replication (pgoutput) into upserted lake tables.
import { createHash } from 'node:crypto';
import type { TaskContext, TaskKind, TaskResult } from '../../runtime/tasks.js';
import { runCdc } from './runner.js';
import { type CdcSpec, cdcTaskSchema } from './spec.js';

export { SCHEMA_HISTORY } from './lake.js';
export { formatLsn, parseLsn } from './pgoutput.js';
export { type CdcRunResult, namesOf, type RunCdcOptions, runCdc, SlotLostError } from './runner.js';
export { type CdcSource, type CdcSpec, cdcSourceSchema, cdcTaskSchema } from './spec.js';
export { type CdcState, readState } from './state.js';
export { type CdcStatus, cdcStatus, resetCdc } from './status.js';
export type { AppliedBatch } from './stream.js';

/** Run a CDC spec as a task: the `cdc` kind, and the ingest `postgres_cdc` source. */
export async function runCdcTask(
  ctx: TaskContext,
  spec: CdcSpec,
  untilCaughtUp: boolean,
): Promise<TaskResult> {
  const result = await runCdc(ctx.runtime, spec, {
    signal: ctx.signal,
    progress: ctx.progress,
    untilCaughtUp,
  });
  return { summary: { ...result } };
}

/**
 * The replication name of an ingest task with a `postgres_cdc` source: `<pipeline>_<task>`
 * made an identifier (lower case; other characters become `_`), at most 56 characters so
 * that `sluice_<name>` is a valid slot name.
 */
export function replicationName(pipeline: string, task: string): string {
  let name = `${pipeline}_${task}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (!/^[a-z_]/.test(name)) name = `p_${name}`;
  if (name.length <= 56) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, 47)}_${hash}`;
}

/** The `cdc` task kind: `cdc: { name, source: { postgres_cdc: {...} } }`, runs until cancelled. */
export const cdc: TaskKind<CdcSpec> = {
  name: 'cdc',
  schema: cdcTaskSchema as unknown as TaskKind<CdcSpec>['schema'],
  run: (ctx, spec) => runCdcTask(ctx, spec, ctx.options?.untilCaughtUp === true),
};
