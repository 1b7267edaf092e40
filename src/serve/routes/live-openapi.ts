/** OpenAPI 3.1 paths of the live event stream and table rollback (routes/stream.ts, routes/tables.ts). */
import { errorResponse as error } from './pipelines-openapi.js';

export const liveOpenApiPaths = {
  '/api/v1/stream': {
    get: {
      tags: ['ui'],
      summary:
        'Live changes as Server-Sent Events: `run` {runId, pipeline, state} when a run or one of its tasks moves, ' +
        '`table` {table, snapshotId} after a commit, `events` {eventType, batches} after published batches. ' +
        'The first event is `ready`; `: keep-alive` comments come every 15 s; a client that falls 1000 events ' +
        'behind gets `overflow` and is disconnected (reconnect and reload).',
      parameters: [
        {
          name: 'topics',
          in: 'query',
          required: false,
          description: 'Comma-separated subset of runs, tables, events (default: all)',
          schema: { type: 'string' },
        },
      ],
      responses: {
        200: { description: 'The stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        400: error,
        503: error,
      },
    },
  },
  '/api/v1/tables/{namespace}/{table}/rollback': {
    post: {
      tags: ['catalog'],
      summary:
        "Make an earlier snapshot the table's current one (needs write on the table). Unless `force`, it must be " +
        'an ancestor of the current snapshot; the commit fails (409) if the table moved meanwhile.',
      parameters: [
        {
          name: 'namespace',
          in: 'path',
          required: true,
          description: 'Dotted for nested namespaces',
          schema: { type: 'string' },
        },
        { name: 'table', in: 'path', required: true, schema: { type: 'string' } },
      ],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['snapshotId'],
              additionalProperties: false,
              properties: {
                snapshotId: {
                  type: 'string',
                  pattern: '^-?\\d+$',
                  description: 'As a string: 64-bit ids lose digits as JSON numbers',
                },
                force: { type: 'boolean' },
              },
            },
          },
        },
      },
      responses: {
        200: {
          description: 'Rolled back (or already current: changed false)',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  table: { type: 'string' },
                  from: { type: ['string', 'null'] },
                  to: { type: 'string' },
                  changed: { type: 'boolean' },
                },
              },
            },
          },
        },
        400: error,
        403: error,
        404: error,
        409: error,
      },
    },
  },
};
