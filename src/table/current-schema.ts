/**
 * The current schema of parsed metadata JSON, checked by hand instead of by the full zod
 * validation (metadata-schema.ts), for readers that need a table's columns only. It accepts
 * only what the full validation accepts for that schema, with primitive names canonicalized
 * the same way; anything else gives undefined, and the caller then runs the full validation,
 * whose error names the problem.
 */
import { canonicalPrimitive } from './primitives.js';
import { validateSchema } from './schema.js';
import type { IcebergType, JsonValue, NestedField, Schema } from './types.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function fieldOf(v: unknown): NestedField | undefined {
  if (!isObj(v) || !isInt(v.id) || typeof v.name !== 'string' || typeof v.required !== 'boolean') return;
  if (v.doc !== undefined && typeof v.doc !== 'string') return;
  const type = typeOf(v.type);
  if (type === undefined) return;
  const field: NestedField = { id: v.id, name: v.name, required: v.required, type };
  if (v.doc !== undefined) field.doc = v.doc as string;
  if (v['initial-default'] !== undefined) field['initial-default'] = v['initial-default'] as JsonValue;
  if (v['write-default'] !== undefined) field['write-default'] = v['write-default'] as JsonValue;
  return field;
}

function fieldsOf(v: unknown): NestedField[] | undefined {
  if (!Array.isArray(v)) return;
  const out: NestedField[] = [];
  for (const f of v) {
    const field = fieldOf(f);
    if (!field) return;
    out.push(field);
  }
  return out;
}

function typeOf(v: unknown): IcebergType | undefined {
  if (typeof v === 'string') {
    try {
      return canonicalPrimitive(v);
    } catch {
      return;
    }
  }
  if (!isObj(v)) return;
  if (v.type === 'struct') {
    const fields = fieldsOf(v.fields);
    return fields && { type: 'struct', fields };
  }
  if (v.type === 'list') {
    const element = typeOf(v.element);
    if (!element || !isInt(v['element-id']) || typeof v['element-required'] !== 'boolean') return;
    return {
      type: 'list',
      'element-id': v['element-id'],
      element,
      'element-required': v['element-required'],
    };
  }
  if (v.type === 'map') {
    const key = typeOf(v.key);
    const value = typeOf(v.value);
    if (!key || !value || !isInt(v['key-id']) || !isInt(v['value-id'])) return;
    if (typeof v['value-required'] !== 'boolean') return;
    return {
      type: 'map',
      'key-id': v['key-id'],
      key,
      'value-id': v['value-id'],
      value,
      'value-required': v['value-required'],
    };
  }
  return;
}

/** The current schema of format-version 2 metadata `obj`, or undefined if it is not plainly valid. */
export function currentSchemaOf(obj: unknown): Schema | undefined {
  if (!isObj(obj) || obj['format-version'] !== 2 || !Array.isArray(obj.schemas)) return;
  const id = obj['current-schema-id'];
  if (!isInt(id)) return;
  const raw = obj.schemas.find((s) => isObj(s) && s['schema-id'] === id);
  if (!isObj(raw) || raw.type !== 'struct') return;
  const fields = fieldsOf(raw.fields);
  if (!fields) return;
  const ids = raw['identifier-field-ids'];
  if (ids !== undefined && !(Array.isArray(ids) && ids.every(isInt))) return;
  const schema: Schema = { type: 'struct', 'schema-id': id, fields };
  if (ids !== undefined) schema['identifier-field-ids'] = ids as number[];
  try {
    validateSchema(schema);
  } catch {
    return;
  }
  return schema;
}
