/**
 * Namespace and table names. The JDBC catalog stores a namespace as its levels joined
 * with "." (apache/iceberg JdbcUtil.namespaceToString, PyIceberg SqlCatalog), so a level
 * cannot contain "."; names also become path segments of default table locations, so "/"
 * and "\" are refused too.
 */
import type { TableIdentifier } from '../table/index.js';
import { InvalidInputError } from '../util/index.js';

/** Longest stored namespace or table name (the columns are VARCHAR(255)). */
export const MAX_NAME_LENGTH = 255;

const HINT =
  'use letters, digits, "_" or "-"; "." separates namespace levels, and "/", "\\" and control characters are not allowed';

function problem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'is not a string';
  if (name === '') return 'is empty';
  if (name.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return 'contains a control character';
  }
  if (name.includes('.')) return 'contains "." (the separator of namespace levels)';
  if (name.includes('/') || name.includes('\\')) return 'contains a path separator';
  if (name === '..') return 'is ".."';
  return undefined;
}

/** Check a namespace's levels. @throws InvalidInputError naming the level and the rule it breaks */
export function validateNamespace(ns: readonly string[]): string[] {
  if (!Array.isArray(ns) || ns.length === 0)
    throw new InvalidInputError('a namespace needs at least one level', HINT);
  for (const level of ns) {
    const p = problem(level);
    if (p) throw new InvalidInputError(`namespace level ${JSON.stringify(level)} ${p}`, HINT);
  }
  const joined = ns.join('.');
  if (joined.length > MAX_NAME_LENGTH)
    throw new InvalidInputError(`namespace "${joined}" is longer than ${MAX_NAME_LENGTH} characters`);
  return [...ns];
}

/** Check a table identifier. @throws InvalidInputError */
export function validateIdentifier(id: TableIdentifier): TableIdentifier {
  const namespace = validateNamespace(id?.namespace);
  const p = problem(id.name);
  if (p) throw new InvalidInputError(`table name ${JSON.stringify(id.name)} ${p}`, HINT);
  return { namespace, name: id.name };
}

/** The stored form of a namespace: levels joined with ".". */
export function namespaceToString(ns: readonly string[]): string {
  return ns.join('.');
}

/** Levels of a stored namespace string. */
export function namespaceFromString(ns: string): string[] {
  return ns.split('.');
}

/** `a.b.table` for namespace [a, b] and table `table`. */
export function formatIdentifier(id: TableIdentifier): string {
  return [...id.namespace, id.name].join('.');
}

/**
 * Parse `a.b.table` (namespace [a, b]); at least one namespace level is required.
 * @throws InvalidInputError
 */
export function parseIdentifier(text: string): TableIdentifier {
  const parts = text.split('.');
  if (parts.length < 2) {
    throw new InvalidInputError(
      `table name "${text}" has no namespace`,
      'write NAMESPACE.TABLE, e.g. shop.orders (nested namespaces: a.b.table)',
    );
  }
  const name = parts.pop() as string;
  return validateIdentifier({ namespace: parts, name });
}
