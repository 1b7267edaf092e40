/** The OpenAPI description of `POST /api/v1/sql`. */
import { errorResponse, type OpenApiObject, type OpenApiPart } from '../openapi.js';
import { DEFAULT_JSON_ROW_LIMIT, MAX_JSON_ROW_LIMIT } from './sql.js';

function sqlError(description: string): OpenApiObject {
  return {
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/SqlError' } } },
  };
}

const positionSchema = {
  type: 'object',
  description: 'Where in the statement the error was found.',
  properties: {
    offset: { type: 'integer', description: '0-based character offset.' },
    line: { type: 'integer', description: '1-based line.' },
    column: { type: 'integer', description: '1-based column.' },
  },
};

/** The OpenAPI description of the SQL routes. */
export const sqlOpenApi: OpenApiPart = {
  tags: [{ name: 'sql', description: 'SQL over the lake tables (DuckDB).' }],
  schemas: {
    SqlRequest: {
      type: 'object',
      required: ['sql'],
      additionalProperties: false,
      properties: {
        sql: {
          type: 'string',
          description:
            'One statement. Tables are namespace.table; ns."t@<snapshot id|timestamp|tag>" reads an older snapshot.',
        },
        params: { type: 'array', description: 'Values of $1, $2, ...' },
        format: {
          type: 'string',
          enum: ['json', 'ndjson', 'parquet'],
          description:
            'Default json; ndjson streams (also chosen by Accept: application/x-ndjson); parquet answers every row of a query as a Parquet file (no limit).',
        },
        limit: {
          type: 'integer',
          minimum: 1,
          maximum: MAX_JSON_ROW_LIMIT,
          description: `Most rows of a JSON answer (default ${DEFAULT_JSON_ROW_LIMIT}); "truncated" tells when more existed.`,
        },
        timeoutMs: {
          type: 'integer',
          minimum: 0,
          description: 'Statement timeout for this request (0 = none; default engine.statementTimeoutMs).',
        },
        readOnly: {
          type: 'boolean',
          description: 'Run as a read-only user: writes fail with 403 / SQLSTATE 42501.',
        },
      },
    },
    SqlResult: {
      type: 'object',
      required: ['columns', 'rows', 'rowCount', 'truncated', 'statementType'],
      properties: {
        columns: {
          type: 'array',
          items: { type: 'object', properties: { name: { type: 'string' }, type: { type: 'string' } } },
        },
        rows: { type: 'array', items: { type: 'array' }, description: 'Rows as arrays in column order.' },
        rowCount: { type: 'integer' },
        truncated: { type: 'boolean' },
        statementType: { type: 'string', description: 'SELECT, INSERT, DELETE, CREATE_TABLE, ...' },
        rowsChanged: { type: 'integer', description: 'Rows written by INSERT / DELETE / CREATE TABLE AS.' },
        elapsedMs: { type: 'integer' },
      },
    },
    SqlError: {
      type: 'object',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message', 'sqlState'],
          properties: {
            code: { type: 'string' },
            message: { type: 'string' },
            sqlState: {
              type: 'string',
              description:
                'PostgreSQL SQLSTATE, e.g. 42601 syntax, 42P01 unknown table, 42501 forbidden, 57014 cancelled/timeout.',
            },
            position: positionSchema,
          },
        },
      },
    },
  },
  paths: {
    '/api/v1/sql': {
      post: {
        tags: ['sql'],
        operationId: 'runSql',
        summary: 'Run one SQL statement over the lake tables.',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/SqlRequest' } } },
        },
        responses: {
          '200': {
            description:
              'The result. As NDJSON: a line {"columns", "statementType"}, one JSON array per row, then {"done": true, "rowCount"} or {"error": {...}}.',
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/SqlResult' } },
              'application/x-ndjson': { schema: { type: 'string' } },
              'application/vnd.apache.parquet': { schema: { type: 'string', format: 'binary' } },
            },
          },
          '400': sqlError(
            'Malformed request or statement (syntax, unknown table or column); with format parquet, a statement that is not a query.',
          ),
          '403': sqlError('The user may not run this statement (SQLSTATE 42501).'),
          '408': sqlError('Statement timeout (SQLSTATE 57014).'),
          '429': sqlError('Too many statements running and queued (SQLSTATE 53000).'),
          '503': errorResponse('Out of memory (SQLSTATE 53200) or no engine.'),
        },
      },
    },
  },
};
