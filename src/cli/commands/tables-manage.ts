import { formatIdentifier, rollbackTable, validateNamespace } from '../../catalog/index.js';
import { InvalidInputError } from '../../util/index.js';
import { formatTable } from '../output.js';
import {
  allNamespaces,
  allTables,
  emit,
  loadNamed,
  parseSnapshotId,
  type TablesContext,
} from './tables-common.js';

function parseNamespace(text: string): string[] {
  return validateNamespace(text.split('.'));
}

/** `sluice tables list [NAMESPACE]`. */
export async function list(t: TablesContext, namespace: string | undefined): Promise<void> {
  const ns = namespace ? parseNamespace(namespace) : undefined;
  const tables = ns ? await t.catalog.listTables(ns) : await allTables(t.catalog);
  const views = ns ? await t.catalog.listViews(ns) : await allTables(t.catalog, [], 'views');
  const rows = [
    ...tables.map((id) => ({ id, kind: 'table' as const })),
    ...views.map((id) => ({ id, kind: 'view' as const })),
  ].sort((a, b) => formatIdentifier(a.id).localeCompare(formatIdentifier(b.id)));
  emit(t.out, {
    namespace: ns ?? null,
    tables: rows.map(({ id, kind }) => ({
      namespace: id.namespace,
      name: id.name,
      table: formatIdentifier(id),
      kind,
    })),
  });
  if (rows.length === 0) return t.out.line(namespace ? `no tables in namespace "${namespace}"` : 'no tables');
  for (const { id, kind } of rows)
    t.out.line(kind === 'view' ? `${formatIdentifier(id)} (view)` : formatIdentifier(id));
}

/** `sluice tables rollback TABLE --to ID [--force]`. */
export async function rollback(
  t: TablesContext,
  name: string,
  opts: { to: string; force?: boolean },
): Promise<void> {
  const loaded = await loadNamed(t.catalog, name);
  const r = await rollbackTable(t.catalog, loaded.identifier, parseSnapshotId(opts.to, '--to'), {
    force: opts.force,
  });
  emit(t.out, { table: r.table, from: r.from, to: r.to, changed: r.changed });
  if (!r.changed) return t.out.line(`snapshot ${r.to} is already current`);
  t.out.line(`${r.table}: current snapshot ${r.from ?? 'none'} -> ${r.to}`);
}

/** `sluice tables drop TABLE [--purge]`. */
export async function drop(t: TablesContext, name: string, opts: { purge?: boolean }): Promise<void> {
  const loaded = await loadNamed(t.catalog, name);
  const table = formatIdentifier(loaded.identifier);
  await t.catalog.dropTable(loaded.identifier, { purge: Boolean(opts.purge) });
  emit(t.out, { dropped: table, purged: Boolean(opts.purge), location: loaded.metadata.location });
  t.out.line(
    opts.purge
      ? `dropped ${table} and deleted its files under ${loaded.metadata.location}`
      : `dropped ${table} (files kept under ${loaded.metadata.location}; register ${loaded.metadataLocation} to restore it)`,
  );
}

/** `sluice tables namespaces list|create|drop`. */
export async function namespaces(
  t: TablesContext,
  sub: string,
  arg: string | undefined,
  opts: { property?: string[] },
): Promise<void> {
  const { catalog, out } = t;
  if (sub === 'list') {
    const parent = arg ? parseNamespace(arg) : [];
    const all = await allNamespaces(catalog, parent);
    const rows = [];
    for (const ns of all)
      rows.push({ namespace: ns, name: ns.join('.'), tables: (await catalog.listTables(ns)).length });
    emit(out, { namespaces: rows });
    if (rows.length === 0) return out.line('no namespaces');
    return out.line(
      formatTable(
        rows.map((r) => [r.name, String(r.tables)]),
        { header: ['namespace', 'tables'] },
      ),
    );
  }
  const ns = parseNamespace(arg ?? '');
  if (sub === 'create') {
    const properties: Record<string, string> = {};
    for (const p of opts.property ?? []) {
      const eq = p.indexOf('=');
      if (eq <= 0) throw new InvalidInputError(`--property ${JSON.stringify(p)} must be key=value`);
      properties[p.slice(0, eq)] = p.slice(eq + 1);
    }
    await catalog.createNamespace(ns, properties);
    emit(out, { created: ns, name: ns.join('.'), properties });
    return out.line(`created namespace ${ns.join('.')}`);
  }
  await catalog.dropNamespace(ns);
  emit(out, { dropped: ns, name: ns.join('.') });
  out.line(`dropped namespace ${ns.join('.')}`);
}
