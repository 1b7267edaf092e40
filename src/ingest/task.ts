/** The `ingest` task kind: source → raw zone → processors → sink table. */
import type { TaskKind } from '../runtime/tasks.js';
import { runIngest } from './run.js';
import { type IngestSpec, ingestSpecSchema } from './spec.js';

/** The `ingest` task kind the orchestrator registers. */
export const ingestTaskKind: TaskKind<IngestSpec> = {
  name: 'ingest',
  schema: ingestSpecSchema,
  run: (ctx, spec) => runIngest(ctx, spec),
};
