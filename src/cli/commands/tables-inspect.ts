import { formatIdentifier } from '../../catalog/index.js';
import {
  ancestorsOf,
  currentSchema,
  currentSnapshot,
  defaultSortOrder,
  defaultSpec,
  findFieldById,
  type LoadedTable,
  type TableMetadata,
} from '../../table/index.js';
import { formatTable } from '../output.js';
import { emit, isoTime, loadNamed, schemaColumns, type TablesContext } from './tables-common.js';

function specText(md: TableMetadata): string[] {
  const schema = currentSchema(md);
  return defaultSpec(md).fields.map((f) => {
    const source = findFieldById(schema, f['source-id'])?.name ?? `#${f['source-id']}`;
    return `${f.name}: ${f.transform}(${source})`;
  });
}

function sortText(md: TableMetadata): string[] {
  const schema = currentSchema(md);
  return defaultSortOrder(md).fields.map((f) => {
    const source = findFieldById(schema, f['source-id'])?.name ?? `#${f['source-id']}`;
    return `${f.transform}(${source}) ${f.direction} ${f['null-order']}`;
  });
}

/** `sluice tables show TABLE`. */
export async function show(t: TablesContext, name: string): Promise<void> {
  const loaded = await loadNamed(t.catalog, name);
  const md = loaded.metadata;
  const snap = currentSnapshot(md);
  const schema = currentSchema(md);
  emit(t.out, {
    table: formatIdentifier(loaded.identifier),
    location: md.location,
    metadataLocation: loaded.metadataLocation,
    formatVersion: md['format-version'],
    uuid: md['table-uuid'],
    lastUpdatedMs: md['last-updated-ms'],
    currentSnapshot: snap
      ? {
          snapshotId: snap['snapshot-id'],
          timestampMs: snap['timestamp-ms'],
          operation: snap.summary.operation,
          summary: snap.summary,
        }
      : null,
    snapshotCount: md.snapshots.length,
    schema: {
      schemaId: schema['schema-id'],
      identifierFieldIds: schema['identifier-field-ids'] ?? [],
      columns: schemaColumns(schema),
    },
    partitionSpec: defaultSpec(md),
    sortOrder: defaultSortOrder(md),
    properties: md.properties,
  });
  const out = t.out;
  out.line(
    formatTable([
      ['table', formatIdentifier(loaded.identifier)],
      ['location', md.location],
      ['metadata', loaded.metadataLocation],
      ['format version', String(md['format-version'])],
      ['uuid', md['table-uuid']],
      ['last updated', isoTime(md['last-updated-ms'])],
      [
        'current snapshot',
        snap
          ? `${snap['snapshot-id']} (${snap.summary.operation}, ${isoTime(snap['timestamp-ms'])})`
          : 'none (empty table)',
      ],
      ['snapshots', String(md.snapshots.length)],
    ]),
  );
  out.line('');
  out.line(`schema ${schema['schema-id']}`);
  out.line(indent(columnsTable(loaded)));
  const spec = specText(md);
  out.line('');
  out.line(`partition spec ${md['default-spec-id']}: ${spec.length ? '' : 'unpartitioned'}`);
  for (const line of spec) out.line(`  ${line}`);
  const sort = sortText(md);
  out.line(`sort order ${md['default-sort-order-id']}: ${sort.length ? sort.join(', ') : 'unsorted'}`);
  const props = Object.entries(md.properties).sort(([a], [b]) => (a < b ? -1 : 1));
  out.line('');
  out.line(`properties: ${props.length ? '' : 'none'}`);
  for (const [k, v] of props) out.line(`  ${k} = ${v}`);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

function columnsTable(loaded: LoadedTable): string {
  const schema = currentSchema(loaded.metadata);
  const ids = new Set(schema['identifier-field-ids'] ?? []);
  return formatTable(
    schemaColumns(schema).map((c) => [
      String(c.id),
      c.name,
      c.type,
      c.required ? 'required' : 'optional',
      [ids.has(c.id) ? '(identifier)' : '', c.doc ?? ''].filter(Boolean).join(' '),
    ]),
    { header: ['id', 'name', 'type', 'nullability', 'notes'] },
  );
}

/** `sluice tables schema TABLE`. */
export async function schema(t: TablesContext, name: string): Promise<void> {
  const loaded = await loadNamed(t.catalog, name);
  const s = currentSchema(loaded.metadata);
  emit(t.out, {
    table: formatIdentifier(loaded.identifier),
    schemaId: s['schema-id'],
    identifierFieldIds: s['identifier-field-ids'] ?? [],
    columns: schemaColumns(s),
  });
  t.out.line(columnsTable(loaded));
}

/** `sluice tables snapshots TABLE`. */
export async function snapshots(t: TablesContext, name: string): Promise<void> {
  const loaded = await loadNamed(t.catalog, name);
  const md = loaded.metadata;
  const current = md['current-snapshot-id'];
  const rows = [...md.snapshots]
    .sort((a, b) => a['sequence-number'] - b['sequence-number'] || a['timestamp-ms'] - b['timestamp-ms'])
    .map((s) => ({
      snapshotId: s['snapshot-id'],
      parentId: s['parent-snapshot-id'] ?? null,
      sequenceNumber: s['sequence-number'],
      timestampMs: s['timestamp-ms'],
      operation: s.summary.operation,
      current: s['snapshot-id'] === current,
      summary: s.summary,
      manifestList: s['manifest-list'],
    }));
  emit(t.out, { table: formatIdentifier(loaded.identifier), snapshots: rows });
  if (rows.length === 0) return t.out.line('no snapshots (empty table)');
  t.out.line(
    formatTable(
      rows.map((r) => [
        r.current ? '*' : '',
        String(r.snapshotId),
        r.parentId === null ? '-' : String(r.parentId),
        String(r.sequenceNumber),
        isoTime(r.timestampMs),
        r.operation,
        r.summary['added-records'] ?? '',
        r.summary['total-records'] ?? '',
      ]),
      {
        header: [
          '',
          'snapshot id',
          'parent id',
          'seq',
          'committed at',
          'operation',
          'added rows',
          'total rows',
        ],
      },
    ),
  );
}

/** `sluice tables history TABLE`: the snapshot log. */
export async function history(t: TablesContext, name: string): Promise<void> {
  const loaded = await loadNamed(t.catalog, name);
  const md = loaded.metadata;
  const current = md['current-snapshot-id'];
  const lineage = new Set(current === null ? [] : ancestorsOf(md, current).map((s) => s['snapshot-id']));
  const byId = new Map(md.snapshots.map((s) => [s['snapshot-id'], s]));
  const rows = md['snapshot-log'].map((e, i, all) => ({
    madeCurrentAtMs: e['timestamp-ms'],
    snapshotId: e['snapshot-id'],
    parentId: byId.get(e['snapshot-id'])?.['parent-snapshot-id'] ?? null,
    isCurrentAncestor: lineage.has(e['snapshot-id']),
    current: i === all.length - 1 && e['snapshot-id'] === current,
  }));
  emit(t.out, { table: formatIdentifier(loaded.identifier), currentSnapshotId: current, history: rows });
  if (rows.length === 0) return t.out.line('no history (no snapshot was ever current)');
  t.out.line(
    formatTable(
      rows.map((r) => [
        r.current ? '*' : '',
        isoTime(r.madeCurrentAtMs),
        String(r.snapshotId),
        r.parentId === null ? '-' : String(r.parentId),
        r.isCurrentAncestor ? 'yes' : 'no',
      ]),
      { header: ['', 'made current at', 'snapshot id', 'parent id', 'ancestor of current'] },
    ),
  );
}
