/**
 * Nakadi's rules for changing an event type's schema. A change between two schemas is
 * classified, then the compatibility mode decides whether it is allowed and the semantic
 * version says how big it is: PATCH for titles/descriptions, MINOR for new optional
 * properties and definitions, MAJOR for anything else.
 */
import { isDeepStrictEqual } from 'node:util';
import { UnprocessableError } from './problem.js';
import type { CompatibilityMode } from './types.js';

type Json = Record<string, unknown>;

/** What kind of change one difference is. */
export type ChangeKind =
  | 'meta'
  | 'property_added'
  | 'definition_added'
  | 'required_added'
  | 'additional_properties_narrowed'
  | 'type_narrowed'
  | 'incompatible';

export interface SchemaChange {
  kind: ChangeKind;
  /** JSON path of the change, e.g. `#/properties/order/required`. */
  path: string;
  detail: string;
}

const META = new Set(['title', 'description', 'examples', 'example', '$comment', 'default']);

/** Every difference between two schemas. */
export function diffSchemas(before: unknown, after: unknown, path = '#'): SchemaChange[] {
  if (isDeepStrictEqual(before, after)) return [];
  if (!isObject(before) || !isObject(after)) {
    return [{ kind: 'incompatible', path, detail: 'schema replaced' }];
  }
  const changes: SchemaChange[] = [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    const a = before[key];
    const b = after[key];
    if (isDeepStrictEqual(a, b)) continue;
    const here = `${path}/${key}`;
    if (META.has(key)) changes.push({ kind: 'meta', path: here, detail: `${key} changed` });
    else if (key === 'properties' || key === 'definitions') changes.push(...diffMembers(key, a, b, here));
    else if (key === 'required') changes.push(...diffRequired(a, b, here));
    else if (key === 'additionalProperties') changes.push(...diffAdditional(a, b, here));
    else if (key === 'type' && a === undefined) {
      changes.push({ kind: 'type_narrowed', path: here, detail: `type set to ${JSON.stringify(b)}` });
    } else if (key === 'items' && isObject(a) && isObject(b)) changes.push(...diffSchemas(a, b, here));
    else if (
      ['allOf', 'anyOf', 'oneOf'].includes(key) &&
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length
    ) {
      for (const [i, item] of a.entries()) changes.push(...diffSchemas(item, b[i], `${here}/${i}`));
    } else {
      changes.push({ kind: 'incompatible', path: here, detail: `${key} changed` });
    }
  }
  return changes;
}

function diffMembers(key: string, a: unknown, b: unknown, path: string): SchemaChange[] {
  const before = isObject(a) ? a : {};
  const after = isObject(b) ? b : {};
  const changes: SchemaChange[] = [];
  for (const name of Object.keys(before)) {
    if (!(name in after))
      changes.push({ kind: 'incompatible', path: `${path}/${name}`, detail: `${name} removed` });
  }
  for (const [name, schema] of Object.entries(after)) {
    if (!(name in before)) {
      changes.push({
        kind: key === 'properties' ? 'property_added' : 'definition_added',
        path: `${path}/${name}`,
        detail: `${name} added`,
      });
    } else changes.push(...diffSchemas(before[name], schema, `${path}/${name}`));
  }
  return changes;
}

function diffRequired(a: unknown, b: unknown, path: string): SchemaChange[] {
  const before = new Set(Array.isArray(a) ? (a as string[]) : []);
  const after = new Set(Array.isArray(b) ? (b as string[]) : []);
  const removed = [...before].filter((x) => !after.has(x));
  const added = [...after].filter((x) => !before.has(x));
  const changes: SchemaChange[] = [];
  if (removed.length)
    changes.push({ kind: 'incompatible', path, detail: `no longer required: ${removed.join(', ')}` });
  if (added.length)
    changes.push({ kind: 'required_added', path, detail: `newly required: ${added.join(', ')}` });
  return changes;
}

function diffAdditional(a: unknown, b: unknown, path: string): SchemaChange[] {
  if ((a === undefined || a === true) && isObject(b)) {
    return [
      { kind: 'additional_properties_narrowed', path, detail: 'additionalProperties narrowed to a schema' },
    ];
  }
  if (isObject(a) && isObject(b)) return diffSchemas(a, b, path);
  return [{ kind: 'incompatible', path, detail: 'additionalProperties changed' }];
}

const COMPATIBLE: ChangeKind[] = ['meta', 'property_added', 'definition_added'];
const FORWARD: ChangeKind[] = [
  ...COMPATIBLE,
  'required_added',
  'additional_properties_narrowed',
  'type_narrowed',
];
const ALLOWED: Record<CompatibilityMode, ReadonlySet<ChangeKind>> = {
  compatible: new Set(COMPATIBLE),
  forward: new Set(FORWARD),
  none: new Set([...FORWARD, 'incompatible']),
};

/**
 * The version of a changed schema, or the same version when nothing changed.
 * @throws UnprocessableError naming the first change the mode does not allow.
 */
export function evolveVersion(mode: CompatibilityMode, version: string, before: Json, after: Json): string {
  const changes = diffSchemas(before, after);
  if (changes.length === 0) return version;
  const refused = changes.find((c) => !ALLOWED[mode].has(c.kind));
  if (refused) {
    throw new UnprocessableError(
      `schema change not allowed in compatibility mode "${mode}": ${refused.detail} at ${refused.path}`,
      mode === 'compatible'
        ? 'compatible mode only allows new optional properties and title/description changes'
        : 'forward mode allows new properties, new required fields, narrowing additionalProperties and adding a type',
    );
  }
  const [major = 1, minor = 0, patch = 0] = version.split('.').map(Number);
  // A new property that is also required is a MAJOR change (it breaks old producers).
  const level = changes.some((c) => !COMPATIBLE.includes(c.kind))
    ? 'major'
    : changes.some((c) => c.kind !== 'meta')
      ? 'minor'
      : 'patch';
  if (level === 'major') return `${major + 1}.0.0`;
  if (level === 'minor') return `${major}.${minor + 1}.0`;
  return `${major}.${minor}.${patch + 1}`;
}

function isObject(v: unknown): v is Json {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}
