/**
 * OpenAPI 3.1 path objects of the orchestrator routes (src/serve/routes/pipelines.ts),
 * merged into /api/v1/openapi.json.
 */
import { RUN_STATES, TASK_STATES } from '../../orchestrator/index.js';

/** The JSON error answer every route gives. */
export const errorResponse = {
  description: 'Error',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['error'],
        properties: {
          error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
  },
};

const RUN_STATE = { type: 'string', enum: [...RUN_STATES] };
const TASK_STATE = { type: 'string', enum: [...TASK_STATES] };
const time = { type: ['string', 'null'], format: 'date-time' };
const STATE_COUNTS = Object.fromEntries(RUN_STATES.map((s) => [s, { type: 'integer' }]));

const BACKFILL = {
  type: 'object',
  properties: {
    intervals: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          start: { type: 'string', format: 'date-time' },
          end: { type: 'string', format: 'date-time' },
          runId: { type: 'string' },
          existing: { type: 'boolean', description: 'A run covered the interval before this backfill' },
          state: RUN_STATE,
        },
      },
    },
    created: { type: 'array', items: { type: 'string' }, description: 'Runs created before the answer' },
  },
};

/** Schemas the paths refer to, for `components.schemas`. */
export const pipelineOpenApiSchemas = {
  Run: {
    type: 'object',
    properties: {
      runId: { type: 'string' },
      pipeline: { type: 'string' },
      versionHash: { type: 'string', description: 'Hash of the pipeline definition the run is pinned to' },
      trigger: { type: 'string', enum: ['schedule', 'manual', 'backfill', 'event'] },
      runKey: { type: ['string', 'null'] },
      dataIntervalStart: { type: 'string', format: 'date-time', description: 'The logical date ({{ ds }})' },
      dataIntervalEnd: { type: 'string', format: 'date-time' },
      params: { type: 'object', additionalProperties: { type: 'string' } },
      state: RUN_STATE,
      createdAt: { type: 'string', format: 'date-time' },
      startedAt: time,
      endedAt: time,
    },
  },
  TaskRun: {
    type: 'object',
    properties: {
      runId: { type: 'string' },
      taskId: { type: 'string' },
      state: TASK_STATE,
      tries: { type: 'integer' },
      pool: { type: ['string', 'null'] },
      workerId: { type: ['string', 'null'] },
      startedAt: time,
      endedAt: time,
      nextTryAt: time,
      error: { type: ['string', 'null'] },
      progress: { type: ['object', 'null'] },
      summary: { type: ['object', 'null'] },
    },
  },
  Pipeline: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      file: { type: 'string' },
      versionHash: { type: 'string' },
      schedule: { type: ['string', 'null'] },
      timezone: { type: 'string' },
      paused: { type: 'boolean' },
      nextRunAt: {
        ...time,
        description: 'When the scheduler next starts a run; null without a schedule or when paused',
      },
      lastRun: {
        description: 'The newest run (in the list only)',
        oneOf: [{ $ref: '#/components/schemas/Run' }, { type: 'null' }],
      },
      tasks: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            kind: { type: 'string' },
            dependsOn: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
  },
} as const;

const ref = (name: keyof typeof pipelineOpenApiSchemas) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
});
const runId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const body = (schema: unknown) => ({ required: true, content: { 'application/json': { schema } } });

/** Path objects keyed by full path. */
export const pipelineOpenApiPaths = {
  '/api/v1/pipelines': {
    get: {
      tags: ['orchestrator'],
      summary: 'List pipelines as currently loaded',
      responses: {
        200: json({ type: 'object', properties: { pipelines: { type: 'array', items: ref('Pipeline') } } }),
      },
    },
  },
  '/api/v1/pipelines/{name}': {
    get: {
      tags: ['orchestrator'],
      summary: 'One pipeline and its recent runs',
      parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { 200: json(ref('Pipeline')), 404: errorResponse },
    },
  },
  '/api/v1/pipelines/{name}/why': {
    get: {
      tags: ['orchestrator'],
      summary: 'Why a pipeline or task did not run',
      parameters: [
        { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
        { name: 'task', in: 'query', schema: { type: 'string' } },
      ],
      responses: {
        200: json({
          type: 'object',
          properties: { pipeline: { type: 'string' }, reasons: { type: 'array', items: { type: 'string' } } },
        }),
        404: errorResponse,
      },
    },
  },
  '/api/v1/pipelines/{name}/backfill': {
    post: {
      tags: ['orchestrator'],
      summary:
        'Backfill: one run per schedule interval starting between from and to, at most `parallel` at once. ' +
        'Answers 202 once the first runs exist; the server creates the rest as runs finish. ' +
        'Intervals that already have a run are skipped, so sending it again is safe.',
      parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
      requestBody: body({
        type: 'object',
        required: ['from', 'to'],
        additionalProperties: false,
        properties: {
          from: { type: 'string', description: 'ISO date or date-time' },
          to: { type: 'string', description: 'ISO date or date-time (included)' },
          parallel: { type: 'integer', minimum: 1, maximum: 32, default: 1 },
          params: { type: 'object', additionalProperties: { type: 'string' } },
          dryRun: { type: 'boolean', description: 'Only list the intervals and which have a run' },
        },
      }),
      responses: {
        200: json(BACKFILL, 'Dry run, or nothing left to run'),
        202: json(BACKFILL, 'Started'),
        400: errorResponse,
        403: errorResponse,
        404: errorResponse,
      },
    },
  },
  '/api/v1/runs': {
    get: {
      tags: ['orchestrator'],
      summary: 'List runs, newest first',
      parameters: [
        { name: 'pipeline', in: 'query', schema: { type: 'string' } },
        { name: 'state', in: 'query', schema: RUN_STATE },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 10000, default: 50 } },
      ],
      responses: {
        200: json({ type: 'object', properties: { runs: { type: 'array', items: ref('Run') } } }),
        400: errorResponse,
      },
    },
    post: {
      tags: ['orchestrator'],
      summary: 'Trigger a run',
      requestBody: body({
        type: 'object',
        required: ['pipeline'],
        additionalProperties: false,
        properties: {
          pipeline: { type: 'string' },
          params: { type: 'object', additionalProperties: { type: 'string' } },
          logicalDate: { type: 'string', format: 'date-time' },
        },
      }),
      responses: { 201: json(ref('Run'), 'Created'), 400: errorResponse, 404: errorResponse },
    },
  },
  '/api/v1/runs/summary': {
    get: {
      tags: ['orchestrator'],
      summary: 'Runs created per hour or day (UTC) and state, and per pipeline, for charts',
      parameters: [
        { name: 'bucket', in: 'query', schema: { type: 'string', enum: ['hour', 'day'], default: 'hour' } },
        {
          name: 'buckets',
          in: 'query',
          description: 'How many buckets back from now (default 24 hours or 14 days)',
          schema: { type: 'integer', minimum: 1, maximum: 1000 },
        },
      ],
      responses: {
        200: json({
          type: 'object',
          properties: {
            bucket: { type: 'string', enum: ['hour', 'day'] },
            since: { type: 'string', format: 'date-time', description: 'Start of the first bucket' },
            buckets: {
              type: 'array',
              description: 'One entry per bucket, oldest first, with a count per run state',
              items: {
                type: 'object',
                properties: { start: { type: 'string', format: 'date-time' }, ...STATE_COUNTS },
              },
            },
            pipelines: {
              type: 'array',
              description: 'Counts per run state of each pipeline that has runs in the window',
              items: { type: 'object', properties: { pipeline: { type: 'string' }, ...STATE_COUNTS } },
            },
          },
        }),
        400: errorResponse,
      },
    },
  },
  '/api/v1/runs/{id}': {
    get: {
      tags: ['orchestrator'],
      summary: 'A run with its task instances and attempts',
      parameters: [runId],
      responses: {
        200: json({
          allOf: [
            ref('Run'),
            { type: 'object', properties: { tasks: { type: 'array', items: ref('TaskRun') } } },
          ],
        }),
        404: errorResponse,
      },
    },
  },
  '/api/v1/runs/{id}/resume': {
    post: {
      tags: ['orchestrator'],
      summary: 'Re-run failed and not-run tasks, or fromTask and everything downstream',
      parameters: [runId],
      requestBody: {
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: { fromTask: { type: 'string' }, dryRun: { type: 'boolean' } },
            },
          },
        },
      },
      responses: {
        200: json({
          type: 'object',
          properties: {
            rerun: { type: 'array', items: { type: 'string' } },
            kept: { type: 'array', items: { type: 'string' } },
            added: { type: 'array', items: { type: 'string' } },
            removed: { type: 'array', items: { type: 'string' } },
          },
        }),
        404: errorResponse,
        409: errorResponse,
      },
    },
  },
  '/api/v1/runs/{id}/cancel': {
    post: {
      tags: ['orchestrator'],
      summary: 'Cancel a queued or running run',
      parameters: [runId],
      responses: { 200: json(ref('Run')), 404: errorResponse, 409: errorResponse },
    },
  },
  '/api/v1/runs/{id}/mark': {
    post: {
      tags: ['orchestrator'],
      summary: 'Mark a run, or one of its tasks, success or failed',
      parameters: [runId],
      requestBody: body({
        type: 'object',
        required: ['state'],
        properties: { state: { type: 'string', enum: ['success', 'failed'] }, task: { type: 'string' } },
      }),
      responses: { 200: json(ref('Run')), 400: errorResponse, 404: errorResponse },
    },
  },
  '/api/v1/runs/{id}/logs': {
    get: {
      tags: ['orchestrator'],
      summary: 'Captured log lines of a run, per task attempt',
      parameters: [
        runId,
        { name: 'task', in: 'query', schema: { type: 'string' } },
        { name: 'attempt', in: 'query', schema: { type: 'integer', minimum: 1 } },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100000 } },
      ],
      responses: {
        200: json({
          type: 'object',
          properties: {
            lines: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  taskId: { type: 'string' },
                  attempt: { type: 'integer' },
                  stream: { type: 'string' },
                  at: { type: 'string', format: 'date-time' },
                  text: { type: 'string' },
                },
              },
            },
          },
        }),
        404: errorResponse,
      },
    },
  },
} as const;
