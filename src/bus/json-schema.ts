/**
 * Event validation: the effective schema of a category (Nakadi's `metadata` envelope for
 * business events, `data`/`data_op`/`data_type` for data change events) compiled with ajv.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { UnprocessableError } from './problem.js';
import type { Category, CompatibilityMode } from './types.js';

type Json = Record<string, unknown>;

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Keywords `compatible` mode does not allow (they would let schemas change incompatibly). */
export const COMPATIBLE_FORBIDDEN = ['not', 'patternProperties', 'additionalProperties', 'additionalItems'];

const METADATA_SCHEMA: Json = {
  type: 'object',
  properties: {
    eid: { type: 'string', format: 'uuid' },
    event_type: { type: 'string' },
    occurred_at: { type: 'string', format: 'date-time' },
    received_at: { type: 'string', format: 'date-time' },
    version: { type: 'string' },
    parent_eids: { type: 'array', items: { type: 'string', format: 'uuid' } },
    flow_id: { type: 'string' },
    partition: { type: 'string' },
    partition_compaction_key: { type: 'string' },
    published_by: { type: 'string' },
    span_ctx: { type: 'object', additionalProperties: { type: 'string' } },
  },
  required: ['eid', 'occurred_at'],
};

function newAjv(): Ajv {
  // Nakadi schemas are draft-04 documents; `id` and `$schema` of older drafts are tolerated.
  const ajv = new Ajv({ strict: false, allErrors: false, validateSchema: true, addUsedSchema: false });
  addFormats(ajv);
  return ajv;
}

const ajv = newAjv();

/**
 * Parse the `schema` string of an EventTypeSchema into an object.
 * @throws UnprocessableError for text that is not a JSON object.
 */
export function parseSchemaText(text: unknown): Json {
  if (typeof text !== 'string')
    throw new UnprocessableError('schema.schema must be a string holding a JSON Schema');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UnprocessableError(`schema.schema is not valid JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UnprocessableError('schema.schema must be a JSON object');
  }
  return parsed as Json;
}

/** Paths of keywords `compatible` mode forbids, e.g. `properties.a.additionalProperties`. */
export function forbiddenKeywords(schema: unknown, path = ''): string[] {
  if (!schema || typeof schema !== 'object') return [];
  const found: string[] = [];
  for (const [key, value] of Object.entries(schema as Json)) {
    const here = path ? `${path}.${key}` : key;
    if (COMPATIBLE_FORBIDDEN.includes(key) && !isPropertyName(path)) found.push(here);
    found.push(...forbiddenKeywords(value, here));
  }
  return found;
}

function isPropertyName(path: string): boolean {
  return /(^|\.)(properties|definitions)$/.test(path);
}

/** Set `additionalProperties: false` on every object schema (validation in `compatible` mode). */
function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema as Json)) {
    out[key] =
      key === 'properties' || key === 'definitions'
        ? Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, closeObjects(v)]))
        : closeObjects(value);
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

/** The schema events are validated against, for a category and compatibility mode. */
export function effectiveSchema(category: Category, mode: CompatibilityMode, schema: Json): Json {
  const own = mode === 'compatible' ? (closeObjects(schema) as Json) : schema;
  const { $schema: _drop, id: _id, ...body } = own;
  if (category === 'undefined') return body;
  if (category === 'business') {
    const required = Array.isArray(body.required) ? (body.required as string[]) : [];
    return {
      ...body,
      type: 'object',
      properties: { ...((body.properties as Json) ?? {}), metadata: METADATA_SCHEMA },
      required: [...new Set(['metadata', ...required])],
    };
  }
  return {
    type: 'object',
    properties: {
      metadata: METADATA_SCHEMA,
      data_type: { type: 'string' },
      data_op: { type: 'string', enum: ['C', 'U', 'D', 'S'] },
      data: { ...body, type: 'object' },
    },
    required: ['metadata', 'data_type', 'data_op', 'data'],
    ...(mode === 'compatible' ? { additionalProperties: false } : {}),
  };
}

/**
 * Compile the effective schema.
 * @throws UnprocessableError when ajv rejects the schema (unknown type, bad keyword value...).
 */
export function compileEventSchema(
  category: Category,
  mode: CompatibilityMode,
  schema: Json,
): ValidateFunction {
  const { $schema: _s, id: _i, ...own } = schema;
  if (!ajv.validateSchema(own)) {
    throw new UnprocessableError(`invalid JSON Schema: ${ajv.errorsText(ajv.errors, { dataVar: 'schema' })}`);
  }
  try {
    return ajv.compile(effectiveSchema(category, mode, schema));
  } catch (err) {
    throw new UnprocessableError(`invalid JSON Schema: ${(err as Error).message}`);
  }
}

/** A one-line description of the first validation error, Nakadi style: `#/path: message`. */
export function describeErrors(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return 'invalid event';
  const where = `#${e.instancePath}`;
  if (e.keyword === 'required')
    return `${where}: required property ${(e.params as { missingProperty: string }).missingProperty} not found`;
  if (e.keyword === 'additionalProperties') {
    return `${where}: extraneous field ${(e.params as { additionalProperty: string }).additionalProperty}`;
  }
  return `${where}: ${e.message ?? 'invalid'}`;
}

/** Whether a dotted path names a property declared in a schema (for partition_key_fields). */
export function schemaHasPath(schema: Json, path: string): boolean {
  let node: unknown = schema;
  for (const part of path.split('.')) {
    const props = (node as { properties?: Json } | undefined)?.properties;
    if (!props || !(part in props)) return false;
    node = props[part];
  }
  return true;
}
