import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { TaskKind } from '../../runtime/tasks.js';
import { durationMs } from '../duration.js';

const noopSchema = z
  .union([
    z.null().transform(() => ({ sleep: 0 })),
    z.strictObject({ sleep: durationMs.default(0).describe('Wait this long, then succeed.') }),
  ])
  .describe('Does nothing (optionally waits): placeholders, fan-in points, tests and benchmarks.');

type NoopSpec = z.output<typeof noopSchema>;

/** `noop: {}` succeeds at once; `noop: { sleep: 2s }` waits first (and stops on cancel). */
export const noopTaskKind: TaskKind<NoopSpec> = {
  name: 'noop',
  schema: noopSchema as z.ZodType<NoopSpec>,
  async run(ctx, spec) {
    if (spec.sleep > 0) await sleep(spec.sleep, undefined, { signal: ctx.signal });
    return {};
  },
};
