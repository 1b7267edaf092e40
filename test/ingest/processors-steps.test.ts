import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runChain, useDuck } from './processors-fixture.js';

const root = new URL('../../..', import.meta.url).pathname;
const people = `SELECT * FROM (VALUES
  (1, 'Zoë', 'zoe@example.fr', 3.5),
  (2, NULL, NULL, NULL),
  (3, '李雷', 'li@example.cn', -2.0)
) t(id, name, email, score)`;

describe('column steps', () => {
  const duck = useDuck();

  test('select keeps the listed columns and lineage', async () => {
    const r = await runChain(duck(), people, [{ select: ['name', 'id'] }]);
    assert.deepEqual(r.columns, ['name', 'id', '__raw_object', '__raw_row']);
    assert.deepEqual(
      r.rows.map((x) => x.name),
      ['Zoë', null, '李雷'],
    );
  });

  test('rename and drop; a rename onto an existing name is refused', async () => {
    const r = await runChain(duck(), people, [
      { rename: { name: 'full name' } },
      { drop: ['email', 'score'] },
    ]);
    assert.deepEqual(r.columns, ['id', 'full name', '__raw_object', '__raw_row']);
    await assert.rejects(
      runChain(duck(), people, [{ rename: { name: 'id' } }]),
      /processors\[0\] \(rename\): .*two columns the name "id"/,
    );
    await assert.rejects(runChain(duck(), people, [{ drop: ['__raw_row'] }]), /lineage column "__raw_row"/);
  });

  test('filter drops records where the condition is not true (NULL included)', async () => {
    const r = await runChain(duck(), people, [{ filter: 'score > 0' }]);
    assert.deepEqual(
      r.rows.map((x) => x.id),
      [1],
    );
    assert.equal(r.rejected.length, 0);
  });

  test('filter with reject sends the others to the rejected table', async () => {
    const r = await runChain(duck(), people, [{ filter: { where: 'score > 0', reject: true } }]);
    assert.deepEqual(
      r.rejected.map((x) => [x.__raw_row, x.__reason]),
      [
        [1n, 'filter: not (score > 0)'],
        [2n, 'filter: not (score > 0)'],
      ],
    );
    assert.deepEqual(JSON.parse(r.rejected[1]!.__record), {
      id: 3,
      name: '李雷',
      email: 'li@example.cn',
      score: -2.0,
    });
  });

  test('derive adds and replaces columns; later expressions see earlier ones', async () => {
    const r = await runChain(duck(), people, [
      { derive: { initial: 'left(name, 1)', score: 'coalesce(score, 0) * 2', double_score: 'score * 2' } },
    ]);
    assert.deepEqual(
      r.rows.map((x) => [x.initial, x.score, x.double_score]),
      [
        ['Z', 7, 14],
        [null, 0, 0],
        ['李', -4, -8],
      ],
    );
  });

  test('a type mismatch in an expression fails naming the step', async () => {
    await assert.rejects(
      runChain(duck(), people, [{ derive: { x: 'name + 1' } }]),
      /^InvalidInputError: processors\[0\] \(derive\): Binder Error/,
    );
    await assert.rejects(
      runChain(duck(), people, [{ filter: 'CAST(name AS INTEGER) > 0' }]),
      /^InvalidInputError: processors\[0\] \(filter\): Conversion Error/,
    );
  });

  test('sql runs any SELECT over input; aggregates get NULL lineage', async () => {
    const r = await runChain(duck(), people, [
      {
        sql: 'WITH x AS (SELECT * FROM input WHERE id > 1) SELECT id, upper(name) AS name, __raw_object, __raw_row FROM x',
      },
    ]);
    assert.deepEqual(
      r.rows.map((x) => [x.id, x.name]),
      [
        [2, null],
        [3, '李雷'],
      ],
    );
    const agg = await runChain(duck(), people, [{ sql: 'SELECT count(*) AS n FROM input;' }]);
    assert.deepEqual(agg.rows, [{ n: 3n, __raw_object: null, __raw_row: null }]);
    await assert.rejects(
      runChain(duck(), people, [{ sql: 'DELETE FROM input' }]),
      /processors\[0\] \(sql\): bad SQL/,
    );
  });
});

describe('flatten, dedupe, mask', () => {
  const duck = useDuck();

  const docs = `SELECT * FROM (VALUES
    (1, '{"customer": {"name": "Ana", "address": {"city": "Köln"}}, "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]}'),
    (2, '{"customer": {"name": "Bo"}, "items": []}'),
    (3, 'not json'),
    (4, NULL)
  ) t(id, doc)`;

  test('JSON text becomes columns; arrays explode into records; bad JSON is rejected', async () => {
    const r = await runChain(duck(), docs, [
      { flatten: { column: 'doc', prefix: '' } },
      { flatten: { column: 'items', explode: true } },
      { select: ['id', 'customer_name', 'customer_address_city', 'items_sku', 'items_qty'] },
    ]);
    assert.deepEqual(
      r.rows.map((x) => [
        x.id,
        x.customer_name,
        x.customer_address_city,
        x.items_sku,
        x.items_qty,
        x.__raw_row,
      ]),
      [
        [1, 'Ana', 'Köln', 'a', 2n, 0n],
        [1, 'Ana', 'Köln', 'b', 1n, 0n],
        [2, 'Bo', null, null, null, 1n],
        [4, null, null, null, null, 3n],
      ],
    );
    assert.deepEqual(
      r.rejected.map((x) => [x.__raw_row, x.__reason, x.__processor]),
      [[2n, 'doc: not valid JSON', 'processors[0] (flatten)']],
    );
  });

  test('STRUCT columns flatten to a chosen depth; a clash with a column is refused', async () => {
    const r = await runChain(duck(), `SELECT {'a': 1, 'b': {'c': 'x'}} AS s, 5 AS s_a_dup`, [
      { flatten: { column: 's', depth: 1, separator: '.' } },
    ]);
    assert.deepEqual(r.columns, ['s_a_dup', '__raw_object', '__raw_row', 's.a', 's.b']);
    assert.deepEqual(r.rows[0]?.['s.b'], { c: 'x' });
    await assert.rejects(
      runChain(duck(), `SELECT {'a': 1} AS s, 5 AS s_a`, [{ flatten: { column: 's' } }]),
      /processors\[0\] \(flatten\): flattening s gives the column s_a, which already exists/,
    );
    await assert.rejects(
      runChain(duck(), `SELECT 1 AS n`, [{ flatten: { column: 'n' } }]),
      /processors\[0\] \(flatten\): cannot flatten n \(INTEGER\)/,
    );
  });

  test('dedupe keeps the latest version per key, then the latest arrival', async () => {
    const rows = `SELECT * FROM (VALUES
      (1, 'a', TIMESTAMP '2024-01-01'), (1, 'b', TIMESTAMP '2024-03-01'), (1, 'c', TIMESTAMP '2024-02-01'),
      (2, 'd', NULL), (2, 'e', TIMESTAMP '2024-01-01'), (3, 'f', NULL), (3, 'g', NULL), (NULL, 'h', NULL)
    ) t(k, v, updated_at)`;
    const latest = await runChain(duck(), rows, [{ dedupe: { key: 'k', order_by: 'updated_at' } }]);
    assert.deepEqual(
      latest.rows.map((x) => x.v),
      ['b', 'e', 'g', 'h'],
    );
    const first = await runChain(duck(), rows, [
      { dedupe: { key: ['k'], order_by: ['updated_at'], keep: 'first' } },
    ]);
    assert.deepEqual(
      first.rows.map((x) => x.v),
      ['a', 'e', 'f', 'h'],
    );
    assert.equal(latest.rejected.length, 0);
  });

  test('mask hashes with a salt, redacts and truncates; NULL stays NULL', async () => {
    const r = await runChain(duck(), people, [
      { mask: { columns: ['email'], method: 'hash', salt: 'pepper' } },
      { mask: { columns: ['name'], method: 'truncate', length: 1 } },
      { mask: { columns: ['score'], method: 'redact' } },
    ]);
    const [hash] = await duck().all<{ h: string }>("SELECT sha256('pepper' || 'zoe@example.fr') AS h");
    assert.equal(r.rows[0]?.email, hash?.h);
    assert.match(String(r.rows[0]?.email), /^[0-9a-f]{64}$/);
    assert.deepEqual(
      r.rows.map((x) => [x.name, x.score, x.email === null]),
      [
        ['Z', '***', false],
        [null, null, true],
        ['李', '***', false],
      ],
    );
  });
});

describe('ts step', () => {
  const duck = useDuck();

  const rows = `SELECT i::INTEGER AS id, CASE WHEN i % 3 = 0 THEN NULL ELSE 'n' || i END AS name, i = 4 AS skip FROM range(1, 6) t(i)`;

  test('a TypeScript module runs over batches; new columns are typed; lineage follows records', async () => {
    const r = await runChain(
      duck(),
      rows,
      [
        {
          ts: {
            module: 'test/fixtures/processors/score.ts',
            batch_size: 2,
            columns: { score: 'integer', tags: 'integer[]' },
          },
        },
      ],
      root,
    );
    assert.deepEqual(
      r.rows.map((x) => [x.id, x.score, x.label, x.tags, x.__raw_row]),
      [
        [1, 10, 'n1!', [1], 0n],
        [2, 20, 'n2!', [2], 1n],
        [3, 30, '∅!', [3], 2n],
        [5, 50, 'n5!', [5], 4n],
      ],
    );
  });

  test('records returned without lineage take it from the same position; a missing export is named', async () => {
    const r = await runChain(
      duck(),
      rows,
      [{ ts: { module: 'test/fixtures/processors/score.ts', export: 'renameOnly' } }],
      root,
    );
    assert.deepEqual(r.columns, ['ident', '__raw_object', '__raw_row']);
    assert.deepEqual(
      r.rows.map((x) => [x.ident, x.__raw_row]),
      [1, 2, 3, 4, 5].map((n) => [n, BigInt(n - 1)]),
    );
    await assert.rejects(
      runChain(duck(), rows, [{ ts: { module: 'test/fixtures/processors/score.ts', export: 'nope' } }], root),
      /processors\[0\] \(ts\): test\/fixtures\/processors\/score.ts has no exported function "nope"/,
    );
  });

  test('an edited module is loaded again by the next run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-ts-step-'));
    try {
      const file = join(dir, 'step.mjs');
      await writeFile(file, 'export default (b) => b.map((r) => ({ ...r, v: 1 }));');
      const first = await runChain(duck(), rows, [{ ts: { module: 'step.mjs' } }], dir);
      await writeFile(file, 'export default (b) => b.map((r) => ({ ...r, v: 2 }));');
      await utimes(file, new Date(), new Date(Date.now() + 5000));
      const second = await runChain(duck(), rows, [{ ts: { module: 'step.mjs' } }], dir);
      assert.deepEqual([first.rows[0]?.v, second.rows[0]?.v], [1, 2]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a throwing function fails the step with its message', async () => {
    await assert.rejects(
      runChain(
        duck(),
        rows,
        [{ filter: 'id > 0' }, { ts: { module: 'test/fixtures/processors/broken.mjs' } }],
        root,
      ),
      /processors\[1\] \(ts\): test\/fixtures\/processors\/broken.mjs failed: cannot score record 2/,
    );
  });
});
