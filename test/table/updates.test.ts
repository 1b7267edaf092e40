import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseJson } from '../../src/table/json.js';
import { newTableMetadata } from '../../src/table/metadata.js';
import { validateTableMetadata } from '../../src/table/metadata-schema.js';
import { checkRequirements } from '../../src/table/requirements.js';
import { evolveSchema } from '../../src/table/schema-evolution.js';
import type { Schema, Snapshot, TableMetadata } from '../../src/table/types.js';
import { applyUpdates, type TableRequirement } from '../../src/table/updates.js';
import { parseTableRequirements, parseTableUpdates } from '../../src/table/updates-schema.js';
import { ConflictError, InvalidInputError } from '../../src/util/index.js';

const NOW = 1_700_000_100_000;
const BIG = 9_100_200_300_400_500_600n;

function base(): TableMetadata {
  return newTableMetadata({
    location: 's3://b/t',
    tableUuid: '0db3e2a8-9d1d-42b9-aa7b-74ebe558dceb',
    nowMs: 1_700_000_000_000,
    schema: {
      type: 'struct',
      fields: [
        { id: 1, name: 'id', required: true, type: 'long' },
        { id: 2, name: 'ts', required: false, type: 'timestamp' },
      ],
    },
  });
}

const snap = (id: bigint, seq: number, parent?: bigint, ts = 1_700_000_050_000): Snapshot => ({
  'snapshot-id': id,
  ...(parent === undefined ? {} : { 'parent-snapshot-id': parent }),
  'sequence-number': seq,
  'timestamp-ms': ts,
  'manifest-list': `s3://b/t/metadata/snap-${id}.avro`,
  summary: { operation: 'append', 'added-records': '10' },
  'schema-id': 0,
});

function committed(): TableMetadata {
  return applyUpdates(
    base(),
    [
      { action: 'add-snapshot', snapshot: snap(BIG, 1) },
      { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': BIG },
    ],
    { now: NOW },
  );
}

describe('applyUpdates', () => {
  test('add-snapshot + set-snapshot-ref main: current snapshot, log, sequence number', () => {
    const md = committed();
    assert.equal(md['current-snapshot-id'], BIG);
    assert.deepEqual(md.refs.main, { type: 'branch', 'snapshot-id': BIG });
    assert.equal(md['last-sequence-number'], 1);
    assert.deepEqual(md['snapshot-log'], [{ 'timestamp-ms': 1_700_000_050_000, 'snapshot-id': BIG }]);
    assert.equal(md['last-updated-ms'], 1_700_000_050_000);
    assert.doesNotThrow(() => validateTableMetadata(md));
    const md2 = applyUpdates(md, [
      { action: 'add-snapshot', snapshot: snap(2n, 2, BIG, 1_700_000_060_000) },
      { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': 2n },
    ]);
    assert.equal(md2['last-sequence-number'], 2);
    assert.equal(md2['snapshot-log'].length, 2);
    assert.throws(
      () => applyUpdates(md2, [{ action: 'add-snapshot', snapshot: snap(3n, 2, 2n) }]),
      /not above the last sequence number 2/,
    );
    assert.throws(
      () => applyUpdates(md2, [{ action: 'add-snapshot', snapshot: snap(2n, 3, 2n) }]),
      /snapshot 2 already exists/,
    );
  });

  test('tags and branches; remove-snapshot-ref; remove-snapshots cleans refs, stats and log', () => {
    let md = committed();
    md = applyUpdates(md, [
      { action: 'add-snapshot', snapshot: snap(2n, 2, BIG) },
      { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': 2n },
      {
        action: 'set-snapshot-ref',
        'ref-name': 'v1',
        type: 'tag',
        'snapshot-id': BIG,
        'max-ref-age-ms': 1000,
      },
      {
        action: 'set-statistics',
        statistics: {
          'snapshot-id': BIG,
          'statistics-path': 's3://b/t/s.puffin',
          'file-size-in-bytes': 10,
          'file-footer-size-in-bytes': 5,
          'blob-metadata': [],
        },
      },
    ]);
    assert.equal(md.refs.v1?.type, 'tag');
    assert.equal(md.statistics.length, 1);
    assert.throws(
      () =>
        applyUpdates(md, [
          { action: 'set-snapshot-ref', 'ref-name': 'x', type: 'branch', 'snapshot-id': 99n },
        ]),
      /unknown snapshot 99/,
    );
    assert.throws(
      () =>
        applyUpdates(md, [
          { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'tag', 'snapshot-id': 2n },
        ]),
      /must be a branch/,
    );
    const removed = applyUpdates(md, [{ action: 'remove-snapshots', 'snapshot-ids': [BIG] }], { now: NOW });
    assert.deepEqual(
      removed.snapshots.map((s) => s['snapshot-id']),
      [2n],
    );
    assert.equal(removed.refs.v1, undefined);
    assert.equal(removed.statistics.length, 0);
    assert.deepEqual(
      removed['snapshot-log'].map((e) => e['snapshot-id']),
      [2n],
    );
    const noMain = applyUpdates(md, [{ action: 'remove-snapshot-ref', 'ref-name': 'main' }]);
    assert.equal(noMain['current-snapshot-id'], null);
    assert.doesNotThrow(() => validateTableMetadata(noMain));
    const noStats = applyUpdates(md, [{ action: 'remove-statistics', 'snapshot-id': BIG }]);
    assert.equal(noStats.statistics.length, 0);
  });

  test('add-schema / set-current-schema -1, last-column-id, schema reuse', () => {
    const md = base();
    const evolved = evolveSchema(md.schemas[0] as Schema, md['last-column-id'], [
      { op: 'add-column', name: 'note', type: 'string' },
    ]);
    const next = applyUpdates(md, [
      { action: 'add-schema', schema: evolved.schema },
      { action: 'set-current-schema', 'schema-id': -1 },
    ]);
    assert.equal(next['current-schema-id'], 1);
    assert.equal(next['last-column-id'], 3);
    assert.equal(next.schemas.length, 2);
    const again = applyUpdates(next, [
      { action: 'add-schema', schema: { ...(md.schemas[0] as Schema), 'schema-id': 7 } },
      { action: 'set-current-schema', 'schema-id': -1 },
    ]);
    assert.equal(again['current-schema-id'], 0, 'an equivalent schema is reused');
    assert.equal(again.schemas.length, 2);
    assert.throws(
      () => applyUpdates(md, [{ action: 'set-current-schema', 'schema-id': -1 }]),
      /no schema was added in this commit/,
    );
    assert.throws(
      () => applyUpdates(md, [{ action: 'set-current-schema', 'schema-id': 4 }]),
      /schema 4 does not exist/,
    );
    const removed = applyUpdates(next, [{ action: 'remove-schemas', 'schema-ids': [0] }]);
    assert.deepEqual(
      removed.schemas.map((s) => s['schema-id']),
      [1],
    );
    assert.throws(
      () => applyUpdates(next, [{ action: 'remove-schemas', 'schema-ids': [1] }]),
      /cannot remove the current schema/,
    );
  });

  test('add-spec / set-default-spec: partition field ids from last-partition-id, reuse', () => {
    const md = base();
    const next = applyUpdates(md, [
      { action: 'add-spec', spec: { fields: [{ 'source-id': 2, name: 'ts_day', transform: 'day' }] } },
      { action: 'set-default-spec', 'spec-id': -1 },
    ]);
    assert.equal(next['default-spec-id'], 1);
    assert.equal(next['last-partition-id'], 1000);
    assert.deepEqual(next['partition-specs'][1]?.fields, [
      { 'source-id': 2, 'field-id': 1000, name: 'ts_day', transform: 'day' },
    ]);
    const more = applyUpdates(next, [
      {
        action: 'add-spec',
        spec: {
          fields: [
            { 'source-id': 2, name: 'ts_day', transform: 'day' },
            { 'source-id': 1, name: 'id_b', transform: 'bucket[4]' },
          ],
        },
      },
      { action: 'set-default-spec', 'spec-id': -1 },
    ]);
    assert.deepEqual(
      more['partition-specs'][2]?.fields.map((f) => f['field-id']),
      [1000, 1001],
    );
    assert.equal(more['last-partition-id'], 1001);
    assert.throws(
      () =>
        applyUpdates(md, [
          { action: 'add-spec', spec: { fields: [{ 'source-id': 2, name: 'x', transform: 'bucket[0]' }] } },
        ]),
      InvalidInputError,
    );
    assert.throws(
      () => applyUpdates(more, [{ action: 'remove-partition-specs', 'spec-ids': [2] }]),
      /default partition spec/,
    );
    assert.equal(
      applyUpdates(more, [{ action: 'remove-partition-specs', 'spec-ids': [0] }])['partition-specs'].length,
      2,
    );
  });

  test('add-sort-order / set-default-sort-order -1', () => {
    const next = applyUpdates(base(), [
      {
        action: 'add-sort-order',
        'sort-order': {
          'order-id': 5,
          fields: [{ 'source-id': 1, transform: 'identity', direction: 'desc', 'null-order': 'nulls-last' }],
        },
      },
      { action: 'set-default-sort-order', 'sort-order-id': -1 },
    ]);
    assert.equal(next['default-sort-order-id'], 1);
    assert.equal(next['sort-orders'].length, 2);
    assert.throws(
      () =>
        applyUpdates(base(), [
          {
            action: 'add-sort-order',
            'sort-order': {
              'order-id': 1,
              fields: [
                { 'source-id': 9, transform: 'identity', direction: 'asc', 'null-order': 'nulls-first' },
              ],
            },
          },
        ]),
      /unknown column id 9/,
    );
  });

  test('uuid, format version, location and properties', () => {
    const md = base();
    assert.equal(
      applyUpdates(md, [{ action: 'assign-uuid', uuid: md['table-uuid'] }])['table-uuid'],
      md['table-uuid'],
    );
    assert.throws(
      () => applyUpdates(md, [{ action: 'assign-uuid', uuid: 'f79c3e09-677c-4bbd-a479-3f349cb785e7' }]),
      /cannot reassign/,
    );
    assert.equal(
      applyUpdates(md, [{ action: 'upgrade-format-version', 'format-version': 2 }])['format-version'],
      2,
    );
    assert.throws(
      () => applyUpdates(md, [{ action: 'upgrade-format-version', 'format-version': 3 }]),
      /format version 3/,
    );
    const moved = applyUpdates(md, [{ action: 'set-location', location: 's3://c/t2/' }], { now: NOW });
    assert.equal(moved.location, 's3://c/t2');
    assert.equal(moved['last-updated-ms'], NOW);
    const props = applyUpdates(md, [
      { action: 'set-properties', updates: { a: '1', b: '2' } },
      { action: 'remove-properties', removals: ['a', 'missing'] },
    ]);
    assert.deepEqual(props.properties, { b: '2' });
    assert.equal(md.properties.b, undefined, 'the input is not modified');
  });

  test('a create transaction from no metadata', () => {
    const body = parseJson(`[
      {"action": "assign-uuid", "uuid": "0db3e2a8-9d1d-42b9-aa7b-74ebe558dceb"},
      {"action": "upgrade-format-version", "format-version": 2},
      {"action": "add-schema", "schema": {"type": "struct", "schema-id": 0, "fields": [{"id": 1, "name": "x", "required": false, "type": "decimal(9, 2)"}]}, "last-column-id": 1},
      {"action": "set-current-schema", "schema-id": -1},
      {"action": "add-spec", "spec": {"spec-id": 0, "fields": []}},
      {"action": "set-default-spec", "spec-id": -1},
      {"action": "add-sort-order", "sort-order": {"order-id": 0, "fields": []}},
      {"action": "set-default-sort-order", "sort-order-id": -1},
      {"action": "set-location", "location": "s3://b/new"},
      {"action": "set-properties", "updates": {"k": "v"}},
      {"action": "add-snapshot", "snapshot": {"snapshot-id": 9223372036854775807, "sequence-number": 1, "timestamp-ms": 5, "manifest-list": "s3://b/new/m.avro", "summary": {"operation": "append"}}},
      {"action": "set-snapshot-ref", "ref-name": "main", "type": "branch", "snapshot-id": 9223372036854775807}
    ]`);
    const md = applyUpdates(undefined, parseTableUpdates(body), { now: NOW });
    assert.equal(md['current-snapshot-id'], 9223372036854775807n);
    assert.equal(md.schemas[0]?.fields[0]?.type, 'decimal(9,2)');
    assert.equal(md['last-partition-id'], 999);
    assert.deepEqual(md.properties, { k: 'v' });
    assert.doesNotThrow(() => validateTableMetadata(md));
    assert.throws(
      () => parseTableUpdates([{ action: 'set-location' }]),
      (e: unknown) => e instanceof InvalidInputError && /\[0\]\.location/.test(e.message),
    );
    assert.throws(() => parseTableUpdates([{ action: 'bogus' }]), InvalidInputError);
  });
});

describe('checkRequirements', () => {
  const md = committed();
  const failing: [TableRequirement, string][] = [
    [{ type: 'assert-create' }, 'expected no table, found table 0db3e2a8-9d1d-42b9-aa7b-74ebe558dceb'],
    [
      { type: 'assert-table-uuid', uuid: 'f79c3e09-677c-4bbd-a479-3f349cb785e7' },
      'expected table uuid f79c3e09-677c-4bbd-a479-3f349cb785e7, found 0db3e2a8',
    ],
    [
      { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': 5n },
      `expected ref "main" at snapshot 5, found snapshot ${BIG}`,
    ],
    [
      { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null },
      `expected ref "main" to not exist, found branch at snapshot ${BIG}`,
    ],
    [
      { type: 'assert-ref-snapshot-id', ref: 'dev', 'snapshot-id': 5n },
      'expected ref "dev" at snapshot 5, found no such ref',
    ],
    [
      { type: 'assert-last-assigned-field-id', 'last-assigned-field-id': 1 },
      'expected last assigned field id 1, found 2',
    ],
    [{ type: 'assert-current-schema-id', 'current-schema-id': 3 }, 'expected current schema id 3, found 0'],
    [
      { type: 'assert-last-assigned-partition-id', 'last-assigned-partition-id': 1000 },
      'expected last assigned partition id 1000, found 999',
    ],
    [{ type: 'assert-default-spec-id', 'default-spec-id': 1 }, 'expected default spec id 1, found 0'],
    [
      { type: 'assert-default-sort-order-id', 'default-sort-order-id': 1 },
      'expected default sort order id 1, found 0',
    ],
  ];
  for (const [req, message] of failing) {
    test(`${req.type} fails: ${message}`, () => {
      assert.throws(
        () => checkRequirements(md, [req]),
        (e: unknown) =>
          e instanceof ConflictError &&
          e.message.includes(`requirement ${req.type} failed: `) &&
          e.message.includes(message),
      );
    });
  }

  test('matching requirements pass; requirements parse from REST JSON', () => {
    const reqs = parseTableRequirements(
      parseJson(`[
        {"type": "assert-table-uuid", "uuid": "0db3e2a8-9d1d-42b9-aa7b-74ebe558dceb"},
        {"type": "assert-ref-snapshot-id", "ref": "main", "snapshot-id": ${BIG}},
        {"type": "assert-ref-snapshot-id", "ref": "dev", "snapshot-id": null},
        {"type": "assert-last-assigned-field-id", "last-assigned-field-id": 2},
        {"type": "assert-current-schema-id", "current-schema-id": 0},
        {"type": "assert-last-assigned-partition-id", "last-assigned-partition-id": 999},
        {"type": "assert-default-spec-id", "default-spec-id": 0},
        {"type": "assert-default-sort-order-id", "default-sort-order-id": 0}
      ]`),
    );
    assert.doesNotThrow(() => checkRequirements(md, reqs));
    assert.doesNotThrow(() => checkRequirements(undefined, [{ type: 'assert-create' }]));
    assert.throws(
      () => checkRequirements(undefined, [{ type: 'assert-current-schema-id', 'current-schema-id': 0 }]),
      /expected an existing table, found no table/,
    );
  });
});
