import { distance } from 'fastest-levenshtein';
import {
  formatIdentifier,
  type JdbcCatalog,
  NoSuchTableError,
  openCatalog,
  parseIdentifier,
} from '../../catalog/index.js';
import { openRuntime, type Runtime } from '../../runtime/index.js';
import {
  type IcebergType,
  type LoadedTable,
  type Schema,
  stringifyJson,
  type TableIdentifier,
} from '../../table/index.js';
import { InvalidInputError } from '../../util/index.js';
import type { CommandContext } from '../context.js';
import type { Output } from '../output.js';

/** What a tables subcommand works with. */
export interface TablesContext extends CommandContext {
  runtime: Runtime;
  catalog: JdbcCatalog;
}

/** Open the project's backends and catalog for one command. */
export async function openTables(ctx: CommandContext): Promise<TablesContext> {
  const runtime = await openRuntime(ctx.project, ctx.log);
  return {
    ...ctx,
    runtime,
    catalog: openCatalog({ meta: runtime.meta, store: runtime.store, log: ctx.log }),
  };
}

/** Print the JSON result with 64-bit ids written exactly (no-op unless --json). */
export function emit(out: Output, value: unknown): void {
  if (out.json) process.stdout.write(`${stringifyJson(value, { indent: 2 })}\n`);
}

/** Every table (or view) of the catalog, walking nested namespaces. */
export async function allTables(
  catalog: JdbcCatalog,
  parent: string[] = [],
  kind: 'tables' | 'views' = 'tables',
): Promise<TableIdentifier[]> {
  const list = (ns: string[]) => (kind === 'views' ? catalog.listViews(ns) : catalog.listTables(ns));
  const out: TableIdentifier[] = parent.length ? await list(parent) : [];
  for (const ns of await catalog.listNamespaces(parent)) out.push(...(await allTables(catalog, ns, kind)));
  return out;
}

/** Every namespace below `parent` (all levels), depth first. */
export async function allNamespaces(catalog: JdbcCatalog, parent: string[] = []): Promise<string[][]> {
  const out: string[][] = [];
  for (const ns of await catalog.listNamespaces(parent)) out.push(ns, ...(await allNamespaces(catalog, ns)));
  return out;
}

/**
 * Load the table a user named (`a.b.table`).
 * @throws NoSuchTableError naming the table and the closest existing names.
 */
export async function loadNamed(catalog: JdbcCatalog, text: string): Promise<LoadedTable> {
  const id = parseIdentifier(text);
  if (await catalog.tableExists(id)) return catalog.loadTable(id);
  const names = (await allTables(catalog)).map(formatIdentifier);
  const wanted = formatIdentifier(id);
  const close = names
    .map((n) => ({ n, d: distance(n.toLowerCase(), wanted.toLowerCase()) }))
    .filter((x) => x.d <= Math.max(3, Math.floor(wanted.length / 3)))
    .sort((a, b) => a.d - b.d || (a.n < b.n ? -1 : 1))
    .slice(0, 3)
    .map((x) => `"${x.n}"`);
  const hint = close.length
    ? `did you mean ${close.join(', ')}?`
    : names.length
      ? `${names.length} table(s) exist; list them with \`sluice tables list\``
      : 'the catalog has no tables yet';
  throw new NoSuchTableError(`table "${wanted}" does not exist`, hint);
}

/** A snapshot id given on the command line. @throws InvalidInputError */
export function parseSnapshotId(text: string, flag: string): bigint {
  if (!/^-?\d+$/.test(text.trim()))
    throw new InvalidInputError(`${flag} must be a snapshot id (an integer), got "${text}"`);
  return BigInt(text.trim());
}

/** A type in the short form used for display: `list<long>`, `map<string, int>`, `struct<...>`. */
export function typeString(t: IcebergType): string {
  if (typeof t === 'string') return t;
  if (t.type === 'list') return `list<${typeString(t.element)}>`;
  if (t.type === 'map') return `map<${typeString(t.key)}, ${typeString(t.value)}>`;
  return 'struct';
}

/** One column of a schema, nested ones with dotted names. */
export interface ColumnRow {
  id: number;
  name: string;
  type: string;
  required: boolean;
  doc?: string;
}

/** The columns of a schema, nested fields after their parent. */
export function schemaColumns(schema: Schema): ColumnRow[] {
  const rows: ColumnRow[] = [];
  const walk = (type: IcebergType, prefix: string) => {
    if (typeof type === 'string') return;
    if (type.type === 'struct') {
      for (const f of type.fields) {
        const name = prefix + f.name;
        rows.push({ id: f.id, name, type: typeString(f.type), required: f.required, doc: f.doc });
        walk(f.type, `${name}.`);
      }
    } else if (type.type === 'list') {
      rows.push({
        id: type['element-id'],
        name: `${prefix}element`,
        type: typeString(type.element),
        required: type['element-required'],
      });
      walk(type.element, `${prefix}element.`);
    } else {
      rows.push({ id: type['key-id'], name: `${prefix}key`, type: typeString(type.key), required: true });
      walk(type.key, `${prefix}key.`);
      rows.push({
        id: type['value-id'],
        name: `${prefix}value`,
        type: typeString(type.value),
        required: type['value-required'],
      });
      walk(type.value, `${prefix}value.`);
    }
  };
  walk(schema, '');
  return rows;
}

/** A timestamp in ms as ISO-8601 text. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
