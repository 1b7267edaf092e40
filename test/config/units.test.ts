import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration, parseSize } from '../../src/config/index.js';

test('durations: units, combinations and bare milliseconds; anything else is undefined', () => {
  const cases: [string, number | undefined][] = [
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['5 min', 300_000],
    ['12h', 43_200_000],
    ['30d', 2_592_000_000],
    ['1w', 604_800_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['100', 100],
    ['soon', undefined],
    ['5x', undefined],
    ['5s garbage', undefined],
    ['', undefined],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('sizes keep their meaning', () => {
  assert.equal(parseSize('10GiB'), 10 * 1024 ** 3);
  assert.equal(parseSize('512MB'), 512e6);
  assert.equal(parseSize('lots'), undefined);
});
