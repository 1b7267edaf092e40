/**
 * Validation of an EventType request body against Nakadi's rules: field types (zod), then
 * the cross-field rules (category vs enrichment, partition strategy vs key fields, cleanup
 * policy, schema keywords of `compatible` mode). Every failure is a 422 naming the field.
 */
import { z } from 'zod';
import { compileEventSchema, forbiddenKeywords, parseSchemaText, schemaHasPath } from './json-schema.js';
import { UnprocessableError } from './problem.js';
import type { EventType, EventTypeFields } from './types.js';

const NAME = /^[a-zA-Z][-0-9a-zA-Z_]*(\.[0-9a-zA-Z][-0-9a-zA-Z_]*)*$/;

const attribute = z.strictObject({ data_type: z.string().min(1), value: z.string().min(1) });
const acl = z.array(attribute).min(1);

const eventTypeBody = z.looseObject({
  name: z
    .string()
    .max(255)
    .regex(NAME, { error: 'must match [a-zA-Z][-0-9a-zA-Z_]*(\\.[0-9a-zA-Z][-0-9a-zA-Z_]*)*' }),
  owning_application: z.string().min(1),
  category: z.enum(['undefined', 'business', 'data']),
  enrichment_strategies: z.array(z.enum(['metadata_enrichment'])).default([]),
  partition_strategy: z.enum(['random', 'hash', 'user_defined']).default('random'),
  partition_key_fields: z.array(z.string().min(1)).optional(),
  compatibility_mode: z.enum(['compatible', 'forward', 'none']).default('forward'),
  cleanup_policy: z.enum(['delete', 'compact', 'compact_and_delete']).default('delete'),
  schema: z.looseObject({
    type: z.enum(['json_schema', 'avro_schema']),
    schema: z.string(),
  }),
  default_statistic: z
    .strictObject({
      messages_per_minute: z.number().int().min(0),
      message_size: z.number().int().min(0),
      read_parallelism: z.number().int().min(1),
      write_parallelism: z.number().int().min(1),
    })
    .optional(),
  options: z.looseObject({ retention_time: z.number().int().positive().optional() }).optional(),
  authorization: z.strictObject({ admins: acl, readers: acl, writers: acl }).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

/** What the input check needs from the bus configuration. */
export interface EventTypeLimits {
  defaultPartitions: number;
  maxPartitions: number;
  /** Default retention when the body has none (ms). */
  retentionMs: number;
}

/** A validated event type body, before versions and timestamps are assigned. */
export interface EventTypeInput extends EventTypeFields {
  schema: { type: 'json_schema'; schema: string };
  [extra: string]: unknown;
}

/**
 * Validate and normalise an EventType body.
 * @throws UnprocessableError naming the offending field.
 */
export function checkEventTypeBody(body: unknown, limits: EventTypeLimits): EventTypeInput {
  const parsed = eventTypeBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'body';
    throw new UnprocessableError(`${field}: ${issue?.message ?? 'invalid'}`);
  }
  const et = parsed.data;
  const {
    created_at: _c,
    updated_at: _u,
    ...rest
  } = et as typeof et & { created_at?: unknown; updated_at?: unknown };
  if (et.schema.type !== 'json_schema') {
    throw new UnprocessableError(`schema.type "${et.schema.type}" is not supported; use json_schema`);
  }
  const schema = parseSchemaText(et.schema.schema);
  const metadata = et.enrichment_strategies.includes('metadata_enrichment');
  if (et.category === 'undefined' && metadata) {
    throw new UnprocessableError(
      'enrichment_strategies: metadata_enrichment is not possible for category "undefined"',
    );
  }
  if (et.category !== 'undefined' && !metadata) {
    throw new UnprocessableError(
      `enrichment_strategies: category "${et.category}" requires metadata_enrichment`,
    );
  }
  if (et.category === 'business' && isObject(schema.properties) && 'metadata' in schema.properties) {
    throw new UnprocessableError(
      'schema: "metadata" is reserved in business event types and may not be defined',
    );
  }
  checkPartitioning(et, schema);
  if (et.cleanup_policy !== 'delete' && et.category === 'undefined') {
    throw new UnprocessableError(
      `cleanup_policy "${et.cleanup_policy}" is not available for category "undefined"`,
    );
  }
  if (et.compatibility_mode === 'compatible') {
    const forbidden = forbiddenKeywords(schema);
    if (forbidden.length) {
      throw new UnprocessableError(
        `schema: ${forbidden[0]} is not allowed in compatibility mode "compatible" (not, patternProperties, additionalProperties and additionalItems are not supported)`,
      );
    }
  }
  compileEventSchema(et.category, et.compatibility_mode, schema);
  const partitions = partitionCount(et.default_statistic, limits);
  if (partitions > limits.maxPartitions) {
    throw new UnprocessableError(
      `default_statistic: ${partitions} partitions requested, at most ${limits.maxPartitions} are allowed`,
    );
  }
  return {
    ...rest,
    enrichment_strategies: et.enrichment_strategies,
    options: { ...et.options, retention_time: et.options?.retention_time ?? limits.retentionMs },
    schema: { type: 'json_schema', schema: et.schema.schema },
  } as EventTypeInput;
}

function checkPartitioning(et: z.infer<typeof eventTypeBody>, schema: Record<string, unknown>): void {
  const keys = et.partition_key_fields ?? [];
  if (et.partition_strategy === 'hash') {
    if (keys.length === 0)
      throw new UnprocessableError('partition_key_fields: required for partition_strategy "hash"');
    const base = et.category === 'data' ? schema : schema;
    for (const key of keys) {
      if (!schemaHasPath(base, key)) {
        throw new UnprocessableError(`partition_key_fields: "${key}" is not a property of the schema`);
      }
    }
  } else if (keys.length > 0) {
    throw new UnprocessableError(`partition_key_fields: only allowed with partition_strategy "hash"`);
  }
  if (et.partition_strategy === 'user_defined' && et.category === 'undefined') {
    throw new UnprocessableError(
      'partition_strategy "user_defined" is only available for business and data event types',
    );
  }
}

/** Partitions of an event type: max(read_parallelism, write_parallelism), else the default. */
export function partitionCount(
  stat: EventType['default_statistic'],
  limits: { defaultPartitions: number },
): number {
  return stat ? Math.max(stat.read_parallelism, stat.write_parallelism) : limits.defaultPartitions;
}

/**
 * Nakadi's rules for what an update may change.
 * @throws UnprocessableError for a forbidden change.
 */
export function checkEventTypeUpdate(before: EventType, after: EventTypeInput): void {
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  if (before.category !== after.category) throw new UnprocessableError('category cannot be changed');
  if (before.partition_strategy !== after.partition_strategy && before.partition_strategy !== 'random') {
    throw new UnprocessableError(
      `partition_strategy cannot be changed from "${before.partition_strategy}" (only "random" may be changed)`,
    );
  }
  if (
    before.partition_strategy === 'hash' &&
    !same(before.partition_key_fields, after.partition_key_fields)
  ) {
    throw new UnprocessableError('partition_key_fields cannot be changed');
  }
  if (
    before.cleanup_policy !== after.cleanup_policy &&
    !(before.cleanup_policy === 'delete' && after.cleanup_policy === 'compact_and_delete')
  ) {
    throw new UnprocessableError('cleanup_policy can only be changed from "delete" to "compact_and_delete"');
  }
  if (after.default_statistic !== undefined && !same(before.default_statistic, after.default_statistic)) {
    throw new UnprocessableError(
      'default_statistic cannot be changed; use PUT /event-types/{name}/partition-count',
    );
  }
  if (
    before.event_owner_selector !== undefined &&
    !same(before.event_owner_selector, after.event_owner_selector)
  ) {
    throw new UnprocessableError('event_owner_selector cannot be changed or removed');
  }
  if (before.authorization && !after.authorization) {
    throw new UnprocessableError('authorization cannot be removed once set');
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}
