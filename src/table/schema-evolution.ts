/**
 * Schema evolution (spec "Schema Evolution"): add, drop, rename, move, make optional and
 * widen columns, including fields of nested structs. Ids of existing fields never change;
 * added fields get fresh ids after the table's last column id. Format v2 has no default
 * values, so only optional columns can be added.
 */
import { InvalidInputError } from '../util/index.js';
import { canonicalPrimitive, isPrimitive, parsePrimitive, typeToString } from './primitives.js';
import { assignFreshIds, indexById, indexByName, validateSchema } from './schema.js';
import type { IcebergType, NestedField, PrimitiveType, Schema, StructType } from './types.js';

/** Where to place a column among its siblings. */
export type ColumnPosition = { first: true } | { before: string } | { after: string };

/** One change of a schema; names are dotted paths (`address.city`) or name arrays. */
export type SchemaChange =
  | {
      op: 'add-column';
      parent?: string | string[];
      name: string;
      type: IcebergType;
      required?: boolean;
      doc?: string;
      position?: ColumnPosition;
    }
  | { op: 'drop-column'; name: string | string[] }
  | { op: 'rename-column'; name: string | string[]; newName: string }
  | { op: 'move-column'; name: string | string[]; position: ColumnPosition }
  | { op: 'make-optional'; name: string | string[] }
  | { op: 'update-type'; name: string | string[]; type: PrimitiveType }
  | { op: 'update-doc'; name: string | string[]; doc: string }
  | { op: 'set-identifier-fields'; names: (string | string[])[] };

const dotted = (name: string | string[]) => (Array.isArray(name) ? name.join('.') : name);

/**
 * Whether `from` may be promoted to `to` in format v2: int→long, float→double and
 * decimal(P,S)→decimal(P',S) with P' > P. (date→timestamp needs format v3.)
 */
export function isLegalPromotion(from: PrimitiveType, to: PrimitiveType): boolean {
  const a = parsePrimitive(from);
  const b = parsePrimitive(to);
  if (a.kind === 'int') return b.kind === 'long';
  if (a.kind === 'float') return b.kind === 'double';
  if (a.kind === 'decimal' && b.kind === 'decimal') return b.scale === a.scale && b.precision > a.precision;
  return false;
}

class Evolver {
  readonly schema: Schema;
  constructor(
    schema: Schema,
    public lastColumnId: number,
  ) {
    this.schema = structuredClone(schema);
  }

  /** Any field, list element or map key/value, with accessors on its enclosing type. */
  target(name: string | string[]): {
    path: string;
    kind: 'field' | 'element' | 'key' | 'value';
    type: IcebergType;
    set: (t: IcebergType) => void;
    optional: () => void;
    field?: NestedField;
    siblings?: NestedField[];
  } {
    const path = dotted(name);
    const id = indexByName(this.schema).get(path);
    const byId = indexById(this.schema);
    const loc = id === undefined ? undefined : byId.get(id);
    if (!loc) throw new InvalidInputError(`column "${path}" does not exist`);
    const parent = loc.parentId === undefined ? this.schema : byId.get(loc.parentId)?.field.type;
    if (!parent || typeof parent !== 'object') throw new InvalidInputError(`column "${path}" does not exist`);
    if (parent.type === 'struct') {
      const field = parent.fields.find((f) => f.id === loc.field.id) as NestedField;
      return {
        path,
        kind: 'field',
        type: field.type,
        field,
        siblings: parent.fields,
        set: (t) => {
          field.type = t;
        },
        optional: () => {
          field.required = false;
        },
      };
    }
    if (parent.type === 'list') {
      return {
        path,
        kind: 'element',
        type: parent.element,
        set: (t) => {
          parent.element = t;
        },
        optional: () => {
          parent['element-required'] = false;
        },
      };
    }
    const isKey = loc.field.id === parent['key-id'];
    return {
      path,
      kind: isKey ? 'key' : 'value',
      type: isKey ? parent.key : parent.value,
      set: (t) => {
        if (isKey) throw new InvalidInputError(`cannot change map key "${path}"`);
        parent.value = t;
      },
      optional: () => {
        if (isKey) throw new InvalidInputError(`map key "${path}" is always required`);
        parent['value-required'] = false;
      },
    };
  }

  locate(name: string | string[]): { field: NestedField; siblings: NestedField[]; path: string } {
    const t = this.target(name);
    if (!t.field || !t.siblings)
      throw new InvalidInputError(`"${t.path}" is a list element or map key/value, not a struct field`);
    return { field: t.field, siblings: t.siblings, path: t.path };
  }

  parentStruct(parent: string | string[] | undefined): StructType {
    if (parent === undefined || dotted(parent) === '') return this.schema;
    const path = dotted(parent);
    const id = indexByName(this.schema).get(path);
    let type = id === undefined ? undefined : indexById(this.schema).get(id)?.field.type;
    while (type && typeof type === 'object' && type.type !== 'struct')
      type = type.type === 'list' ? type.element : type.value;
    if (!type || typeof type !== 'object')
      throw new InvalidInputError(`cannot add a column to "${path}": it is not a struct`);
    return type;
  }

  place(
    siblings: NestedField[],
    field: NestedField,
    position: ColumnPosition | undefined,
    what: string,
  ): void {
    const i = siblings.indexOf(field);
    if (i >= 0) siblings.splice(i, 1);
    if (!position) {
      siblings.push(field);
    } else if ('first' in position) {
      siblings.unshift(field);
    } else {
      const ref = 'before' in position ? position.before : position.after;
      const refName = ref.split('.').pop() as string;
      const at = siblings.findIndex((f) => f.name === refName);
      if (at < 0) throw new InvalidInputError(`cannot move ${what}: column "${ref}" is not a sibling`);
      siblings.splice('before' in position ? at : at + 1, 0, field);
    }
  }

  apply(c: SchemaChange): void {
    switch (c.op) {
      case 'add-column': {
        const struct = this.parentStruct(c.parent);
        const full = c.parent ? `${dotted(c.parent)}.${c.name}` : c.name;
        if (struct.fields.some((f) => f.name === c.name))
          throw new InvalidInputError(`cannot add column "${full}": it already exists`);
        if (c.required) {
          throw new InvalidInputError(
            `cannot add required column "${full}": format v2 has no default values for existing rows`,
            'add it as an optional column',
          );
        }
        const fresh = assignFreshIds(
          { type: 'struct', fields: [{ id: 0, name: c.name, required: false, type: c.type }] },
          this.lastColumnId,
        );
        this.lastColumnId = fresh.lastColumnId;
        const field = fresh.schema.fields[0] as NestedField;
        if (c.doc !== undefined) field.doc = c.doc;
        this.place(struct.fields, field, c.position, `"${full}"`);
        return;
      }
      case 'drop-column': {
        const { field, siblings, path } = this.locate(c.name);
        const removed = new Set(indexById({ type: 'struct', fields: [field] }).keys());
        if ((this.schema['identifier-field-ids'] ?? []).some((id) => removed.has(id))) {
          throw new InvalidInputError(
            `cannot drop column "${path}": it is an identifier field`,
            'change the identifier fields first',
          );
        }
        siblings.splice(siblings.indexOf(field), 1);
        return;
      }
      case 'rename-column': {
        const { field, siblings, path } = this.locate(c.name);
        if (!c.newName) throw new InvalidInputError(`cannot rename "${path}" to an empty name`);
        if (siblings.some((f) => f !== field && f.name === c.newName)) {
          throw new InvalidInputError(
            `cannot rename "${path}" to "${c.newName}": a column with that name exists`,
          );
        }
        field.name = c.newName;
        return;
      }
      case 'move-column': {
        const { field, siblings, path } = this.locate(c.name);
        this.place(siblings, field, c.position, `"${path}"`);
        return;
      }
      case 'make-optional': {
        const t = this.target(c.name);
        if (t.field && (this.schema['identifier-field-ids'] ?? []).includes(t.field.id)) {
          throw new InvalidInputError(`cannot make column "${t.path}" optional: it is an identifier field`);
        }
        t.optional();
        return;
      }
      case 'update-type': {
        const t = this.target(c.name);
        const to = canonicalPrimitive(c.type);
        if (!isPrimitive(t.type)) {
          throw new InvalidInputError(
            `cannot change column "${t.path}" from ${typeToString(t.type)} to ${to}: only primitive types can be promoted`,
          );
        }
        if (t.type === to) return;
        if (!isLegalPromotion(t.type, to)) {
          const v3 =
            parsePrimitive(t.type).kind === 'date' && parsePrimitive(to).kind === 'timestamp'
              ? ' in format v2'
              : '';
          throw new InvalidInputError(
            `cannot change column "${t.path}" from ${t.type} to ${to}: not a legal type promotion${v3}`,
            'legal promotions are int → long, float → double and decimal(P,S) → decimal(P2,S) with P2 > P',
          );
        }
        t.set(to);
        return;
      }
      case 'update-doc':
        this.locate(c.name).field.doc = c.doc;
        return;
      case 'set-identifier-fields': {
        const index = indexByName(this.schema);
        const ids = c.names.map((n) => {
          const id = index.get(dotted(n));
          if (id === undefined)
            throw new InvalidInputError(`identifier column "${dotted(n)}" does not exist`);
          return id;
        });
        if (ids.length) this.schema['identifier-field-ids'] = ids;
        else delete this.schema['identifier-field-ids'];
        return;
      }
    }
  }
}

/**
 * Apply schema changes, producing a new schema with `schema-id` + 1 (the add-schema update
 * re-numbers it if taken) and the new last column id.
 * @throws InvalidInputError naming the column and the rule for an illegal change.
 */
export function evolveSchema(
  schema: Schema,
  lastColumnId: number,
  changes: SchemaChange[],
): { schema: Schema; lastColumnId: number } {
  const ev = new Evolver(schema, lastColumnId);
  for (const c of changes) ev.apply(c);
  ev.schema['schema-id'] = schema['schema-id'] + 1;
  validateSchema(ev.schema);
  return { schema: ev.schema, lastColumnId: ev.lastColumnId };
}
