import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseJson } from '../../src/table/json.js';
import { ancestorsOf, currentSnapshot, snapshotAsOf, snapshotByRef } from '../../src/table/lookup.js';
import {
  appendMetadataLog,
  metadataFileName,
  metadataFileVersion,
  newSnapshotId,
  newTableMetadata,
} from '../../src/table/metadata.js';
import { parseTableMetadata, serializeTableMetadata } from '../../src/table/metadata-json.js';
import { validateTableMetadata } from '../../src/table/metadata-schema.js';
import type { TableMetadata } from '../../src/table/types.js';
import { InvalidInputError, NotFoundError } from '../../src/util/index.js';

const BIG = 8_333_444_555_666_777_888n;

export function sampleTable(): TableMetadata {
  return newTableMetadata({
    location: 's3://bucket/wh/db/events/',
    tableUuid: 'fb072c92-a02b-11e9-ae9c-1bb7bc9eca94',
    nowMs: 1_700_000_000_000,
    schema: {
      type: 'struct',
      'identifier-field-ids': [100],
      fields: [
        { id: 100, name: 'id', required: true, type: 'long' },
        { id: 200, name: 'ts', required: false, type: 'timestamptz' },
        {
          id: 300,
          name: 'tags',
          required: false,
          type: { type: 'list', 'element-id': 301, element: 'string', 'element-required': false },
        },
      ],
    },
    spec: {
      fields: [
        { 'source-id': 200, name: 'ts_day', transform: 'day' },
        { 'source-id': 100, name: 'id_bucket', transform: 'bucket[16]' },
      ],
    },
    sortOrder: {
      fields: [{ 'source-id': 200, transform: 'identity', direction: 'asc', 'null-order': 'nulls-first' }],
    },
    properties: { owner: 'data' },
  });
}

function withSnapshots(md: TableMetadata): TableMetadata {
  const s1 = {
    'snapshot-id': 1n,
    'sequence-number': 1,
    'timestamp-ms': 1000,
    'manifest-list': 's3://m1.avro',
    summary: { operation: 'append' as const },
    'schema-id': 0,
  };
  const s2 = {
    ...s1,
    'snapshot-id': BIG,
    'parent-snapshot-id': 1n,
    'sequence-number': 2,
    'timestamp-ms': 2000,
    'manifest-list': 's3://m2.avro',
  };
  return {
    ...md,
    'last-sequence-number': 2,
    snapshots: [s1, s2],
    'current-snapshot-id': BIG,
    refs: {
      main: { 'snapshot-id': BIG, type: 'branch' },
      v1: { 'snapshot-id': 1n, type: 'tag', 'max-ref-age-ms': 10_000_000 },
    },
    'snapshot-log': [
      { 'snapshot-id': 1n, 'timestamp-ms': 1000 },
      { 'snapshot-id': BIG, 'timestamp-ms': 2000 },
    ],
  };
}

describe('new table metadata', () => {
  test('fresh ids, spec 0 with field ids from 1000, sort order 1, no snapshots', () => {
    const md = sampleTable();
    assert.equal(md['format-version'], 2);
    assert.equal(md.location, 's3://bucket/wh/db/events');
    assert.deepEqual(
      md.schemas[0]?.fields.map((f) => [f.name, f.id]),
      [
        ['id', 1],
        ['ts', 2],
        ['tags', 3],
      ],
    );
    assert.deepEqual(md.schemas[0]?.['identifier-field-ids'], [1]);
    assert.equal(md['last-column-id'], 4);
    assert.deepEqual(md['partition-specs'], [
      {
        'spec-id': 0,
        fields: [
          { 'source-id': 2, 'field-id': 1000, name: 'ts_day', transform: 'day' },
          { 'source-id': 1, 'field-id': 1001, name: 'id_bucket', transform: 'bucket[16]' },
        ],
      },
    ]);
    assert.equal(md['last-partition-id'], 1001);
    assert.deepEqual(md['sort-orders'], [
      {
        'order-id': 1,
        fields: [{ 'source-id': 2, transform: 'identity', direction: 'asc', 'null-order': 'nulls-first' }],
      },
    ]);
    assert.equal(md['default-sort-order-id'], 1);
    assert.equal(md['last-sequence-number'], 0);
    assert.equal(md['current-snapshot-id'], null);
    assert.doesNotThrow(() => validateTableMetadata(md));
  });

  test('unpartitioned and unsorted defaults', () => {
    const md = newTableMetadata({
      location: 'file:///tmp/t',
      schema: { type: 'struct', fields: [{ id: 1, name: 'a', required: false, type: 'int' }] },
    });
    assert.equal(md['last-partition-id'], 999);
    assert.deepEqual(md['sort-orders'], [{ 'order-id': 0, fields: [] }]);
    assert.match(md['table-uuid'], /^[0-9a-f-]{36}$/);
  });

  test('invalid specs are rejected', () => {
    const schema = {
      type: 'struct' as const,
      fields: [{ id: 1, name: 'a', required: false, type: 'string' as const }],
    };
    assert.throws(
      () =>
        newTableMetadata({
          location: 'x',
          schema,
          spec: { fields: [{ 'source-id': 1, name: 'a_year', transform: 'year' }] },
        }),
      /year cannot be applied to type string/,
    );
    assert.throws(
      () =>
        newTableMetadata({
          location: 'x',
          schema,
          spec: { fields: [{ 'source-id': 9, name: 'p', transform: 'identity' }] },
        }),
      /unknown source column id 9/,
    );
    assert.throws(
      () =>
        newTableMetadata({
          location: 'x',
          schema,
          spec: { fields: [{ 'source-id': 1, name: 'a', transform: 'truncate[2]' }] },
        }),
      /conflicts with a column/,
    );
  });
});

describe('metadata JSON', () => {
  test('round trip keeps a snapshot id above 2^53 exactly', () => {
    const md = withSnapshots(sampleTable());
    const text = serializeTableMetadata(md, { indent: 2 });
    assert.ok(text.includes('"current-snapshot-id": 8333444555666777888'));
    assert.ok(text.includes('"parent-snapshot-id": 1,'));
    const back = parseTableMetadata(text);
    assert.equal(back['current-snapshot-id'], BIG);
    assert.equal(back.snapshots[1]?.['snapshot-id'], BIG);
    assert.equal(back.refs.main?.['snapshot-id'], BIG);
    assert.equal(back['snapshot-log'][1]?.['snapshot-id'], BIG);
    assert.deepEqual(back, md);
    assert.equal(serializeTableMetadata(back, { indent: 2 }), text);
  });

  test('no current snapshot is written as -1 and read back as null', () => {
    const text = serializeTableMetadata(sampleTable());
    assert.ok(text.includes('"current-snapshot-id":-1'));
    assert.equal(parseTableMetadata(text)['current-snapshot-id'], null);
  });

  test('a missing required v2 field is rejected, listing what is wrong', () => {
    const obj = parseJson(serializeTableMetadata(sampleTable())) as Record<string, unknown>;
    delete obj['last-sequence-number'];
    delete obj['sort-orders'];
    obj['last-column-id'] = 'x';
    assert.throws(
      () => validateTableMetadata(obj),
      (e: unknown) =>
        e instanceof InvalidInputError &&
        e.message.includes('last-sequence-number') &&
        e.message.includes('sort-orders') &&
        e.message.includes('last-column-id'),
    );
  });

  test('format versions other than 2 are rejected clearly', () => {
    const obj = parseJson(serializeTableMetadata(sampleTable())) as Record<string, unknown>;
    assert.throws(
      () => validateTableMetadata({ ...obj, 'format-version': 3 }),
      /format version 3 is not supported/,
    );
    assert.throws(
      () => validateTableMetadata({ ...obj, 'format-version': 1 }),
      /format version 1 is not supported/,
    );
  });

  test('inconsistent metadata is rejected; a missing main ref is derived', () => {
    const md = withSnapshots(sampleTable());
    const obj = parseJson(serializeTableMetadata(md)) as Record<string, unknown>;
    assert.throws(
      () => validateTableMetadata({ ...obj, 'current-schema-id': 5 }),
      /current-schema-id 5 is not in schemas/,
    );
    assert.throws(
      () => validateTableMetadata({ ...obj, 'current-snapshot-id': 77 }),
      /current-snapshot-id 77 is not in snapshots/,
    );
    const noRefs = validateTableMetadata({ ...obj, refs: undefined });
    assert.deepEqual(noRefs.refs, { main: { 'snapshot-id': BIG, type: 'branch' } });
  });

  test('type strings with spaces are canonicalized', () => {
    const obj = parseJson(serializeTableMetadata(sampleTable())) as {
      schemas: { fields: { type: unknown }[] }[];
    };
    (obj.schemas[0]?.fields[0] as { type: unknown }).type = 'decimal(9, 2)';
    assert.equal(validateTableMetadata(obj).schemas[0]?.fields[0]?.type, 'decimal(9,2)');
  });
});

describe('snapshots, ids and logs', () => {
  test('lookups by id, ref, time and lineage', () => {
    const md = withSnapshots(sampleTable());
    assert.equal(currentSnapshot(md)?.['snapshot-id'], BIG);
    assert.equal(snapshotByRef(md, 'v1')?.['snapshot-id'], 1n);
    assert.equal(snapshotByRef(md, 'nope'), undefined);
    assert.equal(snapshotAsOf(md, 1500)['snapshot-id'], 1n);
    assert.equal(snapshotAsOf(md, 2000)['snapshot-id'], BIG);
    assert.throws(() => snapshotAsOf(md, 999), NotFoundError);
    assert.deepEqual(
      ancestorsOf(md, BIG).map((s) => s['snapshot-id']),
      [BIG, 1n],
    );
  });

  test('new snapshot ids are positive 63-bit and unused', () => {
    const md = withSnapshots(sampleTable());
    for (let i = 0; i < 200; i++) {
      const id = newSnapshotId(md);
      assert.ok(id > 0n && id < 1n << 63n);
      assert.ok(id !== 1n && id !== BIG);
    }
  });

  test('metadata log is bounded by write.metadata.previous-versions-max', () => {
    let md: TableMetadata = { ...sampleTable(), properties: { 'write.metadata.previous-versions-max': '2' } };
    for (let i = 1; i <= 4; i++)
      md = appendMetadataLog(md, { 'metadata-file': `v${i}.metadata.json`, 'timestamp-ms': i });
    assert.deepEqual(
      md['metadata-log'].map((e) => e['metadata-file']),
      ['v3.metadata.json', 'v4.metadata.json'],
    );
    assert.equal(metadataFileName(7, 'abc'), '00007-abc.metadata.json');
    assert.equal(metadataFileVersion('s3://b/t/metadata/00042-1b2c.metadata.json'), 42);
    assert.equal(metadataFileVersion('v3.metadata.json'), 3);
  });
});
