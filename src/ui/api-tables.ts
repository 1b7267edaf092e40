/** Tables as the Iceberg REST catalog at /iceberg describes them (the UI reads the same API as Spark). */

const BASE = '/iceberg/v1';
/** Namespace levels are joined with the unit separator in paths, as the REST spec says. */
const SEP = '\u001f';

export interface TableRef {
  namespace: string[];
  name: string;
}

export interface IcebergField {
  id: number;
  name: string;
  required: boolean;
  type: unknown;
  doc?: string;
}

export interface IcebergSnapshot {
  'snapshot-id': string;
  'parent-snapshot-id'?: string;
  'timestamp-ms': number;
  summary: Record<string, string>;
}

export interface IcebergMetadata {
  'table-uuid': string;
  location: string;
  'last-updated-ms': number;
  'current-schema-id': number;
  schemas: { 'schema-id': number; fields: IcebergField[] }[];
  'default-spec-id': number;
  'partition-specs': {
    'spec-id': number;
    fields: { name: string; transform: string; 'source-id': number }[];
  }[];
  'current-snapshot-id'?: string | null;
  snapshots?: IcebergSnapshot[];
  refs?: Record<string, { 'snapshot-id': string; type: string }>;
  properties?: Record<string, string>;
}

async function getJson<T>(path: string, signal: AbortSignal): Promise<T> {
  const res = await fetch(`${BASE}${path}`, { signal, headers: { accept: 'application/json' } });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: { message?: string } };
      if (body.error?.message) message = body.error.message;
    } catch {
      // keep the status line
    }
    throw new Error(message);
  }
  return JSON.parse(quoteSnapshotIds(await res.text())) as T;
}

/**
 * Snapshot ids are 64-bit: as JSON numbers they would lose digits in JavaScript, so they
 * are turned into strings before parsing.
 */
export function quoteSnapshotIds(json: string): string {
  return json.replace(/("(?:snapshot-id|parent-snapshot-id|current-snapshot-id)"\s*:\s*)(-?\d+)/g, '$1"$2"');
}

function nsPath(ns: string[]): string {
  return encodeURIComponent(ns.join(SEP));
}

/** Every table of every namespace (namespaces walked breadth-first). */
export async function fetchAllTables(signal: AbortSignal): Promise<TableRef[]> {
  const tables: TableRef[] = [];
  const queue: string[][] = [];
  const top = await getJson<{ namespaces: string[][] }>('/namespaces', signal);
  queue.push(...top.namespaces);
  while (queue.length > 0) {
    const ns = queue.shift() as string[];
    const [children, listed] = await Promise.all([
      getJson<{ namespaces: string[][] }>(`/namespaces?parent=${nsPath(ns)}`, signal),
      getJson<{ identifiers: TableRef[] }>(`/namespaces/${nsPath(ns)}/tables`, signal),
    ]);
    queue.push(...children.namespaces.filter((c) => c.length > ns.length));
    tables.push(...listed.identifiers);
  }
  return tables.sort((a, b) => qualifiedName(a).localeCompare(qualifiedName(b)));
}

/** Whether the catalog has the table (asked of its namespace's list: no 404 for a missing one). */
export async function tableExists(ref: TableRef, signal: AbortSignal): Promise<boolean> {
  const listed = await getJson<{ identifiers: TableRef[] }>(
    `/namespaces/${nsPath(ref.namespace)}/tables`,
    signal,
  );
  return listed.identifiers.some((t) => t.name === ref.name);
}

/** The table's current metadata. */
export async function fetchTable(ref: TableRef, signal: AbortSignal): Promise<IcebergMetadata> {
  const body = await getJson<{ metadata: IcebergMetadata }>(
    `/namespaces/${nsPath(ref.namespace)}/tables/${encodeURIComponent(ref.name)}`,
    signal,
  );
  return body.metadata;
}

/** Make `snapshotId` the table's current snapshot (`POST /api/v1/tables/{ns}/{t}/rollback`). */
export async function rollbackTable(
  ref: TableRef,
  snapshotId: string,
): Promise<{ from: string | null; to: string; changed: boolean }> {
  const res = await fetch(
    `/api/v1/tables/${encodeURIComponent(ref.namespace.join('.'))}/${encodeURIComponent(ref.name)}/rollback`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ snapshotId }),
    },
  );
  const body = (await res.json().catch(() => ({}))) as {
    error?: { message?: string };
    from: string | null;
    to: string;
    changed: boolean;
  };
  if (!res.ok) throw new Error(body.error?.message ?? `${res.status} ${res.statusText}`);
  return body;
}

/** A SQL identifier, quoted when it is not a plain lower-case name. */
export function sqlIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/** The SQL name of a table, at a snapshot when one is given (`ns."t@123"`, the engine's time travel). */
export function sqlTableName(ref: TableRef, snapshotId?: string): string {
  return [...ref.namespace.map(sqlIdent), sqlIdent(snapshotId ? `${ref.name}@${snapshotId}` : ref.name)].join(
    '.',
  );
}

/** `ns.sub.table`, the name SQL uses. */
export function qualifiedName(ref: TableRef): string {
  return [...ref.namespace, ref.name].join('.');
}

/** The ref a `ns.sub.table` name stands for. */
export function parseQualifiedName(name: string): TableRef {
  const parts = name.split('.');
  return { namespace: parts.slice(0, -1), name: parts[parts.length - 1] ?? '' };
}

/** An Iceberg type as text: `long`, `list<string>`, `struct<a: int>`... */
export function typeText(type: unknown): string {
  if (typeof type === 'string') return type;
  const t = type as {
    type: string;
    element?: unknown;
    key?: unknown;
    value?: unknown;
    fields?: IcebergField[];
  };
  if (t.type === 'list') return `list<${typeText(t.element)}>`;
  if (t.type === 'map') return `map<${typeText(t.key)}, ${typeText(t.value)}>`;
  if (t.type === 'struct')
    return `struct<${(t.fields ?? []).map((f) => `${f.name}: ${typeText(f.type)}`).join(', ')}>`;
  return JSON.stringify(type);
}
