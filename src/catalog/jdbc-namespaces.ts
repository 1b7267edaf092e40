/** Namespace operations of the JDBC catalog (apache/iceberg JdbcCatalog semantics). */
import type { MetaStore, SqlRunner } from '../metastore/index.js';
import { ConflictError, InvalidInputError } from '../util/index.js';
import { AlreadyExistsError, NamespaceNotEmptyError, NoSuchNamespaceError } from './errors.js';
import {
  NAMESPACE_EXISTS_PROPERTY,
  namespaceExists,
  selectNamespaces,
  selectProperties,
  upsertProperties,
} from './jdbc-sql.js';
import { namespaceToString, validateNamespace } from './names.js';

const MAX_KEY = 255;
const MAX_VALUE = 1000;

function noSuchNamespace(ns: readonly string[]): NoSuchNamespaceError {
  return new NoSuchNamespaceError(
    `namespace "${namespaceToString(ns)}" does not exist`,
    'list namespaces with `sluice tables namespaces list`',
  );
}

function checkKeys(keys: Iterable<string>, what: string): void {
  for (const key of keys) {
    if (typeof key !== 'string' || key === '' || key.length > MAX_KEY)
      throw new InvalidInputError(`${what} key ${JSON.stringify(key)} must be 1 to ${MAX_KEY} characters`);
    if (key === NAMESPACE_EXISTS_PROPERTY) {
      throw new InvalidInputError(
        `namespace property "${NAMESPACE_EXISTS_PROPERTY}" is reserved`,
        'the JDBC catalog uses it to record that a namespace exists',
      );
    }
  }
}

function checkValues(props: Record<string, string>): void {
  for (const [key, value] of Object.entries(props)) {
    if (typeof value !== 'string' || value.length > MAX_VALUE)
      throw new InvalidInputError(
        `value of namespace property "${key}" must be a string of at most ${MAX_VALUE} characters`,
      );
  }
}

/** Fail with NoSuchNamespaceError unless `ns` exists. */
export async function requireNamespace(
  sql: SqlRunner,
  catalog: string,
  ns: readonly string[],
): Promise<void> {
  if (!(await namespaceExists(sql, catalog, ns))) throw noSuchNamespace(ns);
}

/** Namespaces directly below `parent` (top level when empty). */
export async function listNamespaces(
  meta: MetaStore,
  catalog: string,
  parent: readonly string[],
): Promise<string[][]> {
  if (parent.length) {
    validateNamespace(parent);
    await requireNamespace(meta, catalog, parent);
  }
  const depth = parent.length + 1;
  const out = new Map<string, string[]>();
  for (const ns of await selectNamespaces(meta, catalog, parent)) {
    if (ns.length < depth) continue;
    const child = ns.slice(0, depth);
    out.set(child.join('\u001f'), child);
  }
  return [...out.values()];
}

/** Create a namespace with its properties and the `exists` marker. */
export async function createNamespace(
  meta: MetaStore,
  catalog: string,
  ns: readonly string[],
  props: Record<string, string>,
): Promise<void> {
  validateNamespace(ns);
  checkKeys(Object.keys(props), 'namespace property');
  checkValues(props);
  const exists = () =>
    new AlreadyExistsError(
      `namespace "${namespaceToString(ns)}" already exists`,
      'choose another name or drop it first',
    );
  try {
    await meta.transaction(async (tx) => {
      if (await namespaceExists(tx, catalog, ns)) throw exists();
      for (const [key, value] of Object.entries({ ...props, [NAMESPACE_EXISTS_PROPERTY]: 'true' })) {
        await tx.execute(
          'INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value) VALUES (?, ?, ?, ?)',
          [catalog, namespaceToString(ns), key, value],
        );
      }
    });
  } catch (err) {
    if (err instanceof ConflictError && !(err instanceof AlreadyExistsError)) throw exists();
    throw err;
  }
}

/** The namespace's properties without the reserved `exists` marker. */
export async function loadProperties(
  meta: MetaStore,
  catalog: string,
  ns: readonly string[],
): Promise<Record<string, string>> {
  validateNamespace(ns);
  await requireNamespace(meta, catalog, ns);
  const props = await selectProperties(meta, catalog, ns);
  props.delete(NAMESPACE_EXISTS_PROPERTY);
  return Object.fromEntries([...props].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Remove and set properties in one transaction. */
export async function updateProperties(
  meta: MetaStore,
  catalog: string,
  ns: readonly string[],
  removals: readonly string[],
  updates: Record<string, string>,
): Promise<{ updated: string[]; removed: string[]; missing: string[] }> {
  validateNamespace(ns);
  checkKeys(removals, 'namespace property');
  checkKeys(Object.keys(updates), 'namespace property');
  checkValues(updates);
  const both = removals.filter((k) => Object.hasOwn(updates, k));
  if (both.length) {
    throw new InvalidInputError(
      `namespace properties ${both.map((k) => `"${k}"`).join(', ')} are both removed and updated`,
      'a key may appear in "removals" or in "updates", not in both',
    );
  }
  return meta.transaction(async (tx) => {
    await requireNamespace(tx, catalog, ns);
    const current = await selectProperties(tx, catalog, ns);
    const removed = [...new Set(removals)].filter((k) => current.has(k));
    const missing = [...new Set(removals)].filter((k) => !current.has(k));
    for (const key of removed) {
      await tx.execute(
        'DELETE FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ? AND property_key = ?',
        [catalog, namespaceToString(ns), key],
      );
      current.delete(key);
    }
    await upsertProperties(tx, catalog, ns, updates);
    // A namespace created without the marker (PyIceberg) must not vanish with its last property.
    if (current.size === 0 && Object.keys(updates).length === 0)
      await upsertProperties(tx, catalog, ns, { [NAMESPACE_EXISTS_PROPERTY]: 'true' });
    return { updated: Object.keys(updates), removed, missing };
  });
}

/** Drop an empty namespace (no tables, no namespaces below it). */
export async function dropNamespace(meta: MetaStore, catalog: string, ns: readonly string[]): Promise<void> {
  validateNamespace(ns);
  await meta.transaction(async (tx) => {
    await requireNamespace(tx, catalog, ns);
    const name = namespaceToString(ns);
    const rows = await tx.query(
      'SELECT table_name FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ?',
      [catalog, name],
    );
    if (rows.length) {
      throw new NamespaceNotEmptyError(
        `namespace "${name}" is not empty: it holds ${rows.length} table(s) or view(s)`,
        'drop or rename them first',
      );
    }
    const children = (await selectNamespaces(tx, catalog, ns)).filter((c) => c.length > ns.length);
    if (children.length) {
      throw new NamespaceNotEmptyError(
        `namespace "${name}" is not empty: it holds namespace(s) ${children.map((c) => `"${c.join('.')}"`).join(', ')}`,
        'drop them first',
      );
    }
    await tx.execute('DELETE FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ?', [
      catalog,
      name,
    ]);
  });
}
