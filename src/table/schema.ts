/**
 * Schema helpers: field lookup by id and by dotted name (nested), fresh id assignment as
 * done when a table is created, equivalence and validation.
 */
import { InvalidInputError } from '../util/index.js';
import { canonicalPrimitive, isPrimitive, parsePrimitive } from './primitives.js';
import type { IcebergType, NestedField, Schema, StructType } from './types.js';

/** Field ids above this are reserved for metadata columns (spec "Reserved Field IDs"). */
export const MAX_FIELD_ID = 2147483447;

/** A located field: list elements and map keys/values appear as fields named element/key/value. */
export interface FieldLocation {
  field: NestedField;
  /** Names from the top-level struct down to the field. */
  path: string[];
  /** Id of the enclosing field, or undefined at the top level. */
  parentId?: number;
}

function visit(
  type: IcebergType,
  path: string[],
  parentId: number | undefined,
  out: Map<number, FieldLocation>,
): void {
  if (isPrimitive(type)) return;
  const add = (field: NestedField) => {
    const loc = { field, path: [...path, field.name], parentId };
    out.set(field.id, loc);
    visit(field.type, loc.path, field.id, out);
  };
  if (type.type === 'struct') {
    for (const f of type.fields) add(f);
  } else if (type.type === 'list') {
    add({ id: type['element-id'], name: 'element', required: type['element-required'], type: type.element });
  } else {
    add({ id: type['key-id'], name: 'key', required: true, type: type.key });
    add({ id: type['value-id'], name: 'value', required: type['value-required'], type: type.value });
  }
}

/** Every field of a type by id, including nested fields, list elements and map keys/values. */
export function indexById(type: IcebergType): Map<number, FieldLocation> {
  const out = new Map<number, FieldLocation>();
  visit(type, [], undefined, out);
  return out;
}

/**
 * Every field by dotted name. Fields inside list elements and map values are reachable
 * both with and without the `element`/`value` segment (`points.element.x` and `points.x`).
 */
export function indexByName(type: IcebergType): Map<string, number> {
  const out = new Map<string, number>();
  const byId = indexById(type);
  for (const [id, loc] of byId) {
    out.set(loc.path.join('.'), id);
  }
  for (const [id, loc] of byId) {
    const short: string[] = [];
    let cur: FieldLocation | undefined = loc;
    const chain: FieldLocation[] = [];
    while (cur) {
      chain.unshift(cur);
      cur = cur.parentId === undefined ? undefined : byId.get(cur.parentId);
    }
    chain.forEach((c, i) => {
      const parent = i > 0 ? chain[i - 1] : undefined;
      const implicit = parent && typeof parent.field.type === 'object' && parent.field.type.type !== 'struct';
      const last = i === chain.length - 1;
      if (!(implicit && (c.field.name === 'element' || c.field.name === 'value') && !last))
        short.push(c.field.name);
    });
    const name = short.join('.');
    if (!out.has(name)) out.set(name, id);
  }
  return out;
}

/** The field with the given id anywhere in the type, or undefined. */
export function findFieldById(type: IcebergType, id: number): NestedField | undefined {
  return indexById(type).get(id)?.field;
}

/** The field with the given dotted name (or name path), or undefined. */
export function findFieldByName(
  type: IcebergType,
  name: string | string[],
  opts: { caseSensitive?: boolean } = {},
): NestedField | undefined {
  const wanted = Array.isArray(name) ? name.join('.') : name;
  const index = indexByName(type);
  let id = index.get(wanted);
  if (id === undefined && opts.caseSensitive === false) {
    for (const [k, v] of index) {
      if (k.toLowerCase() === wanted.toLowerCase()) {
        id = v;
        break;
      }
    }
  }
  return id === undefined ? undefined : findFieldById(type, id);
}

/** The dotted name of a field id, or undefined. */
export function columnName(type: IcebergType, id: number): string | undefined {
  return indexById(type).get(id)?.path.join('.');
}

/** The highest field id used in a type (0 when none). */
export function highestFieldId(type: IcebergType): number {
  let max = 0;
  for (const id of indexById(type).keys()) max = Math.max(max, id);
  return max;
}

function freshType(type: IcebergType, next: () => number, idMap: Map<number, number>): IcebergType {
  if (isPrimitive(type)) return canonicalPrimitive(type);
  if (type.type === 'struct') {
    const ids = type.fields.map((f) => {
      const id = next();
      idMap.set(f.id, id);
      return id;
    });
    return {
      type: 'struct',
      fields: type.fields.map((f, i) => ({
        ...f,
        id: ids[i] as number,
        type: freshType(f.type, next, idMap),
      })),
    };
  }
  if (type.type === 'list') {
    const id = next();
    idMap.set(type['element-id'], id);
    return { ...type, 'element-id': id, element: freshType(type.element, next, idMap) };
  }
  const keyId = next();
  const valueId = next();
  idMap.set(type['key-id'], keyId);
  idMap.set(type['value-id'], valueId);
  return {
    ...type,
    'key-id': keyId,
    'value-id': valueId,
    key: freshType(type.key, next, idMap),
    value: freshType(type.value, next, idMap),
  };
}

/**
 * Assign fresh field ids after `lastColumnId`, as the REST createTable does: the fields of a
 * struct get consecutive ids first, then their nested types. Identifier field ids are
 * remapped; `idMap` maps old ids to new ones (for remapping partition and sort sources).
 */
export function assignFreshIds(
  schema: StructType & { 'identifier-field-ids'?: number[] },
  lastColumnId = 0,
  opts: { schemaId?: number } = {},
): { schema: Schema; lastColumnId: number; idMap: Map<number, number> } {
  let last = lastColumnId;
  const idMap = new Map<number, number>();
  const fresh = freshType({ type: 'struct', fields: schema.fields }, () => ++last, idMap) as StructType;
  const out: Schema = { type: 'struct', 'schema-id': opts.schemaId ?? 0, fields: fresh.fields };
  const identifiers = schema['identifier-field-ids'];
  if (identifiers?.length) {
    out['identifier-field-ids'] = identifiers.map((id) => {
      const mapped = idMap.get(id);
      if (mapped === undefined)
        throw new InvalidInputError(`identifier field id ${id} is not a field of the schema`);
      return mapped;
    });
  }
  return { schema: out, lastColumnId: last, idMap };
}

/** True when two schemas have the same fields and identifier fields (schema ids ignored). */
export function schemasEquivalent(a: Schema, b: Schema): boolean {
  const ids = (s: Schema) => [...(s['identifier-field-ids'] ?? [])].sort((x, y) => x - y);
  return sameJson(a.fields, b.fields) && sameJson(ids(a), ids(b));
}

function sameJson(a: unknown, b: unknown): boolean {
  return (
    JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ===
    JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))
  );
}

/**
 * Check a schema: unique positive field ids below the reserved range, unique names within
 * each struct, known primitive types, and identifier fields that are required primitives
 * (not float/double) outside lists and maps with required parents.
 * @throws InvalidInputError naming the first problem.
 */
export function validateSchema(schema: Schema): void {
  const seen = new Map<number, string>();
  const walk = (type: IcebergType, path: string[]) => {
    if (isPrimitive(type)) {
      parsePrimitive(type);
      return;
    }
    const children: [number, string, IcebergType][] =
      type.type === 'struct'
        ? type.fields.map((f) => [f.id, f.name, f.type])
        : type.type === 'list'
          ? [[type['element-id'], 'element', type.element]]
          : [
              [type['key-id'], 'key', type.key],
              [type['value-id'], 'value', type.value],
            ];
    const names = new Set<string>();
    for (const [id, name, child] of children) {
      const full = [...path, name].join('.');
      if (names.has(name)) throw new InvalidInputError(`duplicate field name "${full}"`);
      names.add(name);
      if (!Number.isInteger(id) || id < 0 || id > MAX_FIELD_ID)
        throw new InvalidInputError(`invalid field id ${id} for "${full}"`);
      const other = seen.get(id);
      if (other !== undefined)
        throw new InvalidInputError(`duplicate field id ${id} ("${other}" and "${full}")`);
      seen.set(id, full);
      walk(child, [...path, name]);
    }
  };
  walk(schema, []);
  const byId = indexById(schema);
  for (const id of schema['identifier-field-ids'] ?? []) {
    const loc = byId.get(id);
    if (!loc) throw new InvalidInputError(`identifier field id ${id} is not a field of the schema`);
    const name = loc.path.join('.');
    const { field } = loc;
    if (!isPrimitive(field.type))
      throw new InvalidInputError(`identifier field "${name}" must be a primitive type`);
    if (field.type === 'float' || field.type === 'double')
      throw new InvalidInputError(`identifier field "${name}" cannot be ${field.type}`);
    if (!field.required) throw new InvalidInputError(`identifier field "${name}" must be required`);
    for (let p = loc.parentId; p !== undefined; p = byId.get(p)?.parentId) {
      const parent = byId.get(p);
      if (!parent) break;
      if (typeof parent.field.type === 'object' && parent.field.type.type !== 'struct') {
        throw new InvalidInputError(`identifier field "${name}" cannot be nested in a list or map`);
      }
      if (!parent.field.required)
        throw new InvalidInputError(
          `identifier field "${name}" cannot be nested in optional struct "${parent.path.join('.')}"`,
        );
    }
  }
}
