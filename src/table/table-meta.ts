/**
 * Metadata-only commits: schema and partition evolution, properties, tags and rollback. Each
 * is built from the latest metadata with requirements guarding what it assumed, and rebuilt
 * when another writer committed first.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, InvalidInputError, NotFoundError } from '../util/index.js';
import { currentSchema, snapshotById } from './lookup.js';
import { MAIN_BRANCH } from './metadata.js';
import { findFieldByName } from './schema.js';
import { evolveSchema, type SchemaChange } from './schema-evolution.js';
import type { TableContext } from './table-commit.js';
import { parseTransform } from './transforms.js';
import type { TableMetadata } from './types.js';
import type { TableRequirement, TableUpdate } from './updates.js';
import { assertWritableSchema } from './writer-sql.js';

const ATTEMPTS = 5;

/** A partition field by column name: `{ column: 'ts', transform: 'day' }`. */
export interface PartitionFieldInput {
  column: string;
  /** identity, bucket[N], truncate[W], year, month, day, hour, void. */
  transform: string;
  /** Partition field name; default `<column>` for identity, else `<column>_<transform>` as Java names them. */
  name?: string;
}

async function commitMetadata(
  ctx: TableContext,
  build: (md: TableMetadata) => { requirements: TableRequirement[]; updates: TableUpdate[] },
): Promise<TableMetadata> {
  for (let attempt = 1; ; attempt++) {
    const { requirements, updates } = build(ctx.loaded.metadata);
    try {
      ctx.loaded = await ctx.catalog.commitTable(ctx.id, requirements, updates);
      return ctx.loaded.metadata;
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= ATTEMPTS) throw err;
      await sleep(10 * attempt + Math.random() * 20);
      ctx.loaded = await ctx.catalog.loadTable(ctx.id);
    }
  }
}

/** Apply schema changes (add, drop, rename, widen, ...) as a new current schema. @throws InvalidInputError for illegal changes */
export function commitSchemaChanges(ctx: TableContext, changes: SchemaChange[]): Promise<TableMetadata> {
  for (const c of changes)
    if (c.op === 'add-column')
      assertWritableSchema(
        { type: 'struct', fields: [{ id: 0, name: c.name, required: false, type: c.type }] },
        'add the column',
      );
  return commitMetadata(ctx, (md) => {
    const next = evolveSchema(currentSchema(md), md['last-column-id'], changes);
    return {
      requirements: [
        { type: 'assert-current-schema-id', 'current-schema-id': md['current-schema-id'] },
        { type: 'assert-last-assigned-field-id', 'last-assigned-field-id': md['last-column-id'] },
      ],
      updates: [
        { action: 'add-schema', schema: next.schema, 'last-column-id': next.lastColumnId },
        { action: 'set-current-schema', 'schema-id': -1 },
      ],
    };
  });
}

/** The partition field name Java gives a transform of a column (`ts_day`, `id_bucket`, `name_trunc`). */
export function defaultPartitionFieldName(column: string, transform: string): string {
  const t = parseTransform(transform);
  switch (t.kind) {
    case 'identity':
      return column;
    case 'bucket':
      return `${column}_bucket`;
    case 'truncate':
      return `${column}_trunc`;
    case 'void':
      return `${column}_null`;
    default:
      return `${column}_${t.kind}`;
  }
}

/** Make a new partition spec the default (new data is written with it; old files keep theirs). */
export function commitPartitionSpec(
  ctx: TableContext,
  fields: PartitionFieldInput[],
): Promise<TableMetadata> {
  return commitMetadata(ctx, (md) => {
    const schema = currentSchema(md);
    const specFields = fields.map((f) => {
      const col = findFieldByName(schema, f.column);
      if (!col)
        throw new InvalidInputError(
          `unknown partition source column "${f.column}"`,
          `columns: ${schema.fields.map((x) => x.name).join(', ')}`,
        );
      return {
        'source-id': col.id,
        transform: f.transform,
        name: f.name ?? defaultPartitionFieldName(f.column, f.transform),
      };
    });
    return {
      requirements: [
        { type: 'assert-default-spec-id', 'default-spec-id': md['default-spec-id'] },
        { type: 'assert-last-assigned-partition-id', 'last-assigned-partition-id': md['last-partition-id'] },
      ],
      updates: [
        { action: 'add-spec', spec: { fields: specFields } },
        { action: 'set-default-spec', 'spec-id': -1 },
      ],
    };
  });
}

/** Set and remove table properties. */
export function commitProperties(
  ctx: TableContext,
  updates: Record<string, string>,
  removals: string[] = [],
): Promise<TableMetadata> {
  return commitMetadata(ctx, () => ({
    requirements: [],
    updates: [
      ...(Object.keys(updates).length > 0 ? [{ action: 'set-properties', updates } as TableUpdate] : []),
      ...(removals.length > 0 ? [{ action: 'remove-properties', removals } as TableUpdate] : []),
    ],
  }));
}

/** Create a tag on a snapshot (default: the current one). @throws ConflictError when the ref exists */
export function commitTag(ctx: TableContext, name: string, snapshotId?: bigint): Promise<TableMetadata> {
  return commitMetadata(ctx, (md) => {
    const id = snapshotId ?? md['current-snapshot-id'];
    if (id === null) throw new InvalidInputError(`cannot tag "${name}": the table has no snapshot yet`);
    if (!snapshotById(md, id)) throw new NotFoundError(`snapshot ${id} does not exist`);
    if (md.refs[name])
      throw new ConflictError(
        `ref "${name}" already exists (at snapshot ${md.refs[name]['snapshot-id']})`,
        'choose another tag name',
      );
    return {
      requirements: [{ type: 'assert-ref-snapshot-id', ref: name, 'snapshot-id': null }],
      updates: [{ action: 'set-snapshot-ref', 'ref-name': name, type: 'tag', 'snapshot-id': id }],
    };
  });
}

/** Make an earlier snapshot current again (the later ones stay in the history). @throws NotFoundError */
export function commitRollback(
  ctx: TableContext,
  snapshotId: bigint,
  o: { restoreSchema?: boolean } = {},
): Promise<TableMetadata> {
  return commitMetadata(ctx, (md) => {
    const snapshot = snapshotById(md, snapshotId);
    if (!snapshot)
      throw new NotFoundError(
        `snapshot ${snapshotId} does not exist`,
        'list snapshots with `sluice tables snapshots`',
      );
    const schemaId = snapshot['schema-id'];
    const restore = o.restoreSchema && schemaId !== undefined && schemaId !== md['current-schema-id'];
    return {
      requirements: [
        { type: 'assert-ref-snapshot-id', ref: MAIN_BRANCH, 'snapshot-id': md['current-snapshot-id'] },
        ...(restore
          ? [{ type: 'assert-current-schema-id' as const, 'current-schema-id': md['current-schema-id'] }]
          : []),
      ],
      updates: [
        { action: 'set-snapshot-ref', 'ref-name': MAIN_BRANCH, type: 'branch', 'snapshot-id': snapshotId },
        ...(restore ? [{ action: 'set-current-schema' as const, 'schema-id': schemaId }] : []),
      ],
    };
  });
}
