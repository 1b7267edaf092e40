import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import avro from 'avsc';
import { avroType, readContainer } from '../../src/table/avro/container.js';
import { decodeManifest, encodeManifest, inheritFromManifest } from '../../src/table/avro/manifest.js';
import {
  decodeManifestList,
  encodeManifestList,
  UNASSIGNED_SEQUENCE_NUMBER,
} from '../../src/table/avro/manifest-list.js';
import { manifestFileFor } from '../../src/table/avro/summary.js';
import type { ManifestEntry, PartitionSpec, Schema } from '../../src/table/types.js';
import { fromBinary, toBinary } from '../../src/table/values.js';

const schema: Schema = {
  type: 'struct',
  'schema-id': 3,
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'ts', required: false, type: 'timestamptz' },
    { id: 3, name: 'price', required: false, type: 'decimal(9,2)' },
    { id: 4, name: 'key', required: false, type: 'uuid' },
    { id: 5, name: 'code', required: false, type: 'string' },
  ],
};
const spec: PartitionSpec = {
  'spec-id': 1,
  fields: [
    { 'source-id': 2, 'field-id': 1000, name: 'ts_day', transform: 'day' },
    { 'source-id': 1, 'field-id': 1001, name: 'id_bucket', transform: 'bucket[16]' },
    { 'source-id': 3, 'field-id': 1002, name: 'price', transform: 'identity' },
    { 'source-id': 4, 'field-id': 1003, name: 'key', transform: 'identity' },
    { 'source-id': 2, 'field-id': 1004, name: 'ts-hour', transform: 'hour' },
    { 'source-id': 5, 'field-id': 1005, name: 'code_trunc', transform: 'truncate[2]' },
  ],
};
const BIG_ID = 9007199254740993123n;

function entry(i: number, status: 0 | 1 | 2, seq: number | null): ManifestEntry {
  return {
    status,
    snapshot_id: status === 1 ? null : BIG_ID,
    sequence_number: seq,
    file_sequence_number: seq,
    data_file: {
      content: 0,
      file_path: `s3://bucket/t/data/f${i}.parquet`,
      file_format: 'PARQUET',
      partition: {
        ts_day: 19724 + i,
        id_bucket: i % 16,
        price: i === 2 ? null : BigInt(-1050 * i),
        key: 'f79c3e09-677c-4bbd-a479-3f349cb785e7',
        'ts-hour': 473376 + i,
        code_trunc: i === 1 ? 'zz' : 'ab',
      },
      record_count: 1000 * (i + 1),
      file_size_in_bytes: 4096 * (i + 1),
      column_sizes: new Map([
        [1, 100],
        [2, 200],
      ]),
      value_counts: new Map([[1, 1000]]),
      null_value_counts: new Map([[2, 3]]),
      nan_value_counts: null,
      lower_bounds: new Map([[1, toBinary('long', -5n)]]),
      upper_bounds: new Map([[1, toBinary('long', 9223372036854775807n)]]),
      key_metadata: null,
      split_offsets: [4, 1000],
      equality_ids: null,
      sort_order_id: 0,
      referenced_data_file: null,
    },
  };
}

/** Fields of an Avro record schema as [field-id, name, type, optional], resolving references. */
function describeRecord(t: unknown, named = new Map<string, unknown>()): [number, string, string, boolean][] {
  const collect = (x: unknown) => {
    if (Array.isArray(x)) x.forEach(collect);
    else if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      if (typeof o.name === 'string' && (o.type === 'record' || o.type === 'fixed')) named.set(o.name, o);
      if (Array.isArray(o.fields)) for (const f of o.fields as { type: unknown }[]) collect(f.type);
      if (o.items) collect(o.items);
    }
  };
  collect(t);
  const rec = (typeof t === 'string' ? named.get(t) : t) as {
    fields: { name: string; type: unknown; 'field-id': number; default?: unknown }[];
  };
  return rec.fields.map((f) => {
    const optional = Array.isArray(f.type) && f.type[0] === 'null';
    if (optional) assert.equal(f.default, null, `${f.name} defaults to null`);
    const inner = optional ? (f.type as unknown[])[1] : f.type;
    return [f['field-id'], f.name, kind(inner, named), optional];
  });
}

function kind(t: unknown, named: Map<string, unknown>): string {
  if (typeof t === 'string') return named.has(t) ? kind(named.get(t), named) : t;
  const o = t as Record<string, unknown>;
  if (o.type === 'array' && o.logicalType === 'map') {
    const kv = o.items as { name: string; fields: { name: string; type: string; 'field-id': number }[] };
    const [k, v] = kv.fields;
    return `map<${k?.['field-id']}: ${k?.type}, ${v?.['field-id']}: ${v?.type}>@${kv.name}`;
  }
  if (o.type === 'array') return `list<${o['element-id']}: ${kind(o.items, named)}>`;
  if (o.type === 'record') return `record ${o.name}`;
  if (o.type === 'fixed') return `fixed(${o.size})${o.logicalType ? ` ${o.logicalType}` : ''}`;
  return `${o.type}${o.logicalType ? ` ${o.logicalType}` : ''}`;
}

describe('manifest files', () => {
  test('encode → decode round trip, with inheritance', async () => {
    const entries = [entry(0, 1, null), entry(1, 0, 4), entry(2, 2, 3)];
    const buf = await encodeManifest(entries, { schema, spec, formatVersion: 2, content: 'data' });
    const decoded = decodeManifest(buf);
    assert.equal(decoded.formatVersion, 2);
    assert.equal(decoded.content, 'data');
    assert.deepEqual(decoded.spec, spec);
    assert.deepEqual(decoded.schema, schema);
    assert.deepEqual(decoded.entries, entries);

    const mf = manifestFileFor(entries, {
      path: 's3://bucket/t/metadata/m0.avro',
      length: buf.length,
      spec,
      schema,
      snapshotId: 42n,
      content: 'data',
    });
    assert.equal(mf.added_files_count, 1);
    assert.equal(mf.existing_rows_count, 2000);
    assert.equal(mf.deleted_rows_count, 3000);
    assert.equal(mf.min_sequence_number, 4);
    assert.equal(mf.sequence_number, UNASSIGNED_SEQUENCE_NUMBER);
    const withSeq = { ...mf, sequence_number: 7, min_sequence_number: 4 };
    const inherited = decodeManifest(buf, withSeq).entries;
    assert.deepEqual(
      inherited.map((e) => [e.snapshot_id, e.sequence_number, e.file_sequence_number]),
      [
        [42n, 7, 7],
        [BIG_ID, 4, 4],
        [BIG_ID, 3, 3],
      ],
    );
    assert.deepEqual(
      inheritFromManifest({ ...entries[1], sequence_number: null } as ManifestEntry, withSeq).sequence_number,
      null,
    );
  });

  test('the embedded Avro schema matches the spec tables', async () => {
    const buf = await encodeManifest([entry(0, 1, null)], {
      schema,
      spec,
      formatVersion: 2,
      content: 'data',
    });
    const { schema: avroSchema, metadata } = readContainer(buf);
    assert.equal((avroSchema as { name: string }).name, 'manifest_entry');
    const named = new Map<string, unknown>();
    assert.deepEqual(describeRecord(avroSchema, named), [
      [0, 'status', 'int', false],
      [1, 'snapshot_id', 'long', true],
      [3, 'sequence_number', 'long', true],
      [4, 'file_sequence_number', 'long', true],
      [2, 'data_file', 'record r2', false],
    ]);
    assert.deepEqual(describeRecord('r2', named), [
      [134, 'content', 'int', false],
      [100, 'file_path', 'string', false],
      [101, 'file_format', 'string', false],
      [102, 'partition', 'record r102', false],
      [103, 'record_count', 'long', false],
      [104, 'file_size_in_bytes', 'long', false],
      [108, 'column_sizes', 'map<117: int, 118: long>@k117_v118', true],
      [109, 'value_counts', 'map<119: int, 120: long>@k119_v120', true],
      [110, 'null_value_counts', 'map<121: int, 122: long>@k121_v122', true],
      [137, 'nan_value_counts', 'map<138: int, 139: long>@k138_v139', true],
      [125, 'lower_bounds', 'map<126: int, 127: bytes>@k126_v127', true],
      [128, 'upper_bounds', 'map<129: int, 130: bytes>@k129_v130', true],
      [131, 'key_metadata', 'bytes', true],
      [132, 'split_offsets', 'list<133: long>', true],
      [135, 'equality_ids', 'list<136: int>', true],
      [140, 'sort_order_id', 'int', true],
      [143, 'referenced_data_file', 'string', true],
    ]);
    assert.deepEqual(describeRecord('r102', named), [
      [1000, 'ts_day', 'int date', true],
      [1001, 'id_bucket', 'int', true],
      [1002, 'price', 'fixed(4) decimal', true],
      [1003, 'key', 'fixed(16) uuid', true],
      [1004, 'ts_x2Dhour', 'int', true],
      [1005, 'code_trunc', 'string', true],
    ]);
    assert.equal(
      ((named.get('r102') as { fields: Record<string, unknown>[] }).fields[4] as Record<string, unknown>)[
        'iceberg-field-name'
      ],
      'ts-hour',
    );
    assert.deepEqual(metadata, {
      schema: JSON.stringify({ type: 'struct', 'schema-id': 3, fields: schema.fields }),
      'schema-id': '3',
      'partition-spec': JSON.stringify(
        spec.fields.map((f) => ({
          name: f.name,
          transform: f.transform,
          'source-id': f['source-id'],
          'field-id': f['field-id'],
        })),
      ),
      'partition-spec-id': '1',
      'format-version': '2',
      content: 'data',
    });
  });

  test('avsc’s own container reader reads our deflate files', async () => {
    const buf = await encodeManifest([entry(0, 1, null), entry(1, 0, 4)], {
      schema,
      spec,
      formatVersion: 2,
      content: 'data',
    });
    const records: unknown[] = [];
    let codec = '';
    await new Promise<void>((resolve, reject) => {
      Readable.from([buf])
        .pipe(new avro.streams.BlockDecoder({ parseHook: (s: unknown) => avroType(s) }))
        .on('metadata', (_type: unknown, c: string) => {
          codec = c;
        })
        .on('data', (r: unknown) => records.push(r))
        .on('end', resolve)
        .on('error', reject);
    });
    assert.equal(codec, 'deflate');
    assert.equal(records.length, 2);
    assert.equal((records[1] as { snapshot_id: bigint }).snapshot_id, BIG_ID);
  });

  test('delete manifests and invalid entries', async () => {
    const del = entry(0, 1, null);
    del.data_file.content = 2;
    del.data_file.equality_ids = [1, 2];
    const buf = await encodeManifest([del], { schema, spec, formatVersion: 2, content: 'deletes' });
    const decoded = decodeManifest(buf);
    assert.equal(decoded.content, 'deletes');
    assert.deepEqual(decoded.entries[0]?.data_file.equality_ids, [1, 2]);
    await assert.rejects(
      encodeManifest([del], { schema, spec, formatVersion: 2, content: 'data' }),
      /does not belong in a data manifest/,
    );
    await assert.rejects(
      encodeManifest([entry(1, 0, null)], { schema, spec, formatVersion: 2, content: 'data' }),
      /only ADDED entries/,
    );
  });
});

describe('manifest lists', () => {
  test('encode → decode round trip with sequence number assignment', async () => {
    const entries = [entry(0, 1, null), entry(1, 1, null)];
    const mf = manifestFileFor(entries, {
      path: 's3://b/t/m.avro',
      length: 1234,
      spec,
      schema,
      snapshotId: BIG_ID,
      content: 'data',
    });
    const old = {
      ...mf,
      manifest_path: 's3://b/t/old.avro',
      added_snapshot_id: 5n,
      sequence_number: 2,
      min_sequence_number: 1,
      partitions: null,
    };
    const buf = await encodeManifestList([mf, old], {
      snapshotId: BIG_ID,
      parentSnapshotId: 5n,
      sequenceNumber: 9,
      formatVersion: 2,
    });
    const list = decodeManifestList(buf);
    assert.equal(list.snapshotId, BIG_ID);
    assert.equal(list.parentSnapshotId, 5n);
    assert.equal(list.sequenceNumber, 9);
    assert.equal(list.formatVersion, 2);
    assert.deepEqual(list.files[0], { ...mf, sequence_number: 9, min_sequence_number: 9 });
    assert.deepEqual(list.files[1], old);
    const summaries = list.files[0]?.partitions ?? [];
    assert.equal(summaries.length, spec.fields.length);
    assert.equal(fromBinary('date', summaries[0]?.lower_bound as Buffer), 19724);
    assert.equal(fromBinary('date', summaries[0]?.upper_bound as Buffer), 19725);
    assert.equal(fromBinary('string', summaries[5]?.upper_bound as Buffer), 'zz');
    assert.equal(summaries[2]?.contains_null, false);
    await assert.rejects(
      encodeManifestList([{ ...old, sequence_number: UNASSIGNED_SEQUENCE_NUMBER }], {
        snapshotId: BIG_ID,
        parentSnapshotId: null,
        sequenceNumber: 9,
        formatVersion: 2,
      }),
      /has no sequence number/,
    );
  });

  test('the embedded Avro schema matches the spec tables', async () => {
    const buf = await encodeManifestList([], {
      snapshotId: 1n,
      parentSnapshotId: null,
      sequenceNumber: 1,
      formatVersion: 2,
    });
    const { schema: avroSchema, metadata } = readContainer(buf);
    const named = new Map<string, unknown>();
    assert.equal((avroSchema as { name: string }).name, 'manifest_file');
    assert.deepEqual(describeRecord(avroSchema, named), [
      [500, 'manifest_path', 'string', false],
      [501, 'manifest_length', 'long', false],
      [502, 'partition_spec_id', 'int', false],
      [517, 'content', 'int', false],
      [515, 'sequence_number', 'long', false],
      [516, 'min_sequence_number', 'long', false],
      [503, 'added_snapshot_id', 'long', false],
      [504, 'added_files_count', 'int', false],
      [505, 'existing_files_count', 'int', false],
      [506, 'deleted_files_count', 'int', false],
      [512, 'added_rows_count', 'long', false],
      [513, 'existing_rows_count', 'long', false],
      [514, 'deleted_rows_count', 'long', false],
      [507, 'partitions', 'list<508: record r508>', true],
      [519, 'key_metadata', 'bytes', true],
    ]);
    assert.deepEqual(describeRecord('r508', named), [
      [509, 'contains_null', 'boolean', false],
      [518, 'contains_nan', 'boolean', true],
      [510, 'lower_bound', 'bytes', true],
      [511, 'upper_bound', 'bytes', true],
    ]);
    assert.deepEqual(metadata, {
      'snapshot-id': '1',
      'parent-snapshot-id': 'null',
      'sequence-number': '1',
      'format-version': '2',
    });
  });
});
