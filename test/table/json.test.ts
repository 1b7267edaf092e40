import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseJson, stringifyJson } from '../../src/table/json.js';
import { InvalidInputError } from '../../src/util/index.js';

describe('lossless JSON', () => {
  test('integers outside the safe range become bigints, others stay numbers', () => {
    const v = parseJson(
      '{"a": 9007199254740993, "b": 42, "c": -9223372036854775808, "d": 1.5, "e": 1e3, "f": [true, null, "x\\u00e9"]}',
    );
    assert.deepEqual(v, {
      a: 9007199254740993n,
      b: 42,
      c: -9223372036854775808n,
      d: 1.5,
      e: 1000,
      f: [true, null, 'xé'],
    });
  });

  test('bigints are written back as bare numbers, undefined members omitted', () => {
    const text = stringifyJson({ id: 3051729675574597004n, n: 1, s: 'q"', skip: undefined, list: [1n, {}] });
    assert.equal(text, '{"id":3051729675574597004,"n":1,"s":"q\\"","list":[1,{}]}');
    assert.deepEqual(parseJson(text), { id: 3051729675574597004n, n: 1, s: 'q"', list: [1, {}] });
  });

  test('indentation', () => {
    assert.equal(stringifyJson({ a: [1] }, { indent: 2 }), '{\n  "a": [\n    1\n  ]\n}');
  });

  test('malformed JSON names the line', () => {
    assert.throws(
      () => parseJson('{\n"a": 1,\n}'),
      (e: unknown) => e instanceof InvalidInputError && /line 3/.test(e.message),
    );
    assert.throws(() => parseJson('[1] x'), InvalidInputError);
    assert.throws(() => parseJson('"abc'), InvalidInputError);
  });

  test('keys like __proto__ are plain data', () => {
    const v = parseJson('{"__proto__": {"x": 1}}') as Record<string, unknown>;
    assert.deepEqual(Object.keys(v), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });
});
