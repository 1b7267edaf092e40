/**
 * The OpenAPI 3.1 document of the platform API (`GET /api/v1/openapi.json`), merged from
 * parts: each route module exports the paths and schemas it serves, and `createApp` lists
 * the parts it mounts.
 */

/** An OpenAPI object (operation, schema, ...), kept as plain JSON. */
export type OpenApiObject = Record<string, unknown>;

/** What one route module contributes to the document. */
export interface OpenApiPart {
  /** Paths relative to the server root, e.g. `/api/v1/sql`. */
  paths: Record<string, OpenApiObject>;
  /** Reusable schemas under `#/components/schemas/`. */
  schemas?: Record<string, OpenApiObject>;
  tags?: { name: string; description: string }[];
}

/** The error body every platform route answers with. */
export const errorSchemaRef = { $ref: '#/components/schemas/Error' };

/** A response of an error, for operations' `responses`. */
export function errorResponse(description: string): OpenApiObject {
  return { description, content: { 'application/json': { schema: errorSchemaRef } } };
}

/** Health and info: the routes of the server shell. */
export const coreOpenApi: OpenApiPart = {
  tags: [{ name: 'platform', description: 'Server health and identity.' }],
  schemas: {
    Error: {
      type: 'object',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: {
              type: 'string',
              description: 'Stable error code, e.g. invalid_input, forbidden, not_found.',
            },
            message: { type: 'string' },
          },
          additionalProperties: true,
        },
      },
    },
  },
  paths: {
    '/api/v1/health': {
      get: {
        tags: ['platform'],
        operationId: 'getHealth',
        summary: 'Liveness and readiness, with the state of each backend.',
        responses: {
          '200': {
            description: 'Every backend answers.',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
          '503': {
            description: 'A backend does not answer.',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
        },
      },
    },
    '/api/v1/info': {
      get: {
        tags: ['platform'],
        operationId: 'getInfo',
        summary: 'What is being served: project, version, backends (without probing them).',
        responses: {
          '200': {
            description: 'Server information.',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
        },
      },
    },
    '/api/v1/openapi.json': {
      get: {
        tags: ['platform'],
        operationId: 'getOpenApi',
        summary: 'This document.',
        responses: {
          '200': {
            description: 'OpenAPI 3.1 document.',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
        },
      },
    },
  },
};

/** An operation with an `operationId` (generated from method and path when a part gives none). */
function withOperationId(method: string, path: string, op: unknown): unknown {
  if (typeof op !== 'object' || op === null || 'operationId' in op) return op;
  const words = path
    .replace(/^\/api\/v1\//, '')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]?.toUpperCase() + w.slice(1));
  return { operationId: `${method}${words.join('')}`, ...op };
}

/**
 * Merge parts into one OpenAPI 3.1 document.
 * @throws Error when two parts define the same path method or schema differently.
 */
export function openApiDocument(
  parts: readonly OpenApiPart[],
  o: { version: string; title?: string },
): OpenApiObject {
  const paths: Record<string, OpenApiObject> = {};
  const schemas: Record<string, OpenApiObject> = {};
  const tags: { name: string; description: string }[] = [];
  for (const part of parts) {
    for (const [path, item] of Object.entries(part.paths)) {
      const merged = { ...(paths[path] ?? {}) };
      for (const [method, op] of Object.entries(item)) {
        if (method in merged) throw new Error(`OpenAPI: ${method.toUpperCase()} ${path} is defined twice`);
        merged[method] = withOperationId(method, path, op);
      }
      paths[path] = merged;
    }
    for (const [name, schema] of Object.entries(part.schemas ?? {})) {
      if (name in schemas && JSON.stringify(schemas[name]) !== JSON.stringify(schema))
        throw new Error(`OpenAPI: schema ${name} is defined twice`);
      schemas[name] = schema;
    }
    for (const t of part.tags ?? []) if (!tags.some((x) => x.name === t.name)) tags.push(t);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: o.title ?? 'Sluice platform API',
      version: o.version,
      description: 'The platform API of a Sluice server. Errors are JSON: {"error": {"code", "message"}}.',
    },
    tags,
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : 1))),
    components: { schemas },
  };
}
