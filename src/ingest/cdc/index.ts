// Change data capture from PostgreSQL: logical replication (pgoutput) into upserted lake tables.
import type { TaskKind } from '../../runtime/tasks.js';
import { runCdc } from './runner.js';
import { type CdcSpec, cdcTaskSchema } from './spec.js';

export { SCHEMA_HISTORY } from './lake.js';
export { formatLsn, parseLsn } from './pgoutput.js';
export { type CdcRunResult, namesOf, type RunCdcOptions, runCdc, SlotLostError } from './runner.js';
export { type CdcSource, type CdcSpec, cdcSourceSchema, cdcTaskSchema } from './spec.js';
export { type CdcState, readState } from './state.js';
export { type CdcStatus, cdcStatus, resetCdc } from './status.js';
export type { AppliedBatch } from './stream.js';

/** The `cdc` task kind: `cdc: { name, source: { postgres_cdc: {...} } }`, runs until cancelled. */
export const cdc: TaskKind<CdcSpec> = {
  name: 'cdc',
  schema: cdcTaskSchema as unknown as TaskKind<CdcSpec>['schema'],
  async run(ctx, spec) {
    const result = await runCdc(ctx.runtime, spec, {
      signal: ctx.signal,
      progress: ctx.progress,
      untilCaughtUp: ctx.options?.untilCaughtUp === true,
    });
    return { summary: { ...result } };
  },
};
