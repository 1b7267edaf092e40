import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { processors } from '../../src/ingest/processors/index.js';
import { InvalidInputError } from '../../src/util/index.js';
import { runChain, useDuck } from './processors-fixture.js';

function issues(steps: unknown): string[] {
  const r = processors.schema.safeParse(steps);
  assert.equal(r.success, false);
  return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('processors schema', () => {
  test('a valid chain parses, with defaults applied', () => {
    const steps = processors.schema.parse([
      {
        validate: {
          schema: { order_id: { type: 'bigint', required: true }, status: { enum: ['new', 'paid'] } },
        },
      },
      { phone: { column: 'phone', country_column: 'country' } },
      { dedupe: { key: ['order_id'], order_by: 'updated_at' } },
      { mask: { columns: ['email'], method: 'hash', salt: 's3cret' } },
      { filter: 'amount > 0' },
    ]);
    assert.deepEqual(steps[1], {
      phone: { column: 'phone', country_column: 'country', on_invalid: 'reject' },
    });
    assert.deepEqual(steps[2], { dedupe: { key: ['order_id'], order_by: 'updated_at', keep: 'latest' } });
  });

  test('an unknown processor is reported at its step', () => {
    const found = issues([{ filter: 'a > 1' }, { filtr: 'a > 1' }]);
    assert.equal(found.length, 1);
    assert.match(found[0]!, /^1: unknown processor "filtr"; processors are validate, cast/);
  });

  test('bad options name the step, the processor and the option', () => {
    assert.match(
      issues([{ select: ['a'] }, { phone: { column: 'p', default_country: 'France' } }])[0]!,
      /^1\.phone\.default_country: /,
    );
    assert.match(
      issues([{ mask: { columns: ['e'], method: 'hash' } }])[0]!,
      /^0\.mask\.salt: hash needs a salt/,
    );
    assert.match(
      issues([{ validate: { schema: { a: { type: 'int; DROP TABLE x' } } } }])[0]!,
      /^0\.validate\.schema\.a\.type: /,
    );
    assert.match(issues([{ dedupe: { key: [], order_by: 'x' } }])[0]!, /^0\.dedupe\.key/);
    assert.match(issues([{ validate: { schema: {}, extra: 1 } }])[0]!, /^0\.validate: .*extra/);
  });

  test('a step naming two processors, or none, is refused', () => {
    assert.match(
      issues([{ select: ['a'], drop: ['b'] }])[0]!,
      /^0: a step names one processor, found select and drop/,
    );
    assert.match(issues([{}])[0]!, /^0: a step names one processor: validate, cast/);
  });
});

describe('processors: bad chains fail before any data work', () => {
  const duck = useDuck();

  const rows = `SELECT * FROM (VALUES (1, 'a'), (2, 'b')) t(id, name)`;

  async function failure(steps: unknown[]): Promise<InvalidInputError> {
    const err = await runChain(duck(), rows, steps).then(
      () => assert.fail('the chain should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof InvalidInputError, `expected InvalidInputError, got ${String(err)}`);
    return err;
  }

  test('an invalid spec lists its issue paths', async () => {
    const err = await failure([{ select: ['id'] }, { nope: true }]);
    assert.match(err.message, /processors\[1\]: /);
  });

  test('a bad SQL expression names the step and quotes DuckDB', async () => {
    const err = await failure([{ select: ['id', 'name'] }, { derive: { x: 'id +' } }, { filter: 'id >> 1' }]);
    assert.match(err.message, /^processors\[1\] \(derive\): bad expression of x: .*syntax error/i);
  });

  test('an unknown column in an expression names the step', async () => {
    const err = await failure([{ filter: 'id > 0' }, { drop: ['name'] }, { filter: "name = 'a'" }]);
    assert.match(err.message, /^processors\[2\] \(filter\): Binder Error: .*name/);
  });

  test('an unknown column in an option names the step and lists the columns', async () => {
    const err = await failure([{ rename: { name: 'title' } }, { dedupe: { key: 'name', order_by: 'id' } }]);
    assert.match(err.message, /^processors\[1\] \(dedupe\): key names unknown column "name"/);
    assert.match(err.message, /columns at this step: id, title/);
  });

  test('a second statement after ";" is refused', async () => {
    const err = await failure([{ filter: 'id > 0; DROP TABLE src' }]);
    assert.match(err.message, /^processors\[0\] \(filter\): /);
  });

  test('a bad type in validate names the step', async () => {
    const err = await failure([{ validate: { schema: { id: { type: 'bigintt' } } } }]);
    assert.match(err.message, /^processors\[0\] \(validate\): .*bigintt/i);
  });

  test('a missing ts module or export names the step', async () => {
    const err = await failure([{ ts: { module: 'nowhere/step.mjs' } }]);
    assert.match(err.message, /^processors\[0\] \(ts\): /);
  });

  test('the planning run leaves no tables behind and touches no data', async () => {
    await failure([{ filter: 'id > 0' }, { filter: 'nope = 1' }]);
    const left = await duck().all<{ n: bigint }>(
      "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name LIKE '__sluice_p%'",
    );
    assert.equal(left[0]?.n, 0n);
  });
});
