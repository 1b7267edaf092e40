/**
 * The orchestrator's HTTP API under /api/v1: pipelines, runs (list, get, trigger, resume,
 * cancel, mark, logs) and `why`. The orchestrator is the process's shared one.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import {
  exposeOrchestratorMetrics,
  type LoadedPipeline,
  type Orchestrator,
  RUN_STATES,
  type RunState,
  sharedOrchestrator,
} from '../../orchestrator/index.js';
import { InvalidInputError } from '../../util/index.js';
import type { ServeContext } from '../app.js';

const triggerBody = z.strictObject({
  pipeline: z.string().min(1),
  params: z.record(z.string(), z.string()).optional(),
  logicalDate: z.iso.datetime({ offset: true }).optional(),
});
const resumeBody = z.strictObject({ fromTask: z.string().min(1).optional(), dryRun: z.boolean().optional() });
const markBody = z.strictObject({ state: z.enum(['success', 'failed']), task: z.string().min(1).optional() });

async function body<T extends z.ZodType>(req: Request, schema: T): Promise<z.output<T>> {
  const text = await req.text();
  let value: unknown = {};
  if (text.trim()) {
    try {
      value = JSON.parse(text);
    } catch {
      throw new InvalidInputError('the request body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(
      `invalid request body: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

function int(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidInputError(`${name} must be a positive integer`);
  return n;
}

/** A pipeline as the API shows it. */
export function pipelineJson(p: LoadedPipeline): Record<string, unknown> {
  const { def } = p;
  return {
    name: p.name,
    file: p.file,
    versionHash: p.hash,
    description: def.description ?? null,
    schedule: def.schedule ?? null,
    timezone: def.timezone,
    catchup: def.catchup,
    on: def.on ?? null,
    paused: def.paused,
    maxActiveRuns: def.max_active_runs,
    tasks: def.tasks.map((t) => ({
      id: t.id,
      kind: Object.keys(t).find(
        (k) => !['id', 'description', 'depends_on', 'retries', 'timeout', 'pool', 'priority'].includes(k),
      ),
      dependsOn: t.depends_on,
      pool: t.pool ?? null,
    })),
  };
}

/** Routes mounted under /api/v1. */
export function pipelineRoutes(ctx: ServeContext): Hono {
  const app = new Hono();
  exposeOrchestratorMetrics(ctx.runtime, ctx.metrics.registry);
  const orch = (): Promise<Orchestrator> => sharedOrchestrator(ctx.runtime);

  app.get('/pipelines', async (c) =>
    c.json({ pipelines: [...(await orch()).pipelines().values()].map(pipelineJson) }),
  );
  app.get('/pipelines/:name', async (c) => {
    const o = await orch();
    const p = o.pipeline(c.req.param('name'));
    return c.json({ ...pipelineJson(p), recentRuns: await o.listRuns({ pipeline: p.name, limit: 10 }) });
  });
  app.get('/pipelines/:name/why', async (c) =>
    c.json(await (await orch()).why(c.req.param('name'), c.req.query('task'))),
  );

  app.get('/runs', async (c) => {
    const state = c.req.query('state');
    if (state && !RUN_STATES.includes(state as RunState)) {
      throw new InvalidInputError(`state must be one of ${RUN_STATES.join(', ')}`);
    }
    const runs = await (await orch()).listRuns({
      pipeline: c.req.query('pipeline'),
      state: state as RunState | undefined,
      limit: int(c.req.query('limit'), 'limit', 50),
    });
    return c.json({ runs });
  });
  app.post('/runs', async (c) => {
    const b = await body(c.req.raw, triggerBody);
    const run = await (await orch()).trigger(b.pipeline, {
      params: b.params,
      logicalDate: b.logicalDate ? new Date(b.logicalDate) : undefined,
    });
    return c.json(run, 201);
  });
  app.get('/runs/:id', async (c) => {
    const o = await orch();
    const run = await o.getRun(c.req.param('id'));
    return c.json({ ...run, tasks: await o.taskRuns(run.runId), attempts: await o.attempts(run.runId) });
  });
  app.post('/runs/:id/resume', async (c) => {
    const b = await body(c.req.raw, resumeBody);
    return c.json(await (await orch()).resume(c.req.param('id'), b));
  });
  app.post('/runs/:id/cancel', async (c) => c.json(await (await orch()).cancel(c.req.param('id'))));
  app.post('/runs/:id/mark', async (c) => {
    const b = await body(c.req.raw, markBody);
    return c.json(await (await orch()).mark(c.req.param('id'), b.state, b.task));
  });
  app.get('/runs/:id/logs', async (c) => {
    const o = await orch();
    const runId = c.req.param('id');
    await o.getRun(runId);
    const attempt = c.req.query('attempt');
    const lines = await o.logs(runId, {
      taskId: c.req.query('task'),
      attempt: attempt === undefined ? undefined : int(attempt, 'attempt', 1),
      limit: int(c.req.query('limit'), 'limit', 10_000),
    });
    return c.json({ lines });
  });
  return app;
}
