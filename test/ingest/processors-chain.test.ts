import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { QueryCancelledError } from '../../src/duck/index.js';
import { type ProcessorSpec, processors } from '../../src/ingest/processors/index.js';
import { silentLogger } from '../../src/observe/index.js';
import { runChain, useDuck } from './processors-fixture.js';

const orders = `SELECT * FROM (VALUES
  ('1', 'new',     '06 12 34 56 78', 'FR', 'ana@example.fr', TIMESTAMP '2024-01-01 10:00'),
  ('1', 'paid',    '06 12 34 56 78', 'FR', 'ana@example.fr', TIMESTAMP '2024-01-02 10:00'),
  ('2', 'shipped', '0151 23456789',  'DE', 'jörg@example.de', TIMESTAMP '2024-01-01 09:00'),
  ('3', 'paid',    '123',            'GB', 'bo@example.uk',   TIMESTAMP '2024-01-03 09:00'),
  ('4', 'gone',    '212-456-7890',   'US', 'cy@example.com',  TIMESTAMP '2024-01-03 09:00'),
  ('5', 'new',     NULL,             'IT', NULL,              TIMESTAMP '2024-01-04 09:00')
) t(order_id, status, phone, country, email, updated_at)`;

describe('a chain of steps', () => {
  const duck = useDuck();

  test('validate, phone, dedupe and mask run in order; rejects of every step are kept with lineage', async () => {
    const r = await runChain(duck(), orders, [
      {
        validate: {
          schema: {
            order_id: { type: 'bigint', required: true },
            status: { enum: ['new', 'paid', 'shipped'] },
          },
        },
      },
      { phone: { column: 'phone', country_column: 'country' } },
      { dedupe: { key: ['order_id'], order_by: 'updated_at' } },
      { mask: { columns: ['email'], method: 'redact', replacement: '<email>' } },
      { derive: { is_paid: "status = 'paid'" } },
      { select: ['order_id', 'status', 'phone', 'email', 'is_paid'] },
    ]);
    assert.deepEqual(
      r.rows.map((x) => [x.order_id, x.status, x.phone, x.email, x.is_paid, x.__raw_row]),
      [
        [1n, 'paid', '+33612345678', '<email>', true, 1n],
        [2n, 'shipped', '+4915123456789', '<email>', false, 2n],
        [5n, 'new', null, null, false, 5n],
      ],
    );
    assert.deepEqual(
      r.rejected.map((x) => [x.__raw_row, x.__processor, x.__reason, x.__raw_object]),
      [
        [
          3n,
          'processors[1] (phone)',
          'phone: "123" is not a valid phone number for GB (too-short)',
          'raw/batch-1.json',
        ],
        [
          4n,
          'processors[0] (validate)',
          'status: "gone" is not one of new, paid, shipped',
          'raw/batch-1.json',
        ],
      ],
    );
    // The record as it entered the phone step: order_id already cast by validate.
    assert.equal(JSON.parse(r.rejected[0]!.__record).order_id, 3);
  });

  test('no steps: the output is a copy of the input', async () => {
    const r = await runChain(duck(), orders, []);
    assert.equal(r.rows.length, 6);
    assert.deepEqual(r.rejected, []);
  });

  test('an input without lineage columns is refused', async () => {
    await duck().withConnection(async (conn) => {
      await conn.run('CREATE TEMP TABLE bare AS SELECT 1 AS a');
      await assert.rejects(
        processors.apply({ conn, log: silentLogger, projectDir: '.' }, 'bare', []),
        /lacks the lineage column __raw_object/,
      );
    });
  });

  test('an abort stops the chain, leaves no temp tables and the connection usable', async () => {
    await duck().withConnection(async (conn) => {
      await conn.run(
        `CREATE TEMP TABLE big AS SELECT i AS id, 'o' AS __raw_object, i AS __raw_row FROM range(3000000) t(i)`,
      );
      const ac = new AbortController();
      const running = processors.apply(
        { conn, log: silentLogger, projectDir: '.', signal: ac.signal },
        'big',
        [
          { derive: { x: 'md5(id::VARCHAR)' } },
          { dedupe: { key: 'x', order_by: 'id' } },
          { derive: { y: 'md5(x)' } },
        ] as ProcessorSpec[],
      );
      setTimeout(() => ac.abort(), 50);
      await assert.rejects(
        running,
        (err: unknown) => err instanceof QueryCancelledError || (err as Error).name === 'AbortError',
      );
      const left = await conn.all<{ n: bigint }>(
        "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name LIKE '__sluice_p%'",
      );
      assert.equal(left[0]?.n, 0n);
      const [one] = await conn.all<{ n: number }>('SELECT 1 AS n');
      assert.equal(one?.n, 1);
      await conn.run('DROP TABLE big');
    });
  });
});
