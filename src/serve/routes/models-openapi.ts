/** OpenAPI 3.1 path object of `GET /api/v1/models` (src/serve/routes/models.ts). */

const column = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string' }, description: { type: 'string' } },
};

/** Schemas the path refers to, for `components.schemas`. */
export const modelOpenApiSchemas = {
  ModelGraph: {
    type: 'object',
    required: ['project', 'nodes', 'edges'],
    properties: {
      project: { type: 'string', description: 'Name from dbt_project.yml' },
      nodes: { type: 'array', items: { $ref: '#/components/schemas/ModelNode' } },
      edges: {
        type: 'array',
        description: '`from` is read by `to` (ref or source)',
        items: {
          type: 'object',
          required: ['from', 'to'],
          properties: { from: { type: 'string' }, to: { type: 'string' } },
        },
      },
    },
  },
  ModelNode: {
    type: 'object',
    required: ['id', 'kind', 'name', 'path', 'tags', 'columns', 'tests'],
    properties: {
      id: { type: 'string', description: '`model:name`, `seed:name` or `source:source.table`' },
      kind: { type: 'string', enum: ['model', 'seed', 'source'] },
      name: { type: 'string' },
      relation: {
        type: 'string',
        description: 'The lake table (`schema.table`); absent for ephemeral models',
      },
      materialized: { type: 'string', enum: ['table', 'view', 'incremental', 'ephemeral', 'seed'] },
      path: { type: 'string', description: 'File declaring it, relative to the dbt project' },
      description: { type: 'string' },
      tags: { type: 'array', items: { type: 'string' } },
      columns: { type: 'array', items: column },
      tests: { type: 'array', items: { type: 'string' } },
      build: {
        type: ['object', 'null'],
        description: 'The snapshot the table is at (its latest build); null when not built',
        properties: { snapshotId: { type: 'string' }, builtAt: { type: 'string', format: 'date-time' } },
      },
      compiled: {
        type: 'object',
        description: 'Models only: the SELECT a full build runs, or the Jinja/ref error that stops it',
        properties: { sql: { type: 'string' }, error: { type: 'string' } },
      },
    },
  },
};

export const modelOpenApiPaths = {
  '/api/v1/models': {
    get: {
      summary: 'Lineage graph of the SQL models (dbt project) with columns, descriptions and tests',
      operationId: 'listModels',
      tags: ['models'],
      parameters: [
        {
          name: 'dir',
          in: 'query',
          required: false,
          description:
            'Directory of dbt_project.yml relative to the project (default: the project directory)',
          schema: { type: 'string' },
        },
      ],
      responses: {
        '200': {
          description: 'The graph',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/ModelGraph' } } },
        },
        '400': {
          description: 'No dbt_project.yml there, or the project does not load (message names file:line)',
        },
      },
    },
  },
};
