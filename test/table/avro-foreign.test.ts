import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { writeContainer } from '../../src/table/avro/container.js';
import { decodeManifest } from '../../src/table/avro/manifest.js';
import { decodeManifestList } from '../../src/table/avro/manifest-list.js';

const opt = (name: string, type: unknown, id: number) => ({
  name,
  type: ['null', type],
  default: null,
  'field-id': id,
});
const req = (name: string, type: unknown, id: number) => ({ name, type, 'field-id': id });
const kv = (k: number, v: number, value: string) => ({
  type: 'array',
  logicalType: 'map',
  items: { type: 'record', name: `k${k}_v${v}`, fields: [req('key', 'int', k), req('value', value, v)] },
});

describe('reading manifests written by other implementations', () => {
  test('fields are read by id: other names, extra fields, missing optional fields, lower-case format', async () => {
    const schema = {
      type: 'record',
      name: 'manifest_entry',
      fields: [
        req('status', 'int', 0),
        opt('snapshot_id', 'long', 1),
        opt('data_sequence_number', 'long', 3),
        opt('file_sequence_number', 'long', 4),
        req(
          'data_file',
          {
            type: 'record',
            name: 'r2',
            fields: [
              req('content', 'int', 134),
              req('file_path', 'string', 100),
              req('file_format', 'string', 101),
              req(
                'partition',
                {
                  type: 'record',
                  name: 'r102',
                  fields: [
                    opt('day_col', { type: 'int', logicalType: 'date' }, 1000),
                    opt('dec', { type: 'fixed', name: 'decimal_9_2', size: 4 }, 1001),
                  ],
                },
                102,
              ),
              req('record_count', 'long', 103),
              req('file_size_in_bytes', 'long', 104),
              opt('block_size_in_bytes', 'long', 105),
              opt('value_counts', kv(119, 120, 'long'), 109),
              opt('lower_bounds', kv(126, 127, 'bytes'), 125),
              opt('equality_ids', { type: 'array', items: 'long', 'element-id': 136 }, 135),
            ],
          },
          2,
        ),
      ],
    };
    const record = {
      status: 1,
      snapshot_id: 9223372036854775807n,
      data_sequence_number: null,
      file_sequence_number: null,
      data_file: {
        content: 0,
        file_path: 's3://b/t/data/x.parquet',
        file_format: 'parquet',
        partition: { day_col: 19000, dec: Buffer.from([0xff, 0xff, 0xfb, 0xe6]) },
        record_count: 7n,
        file_size_in_bytes: 100n,
        block_size_in_bytes: 67108864n,
        value_counts: [{ key: 1, value: 7n }],
        lower_bounds: [{ key: 1, value: Buffer.from([1, 0, 0, 0]) }],
        equality_ids: null,
      },
    };
    const tableSchema = {
      type: 'struct',
      'schema-id': 0,
      fields: [
        { id: 1, name: 'd', required: false, type: 'date' },
        { id: 2, name: 'p', required: false, type: 'decimal(9,2)' },
      ],
    };
    const specFields = [
      { name: 'day_col', transform: 'identity', 'source-id': 1, 'field-id': 1000 },
      { name: 'dec', transform: 'identity', 'source-id': 2, 'field-id': 1001 },
    ];
    const buf = await writeContainer(schema, [record], {
      schema: JSON.stringify(tableSchema),
      'partition-spec': JSON.stringify(specFields),
      'partition-spec-id': '0',
      'format-version': '2',
    });
    const m = decodeManifest(buf);
    const e = m.entries[0];
    assert.equal(e?.snapshot_id, 9223372036854775807n);
    assert.equal(e?.sequence_number, null);
    assert.equal(e?.data_file.file_format, 'PARQUET');
    assert.deepEqual(e?.data_file.partition, { day_col: 19000, dec: -1050n });
    assert.deepEqual(e?.data_file.value_counts, new Map([[1, 7]]));
    assert.equal(e?.data_file.column_sizes, null);
    assert.equal(e?.data_file.record_count, 7);
    assert.equal(m.content, 'data');
  });

  test('a v1 manifest list: sequence numbers and content default to 0, missing counts are null', async () => {
    const schema = {
      type: 'record',
      name: 'manifest_file',
      fields: [
        req('manifest_path', 'string', 500),
        req('manifest_length', 'long', 501),
        req('partition_spec_id', 'int', 502),
        req('added_snapshot_id', 'long', 503),
        opt('added_data_files_count', 'int', 504),
        opt('existing_data_files_count', 'int', 505),
        opt('deleted_data_files_count', 'int', 506),
      ],
    };
    const buf = await writeContainer(
      schema,
      [
        {
          manifest_path: 's3://m.avro',
          manifest_length: 10n,
          partition_spec_id: 0,
          added_snapshot_id: 5n,
          added_data_files_count: 2,
          existing_data_files_count: null,
          deleted_data_files_count: 0,
        },
      ],
      { 'snapshot-id': '5', 'parent-snapshot-id': 'null', 'format-version': '1' },
    );
    const list = decodeManifestList(buf);
    assert.equal(list.formatVersion, 1);
    assert.equal(list.parentSnapshotId, null);
    const f = list.files[0];
    assert.equal(f?.sequence_number, 0);
    assert.equal(f?.content, 0);
    assert.equal(f?.added_files_count, 2);
    assert.equal(f?.existing_files_count, null);
    assert.equal(f?.added_rows_count, null);
  });
});
