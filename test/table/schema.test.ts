import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assignFreshIds,
  columnName,
  findFieldById,
  findFieldByName,
  highestFieldId,
  validateSchema,
} from '../../src/table/schema.js';
import { evolveSchema, isLegalPromotion } from '../../src/table/schema-evolution.js';
import type { Schema, StructType } from '../../src/table/types.js';
import { InvalidInputError } from '../../src/util/index.js';

const input: StructType & { 'identifier-field-ids': number[] } = {
  type: 'struct',
  'identifier-field-ids': [10],
  fields: [
    { id: 10, name: 'id', required: true, type: 'long' },
    {
      id: 20,
      name: 'address',
      required: false,
      type: {
        type: 'struct',
        fields: [
          { id: 21, name: 'city', required: false, type: 'string' },
          { id: 22, name: 'zip', required: false, type: 'int' },
        ],
      },
    },
    {
      id: 30,
      name: 'tags',
      required: false,
      type: { type: 'list', 'element-id': 31, element: 'string', 'element-required': false },
    },
    {
      id: 40,
      name: 'points',
      required: false,
      type: {
        type: 'list',
        'element-id': 41,
        'element-required': true,
        element: { type: 'struct', fields: [{ id: 42, name: 'x', required: true, type: 'double' }] },
      },
    },
    {
      id: 50,
      name: 'attrs',
      required: false,
      type: {
        type: 'map',
        'key-id': 51,
        key: 'string',
        'value-id': 52,
        value: 'decimal(9, 2)',
        'value-required': false,
      },
    },
    { id: 60, name: 'price', required: false, type: 'double' },
  ],
};

const fresh = () => assignFreshIds(input, 0).schema;

describe('schema helpers', () => {
  test('fresh ids: struct fields first, then nested types; identifiers remapped', () => {
    const { schema, lastColumnId, idMap } = assignFreshIds(input, 0);
    assert.deepEqual(
      schema.fields.map((f) => [f.name, f.id]),
      [
        ['id', 1],
        ['address', 2],
        ['tags', 3],
        ['points', 4],
        ['attrs', 5],
        ['price', 6],
      ],
    );
    assert.equal(findFieldByName(schema, 'address.city')?.id, 7);
    assert.equal(findFieldByName(schema, 'address.zip')?.id, 8);
    assert.equal(findFieldByName(schema, 'tags.element')?.id, 9);
    assert.equal(findFieldByName(schema, 'points.element')?.id, 10);
    assert.equal(findFieldByName(schema, 'points.x')?.id, 11);
    assert.equal(findFieldByName(schema, 'points.element.x')?.id, 11);
    assert.equal(findFieldByName(schema, 'attrs.key')?.id, 12);
    assert.equal(
      findFieldByName(schema, 'attrs.value')?.type,
      'decimal(9,2)',
      'type strings are canonicalized',
    );
    assert.equal(lastColumnId, 13);
    assert.deepEqual(schema['identifier-field-ids'], [1]);
    assert.equal(idMap.get(42), 11);
    assert.equal(highestFieldId(schema), 13);
  });

  test('lookup by id and by name, nested and case-insensitive', () => {
    const s = fresh();
    assert.equal(findFieldById(s, 7)?.name, 'city');
    assert.equal(columnName(s, 11), 'points.element.x');
    assert.equal(findFieldByName(s, ['address', 'city'])?.id, 7);
    assert.equal(findFieldByName(s, 'ADDRESS.City', { caseSensitive: false })?.id, 7);
    assert.equal(findFieldByName(s, 'ADDRESS.City'), undefined);
  });

  test('validation of ids and identifier fields', () => {
    const s = fresh();
    assert.doesNotThrow(() => validateSchema(s));
    const dup: Schema = {
      ...s,
      fields: [...s.fields, { id: 1, name: 'other', required: false, type: 'int' }],
    };
    assert.throws(() => validateSchema(dup), /duplicate field id 1/);
    assert.throws(
      () => validateSchema({ ...s, 'identifier-field-ids': [6] }),
      /identifier field "price" cannot be double/,
    );
    assert.throws(() => validateSchema({ ...s, 'identifier-field-ids': [7] }), /must be required/);
    assert.throws(
      () => validateSchema({ ...s, 'identifier-field-ids': [12] }),
      /cannot be nested in a list or map/,
    );
  });
});

describe('schema evolution', () => {
  test('legal promotions', () => {
    const s = fresh();
    const r = evolveSchema(s, 13, [
      { op: 'update-type', name: 'id', type: 'long' },
      { op: 'update-type', name: 'address.zip', type: 'long' },
      { op: 'update-type', name: 'attrs.value', type: 'decimal(12,2)' },
    ]);
    assert.equal(findFieldByName(r.schema, 'address.zip')?.type, 'long');
    assert.equal(findFieldByName(r.schema, 'attrs.value')?.type, 'decimal(12,2)');
    assert.equal(r.schema['schema-id'], 1);
    assert.ok(isLegalPromotion('float', 'double'));
    assert.ok(!isLegalPromotion('decimal(9,2)', 'decimal(12,3)'));
    assert.ok(!isLegalPromotion('date', 'timestamp'));
  });

  test('illegal changes name the column and the types', () => {
    const s = fresh();
    assert.throws(
      () => evolveSchema(s, 13, [{ op: 'update-type', name: 'price', type: 'int' }]),
      (e: unknown) =>
        e instanceof InvalidInputError &&
        e.message.includes('cannot change column "price" from double to int: not a legal type promotion'),
    );
    assert.throws(
      () => evolveSchema(s, 13, [{ op: 'update-type', name: 'id', type: 'int' }]),
      /from long to int/,
    );
    assert.throws(
      () => evolveSchema(s, 13, [{ op: 'update-type', name: 'attrs.value', type: 'decimal(8,2)' }]),
      /decimal\(9,2\) to decimal\(8,2\)/,
    );
    assert.throws(
      () => evolveSchema(s, 13, [{ op: 'update-type', name: 'address', type: 'string' }]),
      /only primitive types can be promoted/,
    );
    assert.throws(
      () => evolveSchema(s, 13, [{ op: 'add-column', name: 'x', type: 'int', required: true }]),
      /cannot add required column "x"/,
    );
    assert.throws(() => evolveSchema(s, 13, [{ op: 'drop-column', name: 'id' }]), /identifier field/);
    assert.throws(
      () => evolveSchema(s, 13, [{ op: 'drop-column', name: 'nope' }]),
      /column "nope" does not exist/,
    );
    assert.throws(
      () => evolveSchema(s, 13, [{ op: 'rename-column', name: 'price', newName: 'id' }]),
      /a column with that name exists/,
    );
  });

  test('add columns (top-level and nested) with fresh ids', () => {
    const r = evolveSchema(fresh(), 13, [
      { op: 'add-column', name: 'note', type: 'string', doc: 'free text' },
      { op: 'add-column', parent: 'address', name: 'country', type: 'string', position: { first: true } },
      { op: 'add-column', parent: 'points', name: 'y', type: 'double' },
      {
        op: 'add-column',
        name: 'meta',
        type: {
          type: 'map',
          'key-id': 0,
          key: 'string',
          'value-id': 0,
          value: 'long',
          'value-required': false,
        },
      },
    ]);
    assert.equal(findFieldByName(r.schema, 'note')?.id, 14);
    assert.equal(findFieldByName(r.schema, 'note')?.doc, 'free text');
    assert.equal(findFieldByName(r.schema, 'address.country')?.id, 15);
    assert.deepEqual(
      (findFieldByName(r.schema, 'address')?.type as StructType | undefined)?.fields.map((f) => f.name),
      ['country', 'city', 'zip'],
    );
    assert.equal(findFieldByName(r.schema, 'points.y')?.id, 16);
    assert.equal(findFieldByName(r.schema, 'meta')?.id, 17);
    assert.equal(findFieldByName(r.schema, 'meta.key')?.id, 18);
    assert.equal(r.lastColumnId, 19);
    assert.equal(findFieldByName(r.schema, 'note')?.required, false);
  });

  test('rename, drop, move and make optional keep ids', () => {
    const r = evolveSchema(fresh(), 13, [
      { op: 'rename-column', name: 'price', newName: 'amount' },
      { op: 'rename-column', name: 'address.city', newName: 'town' },
      { op: 'drop-column', name: 'tags' },
      { op: 'move-column', name: 'amount', position: { after: 'id' } },
      { op: 'move-column', name: 'address.zip', position: { before: 'town' } },
      { op: 'set-identifier-fields', names: [] },
      { op: 'make-optional', name: 'id' },
    ]);
    assert.equal(findFieldByName(r.schema, 'amount')?.id, 6);
    assert.equal(findFieldByName(r.schema, 'address.town')?.id, 7);
    assert.equal(findFieldByName(r.schema, 'tags'), undefined);
    assert.equal(findFieldById(r.schema, 9), undefined, 'dropping drops nested ids');
    assert.deepEqual(
      r.schema.fields.map((f) => f.name),
      ['id', 'amount', 'address', 'points', 'attrs'],
    );
    assert.deepEqual(
      (findFieldByName(r.schema, 'address')?.type as StructType | undefined)?.fields.map((f) => f.name),
      ['zip', 'town'],
    );
    assert.equal(findFieldByName(r.schema, 'id')?.required, false);
    assert.equal(r.schema['identifier-field-ids'], undefined);
    assert.equal(r.lastColumnId, 13);
  });
});
