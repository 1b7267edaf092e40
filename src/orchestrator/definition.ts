/**
 * The pipeline file format shared by `pipelines/*.yaml` and `pipelines/*.ts`
 * (`definePipeline`): schedule or event trigger, run limits, retries, alerts and a DAG of
 * tasks, each naming its kind by one key (`run:`, `ingest:`, `sql:` ...).
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { durationMs } from './duration.js';
import { graphIssues } from './graph.js';
import type { TaskKindRegistry } from './registry.js';

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,127}$/;
const name = (what: string) =>
  z.string({ error: `expected a ${what} (letters, digits, _ and -)` }).regex(NAME, {
    error: `expected a ${what}: a letter, then letters, digits, _ or - (at most 128)`,
  });

/** Which failures a task retries. */
export const RETRY_ON = ['error', 'timeout', 'crash'] as const;

/** Retry policy of a task (or the pipeline default). */
export const retrySchema = z
  .strictObject({
    max: z.number().int().min(0).max(100).default(0).describe('Retries after the first attempt.'),
    backoff: z.enum(['exponential', 'fixed']).default('exponential').describe('How the delay grows.'),
    initial: durationMs.default(10_000).describe('Delay before the first retry.'),
    max_delay: durationMs.default(3_600_000).describe('Longest delay between attempts.'),
    jitter: z.boolean().default(true).describe('Randomise each delay by up to ±25 %.'),
    on: z
      .array(z.enum(RETRY_ON))
      .default([...RETRY_ON])
      .describe('Failures that are retried: error, timeout, crash (killed or lost worker).'),
    exit_codes: z
      .array(z.number().int())
      .optional()
      .describe('For commands: only these exit codes are retried.'),
  })
  .describe('Retries: count, exponential backoff with jitter, and which failures to retry.');

/** Events an alert fires on. */
export const ALERT_EVENTS = ['failure', 'retry', 'success', 'sla_miss'] as const;

/**
 * One alert target listening for some of `events`: a JSON webhook, a Slack incoming webhook
 * or e-mail. Pipelines and monitor rules share it, with their own events.
 */
export function alertTargetSchema<const E extends readonly [string, ...string[]]>(
  events: E,
  defaults: E[number][],
) {
  return z
    .strictObject({
      on: z
        .union([z.enum(events), z.array(z.enum(events))])
        .default(defaults as never)
        .transform((v) => (Array.isArray(v) ? v : [v]) as E[number][]),
      webhook: z.string().optional().describe('URL receiving a JSON POST.'),
      slack: z.string().optional().describe('Slack incoming-webhook URL.'),
      email: z
        .union([z.string(), z.array(z.string())])
        .optional()
        .transform((v) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]))
        .describe('Recipients; the SMTP server is orchestrator.smtp in sluice.yaml.'),
    })
    .refine((a) => [a.webhook, a.slack, a.email].filter((x) => x !== undefined).length === 1, {
      error: 'an alert needs exactly one of webhook, slack or email',
    });
}

const alertSchema = alertTargetSchema(ALERT_EVENTS, ['failure']);

const triggerSchema = z
  .strictObject({
    table: z.string().optional().describe('Run when this table (namespace.table) commits a new snapshot.'),
    events: z.string().optional().describe('Run when this event type receives events.'),
    files: z.string().optional().describe('Run when files land under this storage prefix.'),
  })
  .refine((t) => [t.table, t.events, t.files].filter((x) => x !== undefined).length === 1, {
    error: 'on: needs exactly one of table, events or files',
  });

/** The keys every task has, whatever its kind. */
export const TASK_KEYS = [
  'id',
  'description',
  'depends_on',
  'retries',
  'timeout',
  'pool',
  'priority',
] as const;

const commonTask = {
  id: name('task id'),
  description: z.string().optional(),
  depends_on: z
    .union([z.string(), z.array(z.string())])
    .default([])
    .transform((v) => (Array.isArray(v) ? v : [v])),
  retries: retrySchema.optional(),
  timeout: durationMs.optional().describe('Time limit of one attempt.'),
  pool: name('pool name').optional().describe('Named pool limiting concurrent tasks (orchestrator.pools).'),
  priority: z.number().int().min(-1000).max(1000).default(0),
};

/** Cron check with croner, as the scheduler will read it. */
export function cronProblem(expr: string, timezone?: string): string | undefined {
  try {
    new Cron(expr, { timezone, paused: true });
    return undefined;
  } catch (err) {
    return `invalid cron expression "${expr}"${timezone ? ` in ${timezone}` : ''}: ${(err as Error).message}`;
  }
}

function timezoneProblem(tz: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return undefined;
  } catch {
    return `unknown time zone "${tz}"`;
  }
}

/** The schema of one pipeline file, with the task kinds of `kinds`. */
export function pipelineSchema(kinds: TaskKindRegistry) {
  const kindFields: Record<string, z.ZodType> = {};
  for (const kind of kinds.list()) kindFields[kind.name] = kind.schema.optional();
  const task = z.looseObject({ ...commonTask, ...kindFields }).superRefine((t, ctx) => {
    const extra = Object.keys(t).filter((k) => !(k in commonTask) && !(k in kindFields));
    for (const key of extra) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `unknown task kind "${key}"; known kinds: ${kinds.names().join(', ')}`,
        input: key,
      });
    }
    const used = Object.keys(t).filter((k) => k in kindFields);
    if (used.length !== 1 && extra.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: `task "${t.id}" needs exactly one kind (${kinds.names().join(', ')}), found ${used.length === 0 ? 'none' : used.join(' and ')}`,
        input: t,
      });
    }
  });
  return z
    .strictObject({
      name: name('pipeline name'),
      description: z.string().optional(),
      schedule: z.string().optional().describe('Cron expression (5 or 6 fields) in `timezone`.'),
      timezone: z.string().default('UTC'),
      catchup: z.boolean().default(false).describe('Schedule every missed interval, not only the latest.'),
      start: z.iso
        .datetime({ offset: true, local: true })
        .or(z.iso.date())
        .optional()
        .describe('First logical date the schedule covers.'),
      on: triggerSchema.optional().describe('Event trigger.'),
      paused: z.boolean().default(false),
      max_active_runs: z.number().int().min(1).max(1000).default(16),
      max_active_tasks: z.number().int().min(1).max(100_000).optional(),
      retries: retrySchema.optional().describe('Default retry policy of the tasks.'),
      timeout: durationMs.optional().describe('Default time limit of one task attempt.'),
      sla: durationMs
        .optional()
        .describe('Alert `sla_miss` when a run is not done this long after it starts.'),
      params: z.record(z.string(), z.string()).default({}).describe('Default parameters ({{ params.x }}).'),
      alerts: z.array(alertSchema).default([]),
      tasks: z.array(task).min(1, { error: 'a pipeline needs at least one task' }),
    })
    .superRefine((p, ctx) => {
      if (p.schedule !== undefined) {
        const problem = cronProblem(p.schedule, timezoneProblem(p.timezone) ? undefined : p.timezone);
        if (problem)
          ctx.addIssue({ code: 'custom', path: ['schedule'], message: problem, input: p.schedule });
      }
      const tz = timezoneProblem(p.timezone);
      if (tz) ctx.addIssue({ code: 'custom', path: ['timezone'], message: tz, input: p.timezone });
      for (const issue of graphIssues(p.tasks)) ctx.addIssue({ code: 'custom', ...issue });
    });
}

/** A validated pipeline. */
export type Pipeline = z.output<ReturnType<typeof pipelineSchema>>;
/** A validated task (its kind's spec under the kind's key). */
export type PipelineTask = Pipeline['tasks'][number];
/** A retry policy with defaults applied. */
export type RetryPolicy = z.output<typeof retrySchema>;
/** One alert target. */
export type AlertTarget = Pipeline['alerts'][number];

type Duration = string | number;

/** A task as written in a `.ts` pipeline file. */
export interface TaskInput {
  id: string;
  description?: string;
  depends_on?: string | string[];
  retries?: z.input<typeof retrySchema>;
  timeout?: Duration;
  pool?: string;
  priority?: number;
  run?: { command?: string | string[]; ts?: string; cwd?: string; env?: Record<string, string> } & Record<
    string,
    unknown
  >;
  [kind: string]: unknown;
}

/** A pipeline as written in a `.ts` pipeline file: the same shape as the YAML file. */
export interface PipelineInput {
  name: string;
  description?: string;
  schedule?: string;
  timezone?: string;
  catchup?: boolean;
  start?: string;
  on?: { table?: string; events?: string; files?: string };
  paused?: boolean;
  max_active_runs?: number;
  max_active_tasks?: number;
  retries?: z.input<typeof retrySchema>;
  timeout?: Duration;
  sla?: Duration;
  params?: Record<string, string>;
  alerts?: { on?: string | string[]; webhook?: string; slack?: string; email?: string | string[] }[];
  tasks: TaskInput[];
}

/**
 * Declare a pipeline in TypeScript (`export default definePipeline({...})` in
 * `pipelines/NAME.ts`); it is validated like a YAML pipeline when the project loads.
 */
export function definePipeline<const P extends PipelineInput>(pipeline: P): P {
  return pipeline;
}

/** The kind key of a task. */
export function kindOf(task: Record<string, unknown>, kinds: TaskKindRegistry): string {
  const key = Object.keys(task).find((k) => kinds.has(k));
  if (!key) throw new Error(`task ${String(task.id)} has no known kind`);
  return key;
}
