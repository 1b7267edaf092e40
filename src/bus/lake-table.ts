/**
 * The Iceberg tables the lake sink writes: their schemas, creation, and the cursors a
 * commit recorded in its snapshot summary.
 */
import type { Catalog, LoadedTable, Schema, TableIdentifier } from '../table/index.js';
import { InvalidInputError } from '../util/index.js';

/** Snapshot summary property holding the log cursors a commit covers (`{"0": 41, ...}`). */
export const CURSORS_PROPERTY = 'sluice.bus.cursors';
/** Snapshot summary property naming the event type a commit came from. */
export const EVENT_TYPE_PROPERTY = 'sluice.bus.event-type';

const str = (id: number, name: string, required = false) => ({ id, name, type: 'string' as const, required });

/** One row per event, partitioned by day of occurred_at. */
const APPEND_SCHEMA: Schema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    str(1, 'eid', true),
    { id: 2, name: 'occurred_at', type: 'timestamptz', required: false },
    { id: 3, name: 'received_at', type: 'timestamptz', required: false },
    str(4, 'event_type'),
    { id: 5, name: 'partition', type: 'int', required: false },
    { id: 6, name: 'offset', type: 'long', required: false },
    str(7, 'event'),
  ],
};

/** One row per key of `data` (data change events applied as upserts and deletes). */
const UPSERT_SCHEMA: Schema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    str(1, 'key', true),
    str(2, 'data'),
    str(3, 'data_type'),
    str(4, 'data_op'),
    str(5, 'eid'),
    { id: 6, name: 'occurred_at', type: 'timestamptz', required: false },
    { id: 7, name: 'partition', type: 'int', required: false },
    { id: 8, name: 'offset', type: 'long', required: false },
  ],
};

/** `events.<event_type>` with characters a table name cannot hold replaced by `_`. */
export function defaultSinkTable(eventType: string): TableIdentifier {
  return { namespace: ['events'], name: eventType.replace(/[^A-Za-z0-9_]/g, '_') };
}

/** Parse `ns.name` (the last dot separates the name). @throws InvalidInputError */
export function parseTableName(name: string): TableIdentifier {
  const parts = name.split('.');
  const last = parts.pop();
  if (!last || parts.length === 0 || parts.some((p) => !p)) {
    throw new InvalidInputError(`table "${name}" must be written NAMESPACE.NAME`);
  }
  return { namespace: parts, name: last };
}

/** Load the sink's table, creating it (and its namespace) on first use. */
export async function ensureSinkTable(
  catalog: Catalog,
  id: TableIdentifier,
  mode: 'append' | 'upsert',
): Promise<LoadedTable> {
  if (await catalog.tableExists(id)) return catalog.loadTable(id);
  if (!(await catalog.namespaceExists(id.namespace))) {
    await catalog.createNamespace(id.namespace).catch(async (err: unknown) => {
      if (!(await catalog.namespaceExists(id.namespace))) throw err;
    });
  }
  const upsert = mode === 'upsert';
  return catalog
    .createTable(id, {
      schema: upsert ? UPSERT_SCHEMA : APPEND_SCHEMA,
      partitionSpec: upsert
        ? { 'spec-id': 0, fields: [] }
        : {
            'spec-id': 0,
            fields: [{ 'source-id': 2, 'field-id': 1000, name: 'occurred_at_day', transform: 'day' }],
          },
      properties: { 'sluice.bus.sink-mode': mode },
    })
    .catch(async (err: unknown) => {
      if (await catalog.tableExists(id)) return catalog.loadTable(id);
      throw err;
    });
}

/** The cursors (last log offset per partition) of the newest snapshot that recorded them. */
export function committedCursors(table: LoadedTable, eventType: string): Map<number, bigint> {
  const byId = new Map(table.metadata.snapshots.map((s) => [s['snapshot-id'], s]));
  let id = table.metadata['current-snapshot-id'] ?? undefined;
  while (id !== undefined && id !== null) {
    const snap = byId.get(id);
    if (!snap) break;
    const summary = snap.summary as Record<string, string | undefined>;
    if (summary[EVENT_TYPE_PROPERTY] === eventType && summary[CURSORS_PROPERTY]) {
      const parsed = JSON.parse(summary[CURSORS_PROPERTY]) as Record<string, string>;
      return new Map(Object.entries(parsed).map(([p, o]) => [Number(p), BigInt(o)]));
    }
    id = snap['parent-snapshot-id'] ?? undefined;
  }
  return new Map();
}
