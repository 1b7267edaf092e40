import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { currentSchemaOf } from '../../src/table/current-schema.js';
import { parseJson } from '../../src/table/json.js';
import { currentSchema } from '../../src/table/lookup.js';
import { newTableMetadata } from '../../src/table/metadata.js';
import { parseTableMetadata, serializeTableMetadata } from '../../src/table/metadata-json.js';

type Json = Record<string, unknown>;
const fieldsOf = (md: Json) => (md.schemas as { fields: Json[] }[])[0]?.fields as Json[];

/** Metadata JSON with every kind of type, nesting, docs and defaults. */
function richJson(): Json {
  const md = newTableMetadata({
    location: 'file:///wh/t',
    tableUuid: 'fb072c92-a02b-11e9-ae9c-1bb7bc9eca94',
    nowMs: 1_700_000_000_000,
    schema: {
      type: 'struct',
      'identifier-field-ids': [1],
      fields: [
        { id: 1, name: 'id', required: true, type: 'long', doc: 'key' },
        { id: 2, name: 'amount', required: false, type: 'decimal(9, 2)', 'initial-default': '1.50' },
        {
          id: 3,
          name: 's',
          required: false,
          type: {
            type: 'struct',
            fields: [
              { id: 4, name: 'at', required: false, type: 'timestamptz' },
              {
                id: 5,
                name: 'xs',
                required: false,
                type: { type: 'list', 'element-id': 6, element: 'fixed[4]', 'element-required': true },
              },
            ],
          },
        },
        {
          id: 7,
          name: 'm',
          required: false,
          type: {
            type: 'map',
            'key-id': 8,
            key: 'string',
            'value-id': 9,
            value: 'uuid',
            'value-required': false,
          },
        },
      ],
    },
  });
  return JSON.parse(serializeTableMetadata(md)) as Json;
}

describe('current schema without the full validation', () => {
  test('equals the current schema of the fully validated metadata', () => {
    const text = JSON.stringify(richJson());
    assert.deepEqual(currentSchemaOf(parseJson(text)), currentSchema(parseTableMetadata(text)));
  });

  test('type names are canonicalized as the full validation does', () => {
    const md = richJson();
    const field = fieldsOf(md)[1] as Json;
    field.type = 'DECIMAL( 9 ,2 )';
    const text = JSON.stringify(md);
    assert.deepEqual(currentSchemaOf(parseJson(text)), currentSchema(parseTableMetadata(text)));
  });

  test('anything the full validation would refuse in the schema gives undefined', () => {
    const field = (md: Json, i: number) => fieldsOf(md)[i] as Json;
    const broken: [string, (md: Json) => void][] = [
      ['format version 1', (md) => Object.assign(md, { 'format-version': 1 })],
      ['no schemas', (md) => Reflect.deleteProperty(md, 'schemas')],
      ['unknown current schema', (md) => Object.assign(md, { 'current-schema-id': 99 })],
      ['unknown type', (md) => Object.assign(field(md, 0), { type: 'no-such-type' })],
      ['id not an integer', (md) => Object.assign(field(md, 0), { id: 1.5 })],
      ['missing required flag', (md) => Reflect.deleteProperty(field(md, 0), 'required')],
      ['doc not a string', (md) => Object.assign(field(md, 0), { doc: 3 })],
      ['duplicate field id', (md) => Object.assign(field(md, 1), { id: 1 })],
      ['duplicate name', (md) => Object.assign(field(md, 1), { name: 'id' })],
      ['struct without fields', (md) => Reflect.deleteProperty(field(md, 2).type as Json, 'fields')],
      ['map without value flag', (md) => Reflect.deleteProperty(field(md, 3).type as Json, 'value-required')],
      [
        'bad identifier ids',
        (md) => Object.assign((md.schemas as Json[])[0] as Json, { 'identifier-field-ids': ['1'] }),
      ],
    ];
    for (const [what, change] of broken) {
      const md = richJson();
      change(md);
      const text = JSON.stringify(md);
      assert.equal(currentSchemaOf(parseJson(text)), undefined, what);
      assert.throws(() => parseTableMetadata(text), what);
    }
  });
});
