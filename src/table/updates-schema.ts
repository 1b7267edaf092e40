/** Zod schemas of the REST catalog's TableUpdate and TableRequirement JSON (CommitTableRequest). */
import { z } from 'zod';
import {
  partitionStatisticsFileSchema,
  schemaSchema,
  snapshotIdSchema,
  snapshotRefSchema,
  snapshotSchema,
  sortOrderSchema,
  statisticsFileSchema,
  zodError,
} from './metadata-schema.js';
import type { TableRequirement, TableUpdate } from './updates.js';

const int = z.number().int();
const action = <A extends string, S extends z.ZodRawShape>(name: A, shape: S) =>
  z.object({ action: z.literal(name), ...shape });

const tableUpdateSchema = z.discriminatedUnion('action', [
  action('assign-uuid', { uuid: z.string() }),
  action('upgrade-format-version', { 'format-version': int }),
  action('add-schema', { schema: schemaSchema, 'last-column-id': int.optional() }),
  action('set-current-schema', { 'schema-id': int }),
  action('add-spec', {
    spec: z.object({
      'spec-id': int.optional(),
      fields: z.array(
        z.object({
          'source-id': int,
          'field-id': int.optional(),
          name: z.string().min(1),
          transform: z.string(),
        }),
      ),
    }),
  }),
  action('set-default-spec', { 'spec-id': int }),
  action('add-sort-order', { 'sort-order': sortOrderSchema }),
  action('set-default-sort-order', { 'sort-order-id': int }),
  action('add-snapshot', { snapshot: snapshotSchema }),
  action('set-snapshot-ref', { 'ref-name': z.string().min(1), ...snapshotRefSchema.shape }),
  action('remove-snapshots', { 'snapshot-ids': z.array(snapshotIdSchema) }),
  action('remove-snapshot-ref', { 'ref-name': z.string() }),
  action('set-location', { location: z.string().min(1) }),
  action('set-properties', { updates: z.record(z.string(), z.string()) }),
  action('remove-properties', { removals: z.array(z.string()) }),
  action('set-statistics', { 'snapshot-id': snapshotIdSchema.optional(), statistics: statisticsFileSchema }),
  action('remove-statistics', { 'snapshot-id': snapshotIdSchema }),
  action('set-partition-statistics', { 'partition-statistics': partitionStatisticsFileSchema }),
  action('remove-partition-statistics', { 'snapshot-id': snapshotIdSchema }),
  action('remove-partition-specs', { 'spec-ids': z.array(int) }),
  action('remove-schemas', { 'schema-ids': z.array(int) }),
]);

const req = <T extends string, S extends z.ZodRawShape>(name: T, shape: S) =>
  z.object({ type: z.literal(name), ...shape });

const tableRequirementSchema = z.discriminatedUnion('type', [
  req('assert-create', {}),
  req('assert-table-uuid', { uuid: z.string() }),
  req('assert-ref-snapshot-id', { ref: z.string(), 'snapshot-id': z.union([snapshotIdSchema, z.null()]) }),
  req('assert-last-assigned-field-id', { 'last-assigned-field-id': int }),
  req('assert-current-schema-id', { 'current-schema-id': int }),
  req('assert-last-assigned-partition-id', { 'last-assigned-partition-id': int }),
  req('assert-default-spec-id', { 'default-spec-id': int }),
  req('assert-default-sort-order-id', { 'default-sort-order-id': int }),
]);

/**
 * Validate the `updates` array of a REST commit (parse the body with `parseJson` so
 * snapshot ids stay exact).
 * @throws InvalidInputError listing each problem.
 */
export function parseTableUpdates(json: unknown): TableUpdate[] {
  const r = z.array(tableUpdateSchema).safeParse(json);
  if (!r.success) throw zodError('table updates', r.error);
  return r.data as TableUpdate[];
}

/** Validate the `requirements` array of a REST commit. @throws InvalidInputError listing each problem. */
export function parseTableRequirements(json: unknown): TableRequirement[] {
  const r = z.array(tableRequirementSchema).safeParse(json);
  if (!r.success) throw zodError('table requirements', r.error);
  return r.data as TableRequirement[];
}
