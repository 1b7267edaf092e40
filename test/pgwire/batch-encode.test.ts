import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DuckDBDecimalValue, DuckDBInstance } from '@duckdb/node-api';
import {
  CopyLineWriter,
  dataRows,
  dateText,
  decimalText,
  rowsAsBatch,
  rowWriters,
} from '../../src/serve/pgwire/batch-encode.js';
import { toText } from '../../src/serve/pgwire/encode.js';
import { dataRow } from '../../src/serve/pgwire/messages.js';
import { OID } from '../../src/serve/pgwire/oids.js';

describe('batch encoding', () => {
  test('dates and decimals format exactly as DuckDB values do, across eras and signs', async () => {
    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    try {
      const reader = await conn.runAndReadAll(`
        SELECT DATE '0001-01-01' + (i * 3659)::INTEGER AS d,
          ((i - 500) / 10)::DECIMAL(4,1) AS x4, ((i * 7 - 3500) / 1000)::DECIMAL(9,4) AS x9,
          ((i * 7919 - 5000000) / 1000)::DECIMAL(18,4) AS x18,
          ((i - 500) * 1e20 / 7)::DECIMAL(38,10) AS x38, (i - 500)::DECIMAL(10,0) AS x0
        FROM range(0, 1000) t(i)
        UNION ALL SELECT DATE '2000-02-29', 0.1, 0.0001, -0.0001, 0.0000000001, 0
        UNION ALL SELECT DATE '1900-03-01', -0.5, -1, 1, -1, -1
        UNION ALL SELECT DATE '0044-03-15' - 20000, 0, 0, 0, 0, 0
        UNION ALL SELECT 'infinity'::DATE, 0, 0, 0, 0, 0
        UNION ALL SELECT '-infinity'::DATE, 0, 0, 0, 0, 0`);
      const rows = reader.getRows();
      assert.equal(rows.length, 1005);
      for (const [d, ...decimals] of rows) {
        assert.equal(dateText(d ?? null), toText(d ?? null, OID.date));
        for (const x of decimals) {
          assert.ok(x instanceof DuckDBDecimalValue, `${x} is a DECIMAL value`);
          assert.equal(decimalText(x), x.toString());
        }
      }
    } finally {
      conn.closeSync();
      duck.closeSync();
    }
  });

  test('a batch of DataRows equals the rows encoded one by one, in text and binary', () => {
    const rows = [
      [1, 'ascii', 2.5, 10n, true],
      [null, 'ünïcödé ✓ and a much longer string than thirty-two characters', -0.125, -3n, false],
      [-7, '', Number.NaN, null, null],
    ];
    const columns = [OID.int4, OID.text, OID.float8, OID.int8, OID.bool].map((oid, i) => ({
      type: { oid },
      format: i % 2,
    }));
    const batch = rowsAsBatch(rows, 5);
    const expected = Buffer.concat(
      rows.map((row) =>
        dataRow(
          row.map((v, i) => {
            if (v === null) return null;
            if (i % 2 === 0) return Buffer.from(toText(v, columns[i]?.type.oid as number));
            const b = Buffer.alloc(i === 1 ? Buffer.byteLength(v as string) : 8);
            if (i === 1) b.write(v as string);
            else b.writeBigInt64BE(v as bigint);
            return b;
          }),
        ),
      ),
    );
    assert.deepEqual(dataRows(batch, 0, 3, rowWriters(columns)), expected);
    // A slice of the batch (Execute with a row limit) is the matching slice of the bytes.
    const first = dataRows(batch, 0, 1, rowWriters(columns));
    assert.deepEqual(dataRows(batch, 1, 3, rowWriters(columns)), expected.subarray(first.length));
  });

  test('COPY lines escape delimiters, specials and NULL markers in text and CSV', () => {
    const rows = [
      ['a\tb', 'x\\y\nz', 1],
      ['', null, -2],
      ['say "hi", ok', 'ünï', 3],
    ];
    const batch = rowsAsBatch(rows, 3);
    const oids = [OID.text, OID.text, OID.int4];
    const body = (buf: Buffer) => {
      const lines: string[] = [];
      for (let at = 0; at < buf.length; ) {
        assert.equal(buf[at], 0x64);
        const len = buf.readInt32BE(at + 1);
        lines.push(buf.toString('utf8', at + 5, at + 1 + len));
        at += 1 + len;
      }
      return lines.join('');
    };
    const text = new CopyLineWriter(oids, { csv: false, header: false, delimiter: '\t', null: '\\N' });
    assert.equal(body(text.lines(batch)), 'a\\tb\tx\\\\y\\nz\t1\n\t\\N\t-2\nsay "hi", ok\tünï\t3\n');
    const csv = new CopyLineWriter(oids, { csv: true, header: false, delimiter: ',', null: '' });
    assert.equal(body(csv.lines(batch)), 'a\tb,"x\\y\nz",1\n"",,-2\n"say ""hi"", ok",ünï,3\n');
  });
});
