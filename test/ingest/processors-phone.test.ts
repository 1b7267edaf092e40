import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { phoneE164 } from '../../src/ingest/processors/index.js';
import { runChain, useDuck } from './processors-fixture.js';

const numbers = `SELECT * FROM (VALUES
  ('06 12 34 56 78', 'FR'),
  ('01 42 68 53 00', 'fr'),
  ('0151 23456789', 'DE'),
  ('030 901820', 'DE'),
  ('020 7946 0958', 'GB'),
  ('07400 123456', 'GB'),
  ('(415) 555-2671', 'US'),
  ('06 6982 0000', 'IT'),
  ('347 123 4567', 'IT'),
  ('612 34 56 78', 'ES'),
  ('+44 20 7946 0958', 'ES'),
  ('123', 'FR'),
  ('06 12 34 56 78 99 99', 'FR'),
  ('555-0000', 'US'),
  ('0612345678', 'XX'),
  (NULL, 'FR'),
  ('   ', 'DE'),
  ('0612345678', NULL)
) t(phone, country)`;

describe('phone', () => {
  const duck = useDuck();

  test('numbers of six countries normalise to E.164; invalid ones are rejected with the reason', async () => {
    const r = await runChain(duck(), numbers, [{ phone: { column: 'phone', country_column: 'country' } }]);
    assert.deepEqual(
      r.rows.map((x) => [x.__raw_row, x.phone]),
      [
        [0n, '+33612345678'],
        [1n, '+33142685300'],
        [2n, '+4915123456789'],
        [3n, '+4930901820'],
        [4n, '+442079460958'],
        [5n, '+447400123456'],
        [6n, '+14155552671'],
        [7n, '+390669820000'],
        [8n, '+393471234567'],
        [9n, '+34612345678'],
        [10n, '+442079460958'],
        [15n, null],
        [16n, null],
      ],
    );
    assert.deepEqual(
      r.rejected.map((x) => [x.__raw_row, x.__reason]),
      [
        [11n, 'phone: "123" is not a valid phone number for FR (too-short)'],
        [12n, 'phone: "06 12 34 56 78 99 99" is not a valid phone number for FR (too-long)'],
        [13n, 'phone: "555-0000" is not a valid phone number for US (invalid)'],
        [14n, 'phone: "0612345678" is not a valid phone number for XX (invalid-country-code)'],
        [17n, 'phone: "0612345678" is not a valid phone number (no country) (invalid-country-code)'],
      ],
    );
    assert.deepEqual(JSON.parse(r.rejected[0]!.__record), { phone: '123', country: 'FR' });
    assert.equal(r.rejected[0]?.__processor, 'processors[0] (phone)');
  });

  test('default_country fills in a missing country; output goes to another column', async () => {
    const r = await runChain(duck(), numbers, [
      { filter: 'country IS NULL' },
      { phone: { column: 'phone', country_column: 'country', default_country: 'fr', output: 'phone_e164' } },
    ]);
    assert.deepEqual(
      r.rows.map((x) => [x.phone, x.phone_e164]),
      [['0612345678', '+33612345678']],
    );
    const noColumn = await runChain(duck(), `SELECT '0151 23456789' AS p`, [
      { phone: { column: 'p', default_country: 'DE' } },
    ]);
    assert.equal(noColumn.rows[0]?.p, '+4915123456789');
  });

  test('on_invalid keep keeps the value as written; null clears it; nothing is rejected', async () => {
    const keep = await runChain(duck(), numbers, [
      { phone: { column: 'phone', country_column: 'country', on_invalid: 'keep' } },
    ]);
    assert.equal(keep.rows.length, 18);
    assert.equal(keep.rejected.length, 0);
    assert.equal(keep.rows[11]?.phone, '123');
    assert.equal(keep.rows[0]?.phone, '+33612345678');
    const cleared = await runChain(duck(), numbers, [
      { phone: { column: 'phone', country_column: 'country', on_invalid: 'null', output: 'e164' } },
    ]);
    assert.equal(cleared.rows[11]?.e164, null);
    assert.equal(cleared.rows[11]?.phone, '123');
  });

  test('numbers stored as integers are read as text; unknown columns are named', async () => {
    const r = await runChain(duck(), `SELECT 4915123456789::BIGINT AS p, 'DE' AS c`, [
      { derive: { p: "'+' || p" } },
      { phone: { column: 'p', country_column: 'c' } },
    ]);
    assert.equal(r.rows[0]?.p, '+4915123456789');
    await assert.rejects(
      runChain(duck(), numbers, [{ phone: { column: 'phone', country_column: 'land' } }]),
      /processors\[0\] \(phone\): country_column names unknown column "land"/,
    );
  });

  test('phoneE164 marks invalid numbers with the reason', () => {
    assert.equal(phoneE164('06 12 34 56 78', 'FR'), '+33612345678');
    assert.equal(phoneE164('123', 'FR'), '!too-short');
  });
});
