/**
 * Zod schemas of the v2 JSON structures, written from the spec's field tables (fields
 * required in v2 are required here). Used to validate metadata we read and the JSON
 * bodies of REST commits. Snapshot ids accept numbers or bigints and come out as bigints.
 */
import { z } from 'zod';
import { errorMessage, InvalidInputError } from '../util/index.js';
import { canonicalPrimitive } from './primitives.js';
import { validateSchema } from './schema.js';
import type { IcebergType, JsonValue, NestedField, PrimitiveType, TableMetadata } from './types.js';

const int = z.number().int();
const long = z
  .union([z.number().int(), z.bigint()])
  .transform((v) => Number(v))
  .refine(Number.isSafeInteger, 'must be a safe integer');

/** A snapshot id: a JSON long of any size, as a bigint. */
export const snapshotIdSchema = z.union([z.number().int(), z.bigint()]).transform((v) => BigInt(v));

const primitiveSchema = z.string().transform((s, ctx): PrimitiveType => {
  try {
    return canonicalPrimitive(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: errorMessage(err), input: s });
    return z.NEVER;
  }
});

const json: z.ZodType<JsonValue> = z.custom<JsonValue>(() => true);

/** A nested field of a struct (Appendix C). */
export const nestedFieldSchema: z.ZodType<NestedField> = z.lazy(() =>
  z.object({
    id: int,
    name: z.string(),
    required: z.boolean(),
    type: icebergTypeSchema,
    doc: z.string().optional(),
    'initial-default': json.optional(),
    'write-default': json.optional(),
  }),
);

const structSchema = z.object({ type: z.literal('struct'), fields: z.array(nestedFieldSchema) });

/** Any Iceberg type in its JSON form; primitive strings are canonicalized. */
export const icebergTypeSchema: z.ZodType<IcebergType> = z.lazy(() =>
  z.union([
    primitiveSchema,
    structSchema,
    z.object({
      type: z.literal('list'),
      'element-id': int,
      element: icebergTypeSchema,
      'element-required': z.boolean(),
    }),
    z.object({
      type: z.literal('map'),
      'key-id': int,
      key: icebergTypeSchema,
      'value-id': int,
      value: icebergTypeSchema,
      'value-required': z.boolean(),
    }),
  ]),
);

/** A schema with its id and identifier fields. */
export const schemaSchema = structSchema.extend({
  'schema-id': int,
  'identifier-field-ids': z.array(int).optional(),
});

/** A partition field (v2: `field-id` required). */
export const partitionFieldSchema = z.object({
  'source-id': int,
  'field-id': int,
  name: z.string().min(1),
  transform: z.string(),
});
/** A partition spec. */
export const partitionSpecSchema = z.object({ 'spec-id': int, fields: z.array(partitionFieldSchema) });

/** A sort field. */
export const sortFieldSchema = z.object({
  transform: z.string(),
  'source-id': int,
  direction: z.enum(['asc', 'desc']),
  'null-order': z.enum(['nulls-first', 'nulls-last']),
});
/** A sort order. */
export const sortOrderSchema = z.object({ 'order-id': int, fields: z.array(sortFieldSchema) });

/** A snapshot (v2: `sequence-number` and `manifest-list` required). */
export const snapshotSchema = z.object({
  'snapshot-id': snapshotIdSchema,
  'parent-snapshot-id': z
    .union([snapshotIdSchema, z.null()])
    .optional()
    .transform((v) => v ?? undefined),
  'sequence-number': long,
  'timestamp-ms': long,
  'manifest-list': z.string(),
  summary: z.object({ operation: z.enum(['append', 'replace', 'overwrite', 'delete']) }).catchall(z.string()),
  'schema-id': int.optional(),
});

/** A branch or tag. */
export const snapshotRefSchema = z.object({
  'snapshot-id': snapshotIdSchema,
  type: z.enum(['branch', 'tag']),
  'min-snapshots-to-keep': int.positive().optional(),
  'max-snapshot-age-ms': long.optional(),
  'max-ref-age-ms': long.optional(),
});

/** A table statistics file entry. */
export const statisticsFileSchema = z.object({
  'snapshot-id': snapshotIdSchema,
  'statistics-path': z.string(),
  'file-size-in-bytes': long,
  'file-footer-size-in-bytes': long,
  'key-metadata': z.string().optional(),
  'blob-metadata': z.array(
    z.object({
      type: z.string(),
      'snapshot-id': snapshotIdSchema,
      'sequence-number': long,
      fields: z.array(int),
      properties: z.record(z.string(), z.string()).optional(),
    }),
  ),
});

/** A partition statistics file entry. */
export const partitionStatisticsFileSchema = z.object({
  'snapshot-id': snapshotIdSchema,
  'statistics-path': z.string(),
  'file-size-in-bytes': long,
});

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const tableMetadataSchema = z.object({
  'format-version': z.literal(2),
  'table-uuid': z.string().regex(UUID_RE, 'must be a UUID'),
  location: z.string(),
  'last-sequence-number': long,
  'last-updated-ms': long,
  'last-column-id': int,
  schemas: z.array(schemaSchema).min(1),
  'current-schema-id': int,
  'partition-specs': z.array(partitionSpecSchema).min(1),
  'default-spec-id': int,
  'last-partition-id': int,
  properties: z.record(z.string(), z.string()).default({}),
  'current-snapshot-id': z.union([snapshotIdSchema, z.null()]).optional(),
  snapshots: z.array(snapshotSchema).default([]),
  'snapshot-log': z.array(z.object({ 'snapshot-id': snapshotIdSchema, 'timestamp-ms': long })).default([]),
  'metadata-log': z.array(z.object({ 'metadata-file': z.string(), 'timestamp-ms': long })).default([]),
  'sort-orders': z.array(sortOrderSchema).min(1),
  'default-sort-order-id': int,
  refs: z.record(z.string(), snapshotRefSchema).optional(),
  statistics: z.array(statisticsFileSchema).default([]),
  'partition-statistics': z.array(partitionStatisticsFileSchema).default([]),
});

function label(path: readonly PropertyKey[]): string {
  return path.length
    ? path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
        .replace(/^\./, '')
    : '(root)';
}

/** Turn zod issues into one InvalidInputError listing each problem on its own line. */
export function zodError(what: string, error: z.ZodError): InvalidInputError {
  const lines = error.issues.map((i) => `  ${label(i.path)}: ${i.message}`);
  return new InvalidInputError(`invalid ${what}:\n${lines.join('\n')}`);
}

function checkConsistency(md: TableMetadata): string[] {
  const problems: string[] = [];
  for (const schema of md.schemas) {
    try {
      validateSchema(schema);
    } catch (err) {
      problems.push(`schema ${schema['schema-id']}: ${errorMessage(err)}`);
    }
  }
  if (!md.schemas.some((s) => s['schema-id'] === md['current-schema-id']))
    problems.push(`current-schema-id ${md['current-schema-id']} is not in schemas`);
  if (!md['partition-specs'].some((s) => s['spec-id'] === md['default-spec-id']))
    problems.push(`default-spec-id ${md['default-spec-id']} is not in partition-specs`);
  if (!md['sort-orders'].some((s) => s['order-id'] === md['default-sort-order-id'])) {
    problems.push(`default-sort-order-id ${md['default-sort-order-id']} is not in sort-orders`);
  }
  const ids = new Set(md.snapshots.map((s) => s['snapshot-id']));
  if (md['current-snapshot-id'] !== null && !ids.has(md['current-snapshot-id']))
    problems.push(`current-snapshot-id ${md['current-snapshot-id']} is not in snapshots`);
  for (const [name, ref] of Object.entries(md.refs)) {
    if (!ids.has(ref['snapshot-id']))
      problems.push(`refs.${name} points to unknown snapshot ${ref['snapshot-id']}`);
  }
  const main = md.refs.main;
  if (main && main.type !== 'branch') problems.push('refs.main must be a branch');
  if ((main?.['snapshot-id'] ?? null) !== md['current-snapshot-id']) {
    problems.push(
      `current-snapshot-id ${md['current-snapshot-id']} differs from refs.main ${main?.['snapshot-id'] ?? 'null'}`,
    );
  }
  return problems;
}

/**
 * Validate parsed metadata JSON and return it typed and normalized: missing optional lists
 * become empty, `current-snapshot-id` -1 becomes null, a missing `refs.main` is derived
 * from `current-snapshot-id` (spec: "there is always a main branch reference").
 * @throws InvalidInputError listing every problem, or naming an unsupported format version.
 */
export function validateTableMetadata(obj: unknown): TableMetadata {
  const version = (obj as { 'format-version'?: unknown } | null)?.['format-version'];
  if (typeof version === 'number' && version > 2) {
    throw new InvalidInputError(
      `table format version ${version} is not supported: Sluice reads and writes format version 2`,
    );
  }
  if (version === 1) {
    throw new InvalidInputError(
      'table format version 1 is not supported: Sluice reads and writes format version 2',
      'upgrade the table with another engine (table property format-version=2) first',
    );
  }
  const parsed = tableMetadataSchema.safeParse(obj);
  if (!parsed.success) throw zodError('table metadata', parsed.error);
  const raw = parsed.data;
  const current =
    raw['current-snapshot-id'] === undefined || raw['current-snapshot-id'] === -1n
      ? null
      : raw['current-snapshot-id'];
  const refs = { ...(raw.refs ?? {}) };
  if (!refs.main && current !== null) refs.main = { 'snapshot-id': current, type: 'branch' };
  const md = { ...raw, 'current-snapshot-id': current, refs } as TableMetadata;
  const problems = checkConsistency(md);
  if (problems.length)
    throw new InvalidInputError(`invalid table metadata:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return md;
}
