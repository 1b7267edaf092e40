/**
 * The orchestrator's HTTP API under /api/v1: pipelines, runs (list, get, trigger, resume,
 * cancel, mark, logs) and `why`. The orchestrator is the process's shared one.
 */
import { Cron } from 'croner';
import { Hono } from 'hono';
import { z } from 'zod';
import type { SqlRunner } from '../../metastore/index.js';
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
import { parseJsonBody } from './body.js';

const triggerBody = z.strictObject({
  pipeline: z.string().min(1),
  params: z.record(z.string(), z.string()).optional(),
  logicalDate: z.iso.datetime({ offset: true }).optional(),
});
const resumeBody = z.strictObject({ fromTask: z.string().min(1).optional(), dryRun: z.boolean().optional() });
const backfillBody = z.strictObject({
  from: z.iso.datetime({ offset: true }).or(z.iso.date()),
  to: z.iso.datetime({ offset: true }).or(z.iso.date()),
  parallel: z.number().int().min(1).max(32).optional(),
  params: z.record(z.string(), z.string()).optional(),
  dryRun: z.boolean().optional(),
});
const markBody = z.strictObject({ state: z.enum(['success', 'failed']), task: z.string().min(1).optional() });

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

/** When the scheduler next starts a run of the pipeline; null when it has no schedule or is paused. */
export function nextRunAt(p: LoadedPipeline, now = new Date()): string | null {
  const { schedule, timezone, paused } = p.def;
  if (!schedule || paused) return null;
  return new Cron(schedule, { timezone, paused: true }).nextRun(now)?.toISOString() ?? null;
}

const BUCKETS = { hour: 3_600_000, day: 86_400_000 } as const;

/**
 * Runs created since `since`, counted per time bucket (UTC hours or days) and state, and per
 * pipeline: what the runs-over-time and failing-pipelines charts draw.
 */
async function runsSummary(
  db: SqlRunner,
  bucket: keyof typeof BUCKETS,
  since: Date,
): Promise<Record<string, unknown>> {
  const width = BUCKETS[bucket];
  const from = Math.floor(since.getTime() / width) * width;
  const rows = await db.query(
    `SELECT pipeline, state, (created_at - ?) / ? AS slot, COUNT(*) AS n
       FROM sluice_runs WHERE created_at >= ? GROUP BY pipeline, state, (created_at - ?) / ?`,
    [from, width, from, from, width],
  );
  const buckets = new Map<number, Record<string, number>>();
  const pipelines = new Map<string, Record<string, number>>();
  const add = <K>(m: Map<K, Record<string, number>>, key: K, state: string, n: number) => {
    const counts = m.get(key) ?? Object.fromEntries(RUN_STATES.map((s) => [s, 0]));
    counts[state] = (counts[state] ?? 0) + n;
    m.set(key, counts);
  };
  for (const r of rows) {
    const n = Number(r.n);
    add(buckets, Math.floor(Number(r.slot)), String(r.state), n);
    add(pipelines, String(r.pipeline), String(r.state), n);
  }
  const last = Math.floor((Date.now() - from) / width);
  return {
    bucket,
    since: new Date(from).toISOString(),
    buckets: Array.from({ length: last + 1 }, (_, i) => ({
      start: new Date(from + i * width).toISOString(),
      ...(buckets.get(i) ?? Object.fromEntries(RUN_STATES.map((s) => [s, 0]))),
    })),
    pipelines: [...pipelines.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([pipeline, counts]) => ({ pipeline, ...counts })),
  };
}

/** Routes mounted under /api/v1. */
export function pipelineRoutes(ctx: ServeContext): Hono {
  const app = new Hono();
  exposeOrchestratorMetrics(ctx.runtime, ctx.metrics.registry);
  const orch = (): Promise<Orchestrator> => sharedOrchestrator(ctx.runtime);

  app.get('/pipelines', async (c) => {
    const o = await orch();
    const now = new Date();
    const pipelines = await Promise.all(
      [...o.pipelines().values()].map(async (p) => ({
        ...pipelineJson(p),
        nextRunAt: nextRunAt(p, now),
        lastRun: (await o.listRuns({ pipeline: p.name, limit: 1 }))[0] ?? null,
      })),
    );
    return c.json({ pipelines });
  });
  app.get('/pipelines/:name', async (c) => {
    const o = await orch();
    const p = o.pipeline(c.req.param('name'));
    return c.json({
      ...pipelineJson(p),
      nextRunAt: nextRunAt(p),
      recentRuns: await o.listRuns({ pipeline: p.name, limit: 10 }),
    });
  });
  app.get('/pipelines/:name/why', async (c) =>
    c.json(await (await orch()).why(c.req.param('name'), c.req.query('task'))),
  );

  // The backfill keeps creating runs in this process as slots free up; the answer comes once the
  // first `parallel` runs exist. Sending the same backfill again skips intervals that have a run.
  app.post('/pipelines/:name/backfill', async (c) => {
    const b = await parseJsonBody(c.req.raw, backfillBody);
    const o = await orch();
    const name = c.req.param('name');
    const options = {
      from: new Date(b.from),
      to: new Date(b.to),
      parallel: b.parallel ?? 1,
      params: b.params,
    };
    const plan = await o.backfill(name, { ...options, dryRun: true });
    const toCreate = plan.intervals.filter((i) => !i.existing).length;
    if (b.dryRun || toCreate === 0) return c.json({ ...plan, created: [] });
    const created: string[] = [];
    let firstBatch = () => {};
    const ready = new Promise<void>((resolve) => {
      firstBatch = resolve;
    });
    void o
      .backfill(name, {
        ...options,
        onRun: (e) => {
          if (e.runId && !e.existing) created.push(e.runId);
          if (created.length >= Math.min(options.parallel, toCreate)) firstBatch();
        },
      })
      .catch((err) => ctx.runtime.log.warn({ err, pipeline: name }, 'backfill stopped'))
      .finally(firstBatch);
    await ready;
    const byStart = new Map(plan.intervals.map((i) => [i.start, i]));
    for (const runId of created) {
      const run = await o.getRun(runId);
      const entry = byStart.get(run.dataIntervalStart.toISOString());
      if (entry) Object.assign(entry, { runId, state: run.state });
    }
    return c.json({ ...plan, created }, 202);
  });

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
  app.get('/runs/summary', async (c) => {
    const bucket = c.req.query('bucket') ?? 'hour';
    if (!(bucket in BUCKETS)) throw new InvalidInputError('bucket must be one of hour, day');
    const b = bucket as keyof typeof BUCKETS;
    const count = int(c.req.query('buckets'), 'buckets', b === 'hour' ? 24 : 14);
    if (count > 1000) throw new InvalidInputError('buckets must be at most 1000');
    const since = new Date(Date.now() - (count - 1) * BUCKETS[b]);
    return c.json(await runsSummary(ctx.runtime.meta, b, since));
  });
  app.post('/runs', async (c) => {
    const b = await parseJsonBody(c.req.raw, triggerBody);
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
    const b = await parseJsonBody(c.req.raw, resumeBody);
    return c.json(await (await orch()).resume(c.req.param('id'), b));
  });
  app.post('/runs/:id/cancel', async (c) => c.json(await (await orch()).cancel(c.req.param('id'))));
  app.post('/runs/:id/mark', async (c) => {
    const b = await parseJsonBody(c.req.raw, markBody);
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
