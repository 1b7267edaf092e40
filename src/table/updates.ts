/**
 * The REST catalog's TableUpdate actions applied to table metadata. Semantics follow the
 * Java reference implementation's metadata builder.
 */
import { randomUUID } from 'node:crypto';
import { InvalidInputError } from '../util/index.js';
import { stringifyJson } from './json.js';
import {
  checkPartitionSpec,
  checkSortOrder,
  MAIN_BRANCH,
  PARTITION_DATA_ID_START,
  type UnboundPartitionField,
} from './metadata.js';
import { highestFieldId, schemasEquivalent, validateSchema } from './schema.js';
import type {
  PartitionSpec,
  PartitionStatisticsFile,
  Schema,
  Snapshot,
  SnapshotRef,
  SortOrder,
  StatisticsFile,
  TableMetadata,
} from './types.js';

/** One metadata change of a REST commit (`action` names from the REST OpenAPI). */
export type TableUpdate =
  | { action: 'assign-uuid'; uuid: string }
  | { action: 'upgrade-format-version'; 'format-version': number }
  | { action: 'add-schema'; schema: Schema; 'last-column-id'?: number }
  | { action: 'set-current-schema'; 'schema-id': number }
  | { action: 'add-spec'; spec: { 'spec-id'?: number; fields: UnboundPartitionField[] } }
  | { action: 'set-default-spec'; 'spec-id': number }
  | { action: 'add-sort-order'; 'sort-order': SortOrder }
  | { action: 'set-default-sort-order'; 'sort-order-id': number }
  | { action: 'add-snapshot'; snapshot: Snapshot }
  | ({ action: 'set-snapshot-ref'; 'ref-name': string } & SnapshotRef)
  | { action: 'remove-snapshots'; 'snapshot-ids': bigint[] }
  | { action: 'remove-snapshot-ref'; 'ref-name': string }
  | { action: 'set-location'; location: string }
  | { action: 'set-properties'; updates: Record<string, string> }
  | { action: 'remove-properties'; removals: string[] }
  | { action: 'set-statistics'; 'snapshot-id'?: bigint; statistics: StatisticsFile }
  | { action: 'remove-statistics'; 'snapshot-id': bigint }
  | { action: 'set-partition-statistics'; 'partition-statistics': PartitionStatisticsFile }
  | { action: 'remove-partition-statistics'; 'snapshot-id': bigint }
  | { action: 'remove-partition-specs'; 'spec-ids': number[] }
  | { action: 'remove-schemas'; 'schema-ids': number[] };

/** A precondition of a REST commit. `snapshot-id: null` asserts that the ref does not exist. */
export type TableRequirement =
  | { type: 'assert-create' }
  | { type: 'assert-table-uuid'; uuid: string }
  | { type: 'assert-ref-snapshot-id'; ref: string; 'snapshot-id': bigint | null }
  | { type: 'assert-last-assigned-field-id'; 'last-assigned-field-id': number }
  | { type: 'assert-current-schema-id'; 'current-schema-id': number }
  | { type: 'assert-last-assigned-partition-id'; 'last-assigned-partition-id': number }
  | { type: 'assert-default-spec-id'; 'default-spec-id': number }
  | { type: 'assert-default-sort-order-id'; 'default-sort-order-id': number };

const same = (a: unknown, b: unknown) => stringifyJson(a) === stringifyJson(b);
const nextId = (ids: number[], start = 0) => ids.reduce((m, id) => Math.max(m, id + 1), start);

/** The id an `add-schema` of this schema gets: an equivalent existing schema's, else the next free one. */
export function schemaIdFor(md: TableMetadata, schema: Schema): number {
  const existing = md.schemas.find((s) => schemasEquivalent(s, schema));
  return existing ? existing['schema-id'] : nextId(md.schemas.map((s) => s['schema-id']));
}

function emptyMetadata(now: number): TableMetadata {
  return {
    'format-version': 2,
    'table-uuid': '',
    location: '',
    'last-sequence-number': 0,
    'last-updated-ms': now,
    'last-column-id': 0,
    schemas: [],
    'current-schema-id': -1,
    'partition-specs': [],
    'default-spec-id': -1,
    'last-partition-id': PARTITION_DATA_ID_START - 1,
    properties: {},
    'current-snapshot-id': null,
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
    'sort-orders': [],
    'default-sort-order-id': -1,
    refs: {},
    statistics: [],
    'partition-statistics': [],
  };
}

class Builder {
  md: TableMetadata;
  updatedMs: number | undefined;
  lastSchemaId: number | undefined;
  lastSpecId: number | undefined;
  lastOrderId: number | undefined;

  constructor(
    base: TableMetadata,
    readonly now: number,
  ) {
    this.md = structuredClone(base);
  }

  schema(): Schema {
    const s = this.md.schemas.find((x) => x['schema-id'] === this.md['current-schema-id']);
    if (!s)
      throw new InvalidInputError('the table has no current schema', 'add a schema and set it current first');
    return s;
  }

  addSchema(schema: Schema, lastColumnId?: number): void {
    validateSchema(schema);
    const md = this.md;
    md['last-column-id'] = Math.max(md['last-column-id'], lastColumnId ?? 0, highestFieldId(schema));
    const id = schemaIdFor(md, schema);
    if (!md.schemas.some((s) => s['schema-id'] === id)) md.schemas.push({ ...schema, 'schema-id': id });
    this.lastSchemaId = id;
  }

  resolve(id: number, last: number | undefined, what: string, ids: number[]): number {
    const resolved = id === -1 ? last : id;
    if (resolved === undefined)
      throw new InvalidInputError(`cannot set the last added ${what}: no ${what} was added in this commit`);
    if (!ids.includes(resolved)) throw new InvalidInputError(`${what} ${resolved} does not exist`);
    return resolved;
  }

  addSpec(input: { fields: UnboundPartitionField[] }): void {
    const md = this.md;
    const known = md['partition-specs'].flatMap((s) => s.fields);
    const fields = input.fields.map((f) => {
      const reuse = known.find((k) => k['source-id'] === f['source-id'] && k.transform === f.transform);
      const id = f['field-id'] ?? reuse?.['field-id'] ?? ++md['last-partition-id'];
      md['last-partition-id'] = Math.max(md['last-partition-id'], id);
      return { 'source-id': f['source-id'], 'field-id': id, name: f.name, transform: f.transform };
    });
    const existing = md['partition-specs'].find((s) => same(s.fields, fields));
    const id = existing ? existing['spec-id'] : nextId(md['partition-specs'].map((s) => s['spec-id']));
    const spec: PartitionSpec = { 'spec-id': id, fields };
    checkPartitionSpec(spec, this.schema());
    if (!existing) md['partition-specs'].push(spec);
    this.lastSpecId = id;
  }

  addSortOrder(order: SortOrder): void {
    const md = this.md;
    checkSortOrder(order, this.schema());
    const existing = md['sort-orders'].find((o) => same(o.fields, order.fields));
    const id = existing
      ? existing['order-id']
      : order.fields.length === 0
        ? 0
        : nextId(
            md['sort-orders'].map((o) => o['order-id']),
            1,
          );
    if (!existing) md['sort-orders'].push({ 'order-id': id, fields: order.fields });
    this.lastOrderId = id;
  }

  addSnapshot(snap: Snapshot): void {
    const md = this.md;
    const id = snap['snapshot-id'];
    if (md.snapshots.some((s) => s['snapshot-id'] === id))
      throw new InvalidInputError(`snapshot ${id} already exists`);
    if (snap['sequence-number'] <= md['last-sequence-number'] && snap['parent-snapshot-id'] !== undefined) {
      throw new InvalidInputError(
        `cannot add snapshot ${id} with sequence number ${snap['sequence-number']}: not above the last sequence number ${md['last-sequence-number']}`,
      );
    }
    md.snapshots.push(snap);
    md['last-sequence-number'] = Math.max(md['last-sequence-number'], snap['sequence-number']);
    this.updatedMs = snap['timestamp-ms'];
  }

  setRef(name: string, ref: SnapshotRef): void {
    const md = this.md;
    if (!md.snapshots.some((s) => s['snapshot-id'] === ref['snapshot-id'])) {
      throw new InvalidInputError(`cannot set ref "${name}" to unknown snapshot ${ref['snapshot-id']}`);
    }
    if (name === MAIN_BRANCH && ref.type !== 'branch')
      throw new InvalidInputError('ref "main" must be a branch');
    if (md.refs[name] && same(md.refs[name], ref)) return;
    md.refs[name] = ref;
    if (name === MAIN_BRANCH) {
      md['current-snapshot-id'] = ref['snapshot-id'];
      this.updatedMs ??= this.now;
      md['snapshot-log'].push({ 'timestamp-ms': this.updatedMs, 'snapshot-id': ref['snapshot-id'] });
    }
  }

  removeRef(name: string): void {
    delete this.md.refs[name];
    if (name === MAIN_BRANCH) this.md['current-snapshot-id'] = null;
  }

  removeSnapshots(ids: bigint[]): void {
    const md = this.md;
    const gone = new Set(ids);
    md.snapshots = md.snapshots.filter((s) => !gone.has(s['snapshot-id']));
    for (const [name, ref] of Object.entries(md.refs)) if (gone.has(ref['snapshot-id'])) this.removeRef(name);
    md.statistics = md.statistics.filter((s) => !gone.has(s['snapshot-id']));
    md['partition-statistics'] = md['partition-statistics'].filter((s) => !gone.has(s['snapshot-id']));
  }

  apply(u: TableUpdate): void {
    const md = this.md;
    switch (u.action) {
      case 'assign-uuid':
        if (md['table-uuid'] && md['table-uuid'] !== u.uuid) {
          throw new InvalidInputError(`cannot reassign the table uuid ${md['table-uuid']} to ${u.uuid}`);
        }
        md['table-uuid'] = u.uuid;
        return;
      case 'upgrade-format-version':
        if (u['format-version'] > 2) {
          throw new InvalidInputError(
            `cannot upgrade to format version ${u['format-version']}: Sluice supports format version 2`,
          );
        }
        if (u['format-version'] < 2)
          throw new InvalidInputError(`cannot downgrade format version 2 to ${u['format-version']}`);
        return;
      case 'add-schema':
        this.addSchema(u.schema, u['last-column-id']);
        return;
      case 'set-current-schema':
        md['current-schema-id'] = this.resolve(
          u['schema-id'],
          this.lastSchemaId,
          'schema',
          md.schemas.map((s) => s['schema-id']),
        );
        return;
      case 'add-spec':
        this.addSpec(u.spec);
        return;
      case 'set-default-spec':
        md['default-spec-id'] = this.resolve(
          u['spec-id'],
          this.lastSpecId,
          'partition spec',
          md['partition-specs'].map((s) => s['spec-id']),
        );
        return;
      case 'add-sort-order':
        this.addSortOrder(u['sort-order']);
        return;
      case 'set-default-sort-order':
        md['default-sort-order-id'] = this.resolve(
          u['sort-order-id'],
          this.lastOrderId,
          'sort order',
          md['sort-orders'].map((o) => o['order-id']),
        );
        return;
      case 'add-snapshot':
        this.addSnapshot(u.snapshot);
        return;
      case 'set-snapshot-ref': {
        const { action: _a, 'ref-name': name, ...ref } = u;
        this.setRef(name, ref);
        return;
      }
      case 'remove-snapshots':
        this.removeSnapshots(u['snapshot-ids']);
        return;
      case 'remove-snapshot-ref':
        this.removeRef(u['ref-name']);
        return;
      case 'set-location':
        md.location = u.location.replace(/\/+$/, '');
        return;
      case 'set-properties':
        Object.assign(md.properties, u.updates);
        return;
      case 'remove-properties':
        for (const k of u.removals) delete md.properties[k];
        return;
      case 'set-statistics': {
        const id = u.statistics['snapshot-id'];
        md.statistics = [...md.statistics.filter((s) => s['snapshot-id'] !== id), u.statistics];
        return;
      }
      case 'remove-statistics':
        md.statistics = md.statistics.filter((s) => s['snapshot-id'] !== u['snapshot-id']);
        return;
      case 'set-partition-statistics': {
        const id = u['partition-statistics']['snapshot-id'];
        md['partition-statistics'] = [
          ...md['partition-statistics'].filter((s) => s['snapshot-id'] !== id),
          u['partition-statistics'],
        ];
        return;
      }
      case 'remove-partition-statistics':
        md['partition-statistics'] = md['partition-statistics'].filter(
          (s) => s['snapshot-id'] !== u['snapshot-id'],
        );
        return;
      case 'remove-partition-specs':
        if (u['spec-ids'].includes(md['default-spec-id']))
          throw new InvalidInputError(`cannot remove the default partition spec ${md['default-spec-id']}`);
        md['partition-specs'] = md['partition-specs'].filter((s) => !u['spec-ids'].includes(s['spec-id']));
        return;
      case 'remove-schemas':
        if (u['schema-ids'].includes(md['current-schema-id']))
          throw new InvalidInputError(`cannot remove the current schema ${md['current-schema-id']}`);
        md.schemas = md.schemas.filter((s) => !u['schema-ids'].includes(s['schema-id']));
        return;
      default:
        throw new InvalidInputError(`unsupported table update action "${(u as { action: string }).action}"`);
    }
  }

  finish(): TableMetadata {
    const md = this.md;
    if (md.schemas.length === 0 || md['current-schema-id'] < 0)
      throw new InvalidInputError('a table needs a current schema');
    if (md['partition-specs'].length === 0) this.addSpec({ fields: [] });
    if (md['default-spec-id'] < 0) md['default-spec-id'] = this.lastSpecId ?? 0;
    if (md['sort-orders'].length === 0) this.addSortOrder({ 'order-id': 0, fields: [] });
    if (md['default-sort-order-id'] < 0) md['default-sort-order-id'] = this.lastOrderId ?? 0;
    if (!md['table-uuid']) md['table-uuid'] = randomUUID();
    if (!md.location) throw new InvalidInputError('a table needs a location');
    const live = new Set(md.snapshots.map((s) => s['snapshot-id']));
    const log: TableMetadata['snapshot-log'] = [];
    for (const entry of md['snapshot-log']) {
      if (live.has(entry['snapshot-id'])) log.push(entry);
      else log.length = 0;
    }
    md['snapshot-log'] = log;
    md['last-updated-ms'] = this.updatedMs ?? this.now;
    return md;
  }
}

/**
 * Apply REST TableUpdates to metadata (or to an empty table for create transactions),
 * maintaining last-updated-ms, the snapshot log (when main moves), current-snapshot-id =
 * refs.main, last-sequence-number, last-column-id and last-partition-id. Schema, spec and
 * sort order ids are assigned here (an equivalent existing one is reused); `-1` in the
 * set-current/default actions means the last one added in this commit.
 * @throws InvalidInputError for an invalid or unsupported update.
 */
export function applyUpdates(
  metadata: TableMetadata | undefined,
  updates: readonly TableUpdate[],
  opts: { now?: number } = {},
): TableMetadata {
  const now = opts.now ?? Date.now();
  if (metadata && updates.length === 0) return metadata;
  const b = new Builder(metadata ?? emptyMetadata(now), now);
  for (const u of updates) b.apply(u);
  return b.finish();
}
