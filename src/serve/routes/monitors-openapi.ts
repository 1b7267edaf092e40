/** OpenAPI 3.1 path object of `GET /api/v1/monitors` (src/serve/routes/monitors.ts). */

const stamp = { type: ['string', 'null'], format: 'date-time' };

/** Schemas the path refers to, for `components.schemas`. */
export const monitorOpenApiSchemas = {
  Monitor: {
    type: 'object',
    required: [
      'name',
      'file',
      'table',
      'time',
      'measure',
      'bucket',
      'window',
      'schedule',
      'condition',
      'state',
    ],
    properties: {
      name: { type: 'string' },
      file: { type: 'string', description: 'The rule file, relative to the project' },
      description: { type: 'string' },
      table: { type: 'string', description: '`namespace.table`' },
      time: { type: 'string', description: 'Time column' },
      dimension: { type: 'string', description: 'One series per value of this column' },
      measure: { type: 'string', enum: ['count', 'sum', 'avg'] },
      column: { type: 'string' },
      bucket: { type: 'string', enum: ['hour', 'day'] },
      window: { type: 'integer', description: 'Buckets read back from the newest row' },
      schedule: { type: 'string', description: 'Cron expression of the checks' },
      timezone: { type: 'string' },
      severity: { type: 'string', enum: ['info', 'warning', 'critical'] },
      condition: {
        type: 'string',
        description: 'e.g. `anomaly ×2`, `below 100`, `freshness 7200s`, `drop 50%`',
      },
      alerts: {
        type: 'array',
        description: 'Targets (their URLs and addresses are not shown)',
        items: {
          type: 'object',
          properties: {
            on: { type: 'array', items: { type: 'string', enum: ['firing', 'resolved'] } },
            kind: { type: 'string', enum: ['webhook', 'slack', 'email'] },
          },
        },
      },
      state: {
        type: 'string',
        enum: ['ok', 'firing', 'unknown'],
        description: 'firing when any value fires',
      },
      firing: { type: 'integer', description: 'Dimension values firing' },
      nextCheckAt: stamp,
      checkedAt: stamp,
      error: { type: ['string', 'null'], description: 'Why the last check failed' },
      states: { type: 'array', items: { $ref: '#/components/schemas/MonitorState' } },
    },
  },
  MonitorState: {
    type: 'object',
    required: ['value', 'state', 'expected', 'reason', 'since', 'checkedAt'],
    properties: {
      value: { type: 'string', description: 'The dimension value (`(all)` without a dimension)' },
      state: { type: 'string', enum: ['ok', 'firing'] },
      measured: { type: ['number', 'null'], description: 'Latest bucket, or age in seconds (freshness)' },
      expected: { type: 'string' },
      reason: { type: 'string' },
      since: { type: 'string', format: 'date-time', description: 'When it entered this state' },
      checkedAt: { type: 'string', format: 'date-time' },
    },
  },
};

export const monitorOpenApiPaths = {
  '/api/v1/monitors': {
    get: {
      summary: 'Monitor rules (monitors/*.yaml) with their schedule and state per dimension value',
      operationId: 'listMonitors',
      tags: ['monitors'],
      responses: {
        '200': {
          description: 'The rules',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['monitors'],
                properties: { monitors: { type: 'array', items: { $ref: '#/components/schemas/Monitor' } } },
              },
            },
          },
        },
        '400': { description: 'A rule file does not validate (the message names file:line)' },
      },
    },
  },
};
