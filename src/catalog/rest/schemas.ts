/** Request bodies of the Iceberg REST catalog (components/schemas of the OpenAPI document). */
import { z } from 'zod';
import {
  type PartitionSpec,
  parseTableRequirements,
  parseTableUpdates,
  type Schema,
  type SortOrder,
  type TableRequirement,
  type TableUpdate,
} from '../../table/index.js';
import { InvalidInputError } from '../../util/index.js';

const strings = z.record(z.string(), z.string());
const namespace = z.array(z.string());
const identifier = z.object({ namespace, name: z.string() });

/** CreateNamespaceRequest. */
export const createNamespaceRequest = z.object({ namespace, properties: strings.optional() });

/** UpdateNamespacePropertiesRequest. */
export const updatePropertiesRequest = z.object({
  removals: z.array(z.string()).optional(),
  updates: strings.optional(),
});

/** RenameTableRequest. */
export const renameTableRequest = z.object({ source: identifier, destination: identifier });

/** RegisterTableRequest. */
export const registerTableRequest = z.object({
  name: z.string(),
  'metadata-location': z.string().min(1),
  overwrite: z.boolean().optional(),
});

/** CreateTableRequest (schema, spec and order are checked in depth by `parseCreateParts`). */
export const createTableRequest = z.object({
  name: z.string(),
  location: z.string().min(1).optional(),
  schema: z.record(z.string(), z.unknown()),
  'partition-spec': z.record(z.string(), z.unknown()).optional(),
  'write-order': z.record(z.string(), z.unknown()).optional(),
  'stage-create': z.boolean().optional(),
  properties: strings.optional(),
});

const commitBody = {
  requirements: z.array(z.unknown()),
  updates: z.array(z.unknown()),
};

/** CommitTableRequest (the identifier is optional on the table route). */
export const commitTableRequest = z.object({ identifier: identifier.optional(), ...commitBody });

/** CommitTransactionRequest. */
export const commitTransactionRequest = z.object({
  'table-changes': z.array(z.object({ identifier, ...commitBody })).min(1),
});

/** ReportMetricsRequest: a ScanReport or CommitReport, recognised by `report-type`. */
export const reportMetricsRequest = z.looseObject({ 'report-type': z.string() });

/** Requirements and updates of one CommitTableRequest, validated. @throws InvalidInputError */
export function parseCommit(body: { requirements: unknown[]; updates: unknown[] }): {
  requirements: TableRequirement[];
  updates: TableUpdate[];
} {
  return {
    requirements: parseTableRequirements(body.requirements),
    updates: parseTableUpdates(body.updates),
  };
}

function part<A extends TableUpdate['action']>(
  field: string,
  update: Record<string, unknown> & { action: A },
): Extract<TableUpdate, { action: A }> {
  try {
    return parseTableUpdates([update])[0] as Extract<TableUpdate, { action: A }>;
  } catch (err) {
    const message = (err as Error).message
      .replace('invalid table updates:', `invalid "${field}":`)
      .replaceAll('[0].', '');
    throw new InvalidInputError(message, undefined, { cause: err });
  }
}

/**
 * Schema, partition spec and sort order of a CreateTableRequest, validated with the same
 * rules as commits. Ids the spec marks read-only (`schema-id`, `spec-id`, `order-id`) may be absent.
 * @throws InvalidInputError
 */
export function parseCreateParts(body: z.output<typeof createTableRequest>): {
  schema: Schema;
  partitionSpec?: PartitionSpec;
  sortOrder?: SortOrder;
} {
  const schema = part('schema', { action: 'add-schema', schema: { 'schema-id': 0, ...body.schema } }).schema;
  const rawSpec = body['partition-spec'];
  const spec = rawSpec ? part('partition-spec', { action: 'add-spec', spec: rawSpec }).spec : undefined;
  const rawOrder = body['write-order'];
  const order = rawOrder
    ? part('write-order', { action: 'add-sort-order', 'sort-order': { 'order-id': 0, ...rawOrder } })[
        'sort-order'
      ]
    : undefined;
  return {
    schema,
    partitionSpec: spec
      ? { 'spec-id': 0, fields: spec.fields.map((f, i) => ({ ...f, 'field-id': f['field-id'] ?? 1000 + i })) }
      : undefined,
    sortOrder: order,
  };
}
