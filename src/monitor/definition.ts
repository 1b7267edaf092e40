/**
 * The monitor rule file format (`monitors/*.yaml`): a measure of a table per dimension value
 * and time bucket, a condition that makes a value fire, a schedule, a severity and the alert
 * targets told when a value starts firing and when it resolves.
 */
import { z } from 'zod';
import { alertTargetSchema, cronProblem } from '../orchestrator/definition.js';
import { durationMs } from '../orchestrator/duration.js';
import type { MonitorSpec } from './sql.js';

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,127}$/;
const COLUMN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TABLE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

/** What an alert of a monitor fires on: a value starts firing, or stops. */
export const MONITOR_EVENTS = ['firing', 'resolved'] as const;
export type MonitorEvent = (typeof MONITOR_EVENTS)[number];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;

const column = (what: string) =>
  z.string().regex(COLUMN, { error: `expected a ${what}: a column name (letters, digits, _)` });

const conditionSchema = z
  .strictObject({
    anomaly: z
      .union([
        z.literal(true),
        z.strictObject({
          factor: z
            .number()
            .gt(1)
            .default(2)
            .describe('Fire under baseline/factor or over baseline×factor (default 2).'),
        }),
      ])
      .transform((v) => (v === true ? { factor: 2 } : v))
      .optional()
      .describe('The latest bucket against the mean of the 7 before it (as the Monitoring page).'),
    below: z.number().optional().describe('Fire when the latest bucket is under this value.'),
    above: z.number().optional().describe('Fire when the latest bucket is over this value.'),
    freshness: durationMs.optional().describe('Fire when the newest row is older than this.'),
    drop: z
      .number()
      .gt(0)
      .max(100)
      .optional()
      .describe('Fire when the latest bucket is this many percent under the one before it.'),
  })
  .refine((c) => Object.values(c).filter((v) => v !== undefined).length === 1, {
    error: 'condition needs exactly one of anomaly, below, above, freshness or drop',
  });

/** The schema of one monitor rule file. */
export const monitorSchema = z
  .strictObject({
    name: z
      .string()
      .regex(NAME, { error: 'expected a monitor name: a letter, then letters, digits, _ or -' }),
    description: z.string().optional(),
    table: z.string().regex(TABLE, { error: 'expected a table as namespace.table' }),
    time: column('time column'),
    dimension: column('dimension').optional().describe('One series per value of this column.'),
    measure: z
      .enum(['count', 'sum', 'avg'])
      .default('count')
      .describe('count of rows, or sum/avg of `column`.'),
    column: column('measured column').optional(),
    bucket: z.enum(['hour', 'day']).default('day'),
    window: z.number().int().min(2).max(1000).default(30).describe('Buckets read, back from the newest row.'),
    schedule: z
      .string()
      .default('0 * * * *')
      .superRefine((v, ctx) => {
        const problem = cronProblem(v);
        if (problem) ctx.addIssue({ code: 'custom', message: problem, input: v });
      })
      .describe('Cron expression of the checks (default hourly).'),
    timezone: z
      .string()
      .default('UTC')
      .refine((tz) => cronProblem('0 * * * *', tz) === undefined, { error: 'unknown time zone' })
      .describe('Time zone of the schedule.'),
    severity: z.enum(SEVERITIES).default('warning'),
    condition: conditionSchema,
    alerts: z.array(alertTargetSchema(MONITOR_EVENTS, ['firing', 'resolved'])).default([]),
  })
  .superRefine((m, ctx) => {
    if (m.measure !== 'count' && !m.column)
      ctx.addIssue({
        code: 'custom',
        path: ['column'],
        message: `measure ${m.measure} needs a column`,
        input: m,
      });
  });

/** A validated monitor rule. */
export type Monitor = z.output<typeof monitorSchema>;
export type MonitorCondition = Monitor['condition'];
export type MonitorAlertTarget = Monitor['alerts'][number];

/** The query part of a rule, as the shared SQL builder takes it. */
export function specOf(m: Monitor): MonitorSpec {
  return {
    table: m.table,
    time: m.time,
    dimension: m.dimension,
    measure: m.measure,
    column: m.column,
    bucket: m.bucket,
    window: m.window,
  };
}

/** A condition as one line: `anomaly ×2`, `below 100`, `freshness 2h`, `drop 50%`. */
export function conditionText(c: MonitorCondition): string {
  if (c.anomaly) return `anomaly ×${c.anomaly.factor}`;
  if (c.below !== undefined) return `below ${c.below}`;
  if (c.above !== undefined) return `above ${c.above}`;
  if (c.freshness !== undefined) return `freshness ${c.freshness / 1000}s`;
  return `drop ${c.drop}%`;
}
