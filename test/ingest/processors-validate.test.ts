import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runChain, useDuck } from './processors-fixture.js';

const orders = `SELECT * FROM (VALUES
  ('1', 'new', 'a@x.fr', '10.50'),
  ('2', 'paid', 'b@x.de', '-1'),
  ('x3', 'lost', 'nope', '5'),
  (NULL, 'paid', NULL, NULL),
  ('5', NULL, 'é@ü.com', '12.345'),
  ('1', 'shipped', 'c@x.fr', '3')
) t(order_id, status, email, amount)`;

describe('validate and cast', () => {
  const duck = useDuck();

  test('every failed rule is a reason; good records get the declared types', async () => {
    const r = await runChain(duck(), orders, [
      {
        validate: {
          schema: {
            order_id: { type: 'bigint', required: true, unique: true },
            status: { enum: ['new', 'paid', 'shipped'] },
            email: { regex: '^[^@]+@[^@]+$' },
            amount: { type: 'decimal(12,2)', min: 0 },
          },
        },
      },
    ]);
    assert.deepEqual(
      r.rows.map((x) => [x.order_id, x.status, x.email, x.amount, x.__raw_row]),
      [
        [1n, 'new', 'a@x.fr', 10.5, 0n],
        [5n, null, 'é@ü.com', 12.35, 4n],
      ],
    );
    const reasons = r.rejected.map((x) => [x.__raw_row, x.__reason]);
    assert.deepEqual(reasons, [
      [1n, 'amount: "-1" is below the minimum 0'],
      [
        2n,
        'order_id: "x3" is not a bigint; status: "lost" is not one of new, paid, shipped; email: "nope" does not match ^[^@]+@[^@]+$',
      ],
      [3n, 'order_id: required'],
      [5n, 'order_id: duplicate value in the batch'],
    ]);
    for (const x of r.rejected) {
      assert.equal(x.__processor, 'processors[0] (validate)');
      assert.equal(x.__raw_object, 'raw/batch-1.json');
    }
    // The original record, as text, before any cast.
    assert.deepEqual(JSON.parse(r.rejected[1]!.__record), {
      order_id: 'x3',
      status: 'lost',
      email: 'nope',
      amount: '5',
    });
  });

  test('a declared column missing from the input counts as NULL and is added with its type', async () => {
    const r = await runChain(duck(), `SELECT * FROM (VALUES (1), (2)) t(id)`, [
      { validate: { schema: { note: { type: 'varchar' }, id: { max: 1 } } } },
    ]);
    assert.deepEqual(r.columns, ['id', '__raw_object', '__raw_row', 'note']);
    assert.deepEqual(
      r.rows.map((x) => [x.id, x.note]),
      [[1, null]],
    );
    assert.equal(r.rejected[0]?.__reason, 'id: "2" is above the maximum 1');
    const req = await runChain(duck(), `SELECT 1 AS id`, [
      { validate: { schema: { note: { required: true } } } },
    ]);
    assert.equal(req.rejected[0]?.__reason, 'note: required');
  });

  test('numeric enums, string bounds in the declared type, booleans', async () => {
    const r = await runChain(
      duck(),
      `SELECT * FROM (VALUES (1, '2024-01-05', 'true'), (3, '2023-12-31', 'maybe')) t(p, d, b)`,
      [
        {
          validate: {
            schema: { p: { enum: [1, 2] }, d: { type: 'date', min: '2024-01-01' }, b: { type: 'boolean' } },
          },
        },
      ],
    );
    assert.equal(r.rows.length, 1);
    assert.equal(r.rows[0]?.b, true);
    assert.equal(
      r.rejected[0]?.__reason,
      'p: "3" is not one of 1, 2; d: "2023-12-31" is below the minimum 2024-01-01; b: "maybe" is not a boolean',
    );
  });

  test('unique on a later column keeps the first arrival and adds no helper columns', async () => {
    const r = await runChain(
      duck(),
      `SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'a'), (4, NULL), (5, NULL)) t(id, code)`,
      [{ validate: { schema: { id: { required: true }, code: { unique: true } } } }],
    );
    assert.deepEqual(r.columns, ['id', 'code', '__raw_object', '__raw_row']);
    assert.deepEqual(
      r.rows.map((x) => x.id),
      [1, 2, 4, 5],
    );
    assert.deepEqual(
      r.rejected.map((x) => [x.__raw_row, x.__reason]),
      [[2n, 'code: duplicate value in the batch']],
    );
  });

  test('cast rejects values that do not fit and types the rest', async () => {
    const r = await runChain(
      duck(),
      `SELECT * FROM (VALUES ('1', '2.5'), ('2', 'abc'), (NULL, NULL)) t(a, b)`,
      [{ cast: { a: 'integer', b: 'double' } }],
    );
    assert.deepEqual(
      r.rows.map((x) => [x.a, x.b]),
      [
        [1, 2.5],
        [null, null],
      ],
    );
    assert.equal(r.rejected[0]?.__reason, 'b: "abc" is not a double');
    assert.equal(r.rejected[0]?.__processor, 'processors[0] (cast)');
  });

  test('empty input gives empty tables with the output schema', async () => {
    const r = await runChain(duck(), `SELECT 'x' AS a WHERE false`, [
      { cast: { a: 'integer' } },
      { derive: { b: 'a + 1' } },
    ]);
    assert.deepEqual(r.rows, []);
    assert.deepEqual(r.rejected, []);
    assert.deepEqual(r.columns, ['a', '__raw_object', '__raw_row', 'b']);
  });
});
