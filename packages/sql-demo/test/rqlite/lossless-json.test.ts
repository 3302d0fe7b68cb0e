import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonParseError, parseLosslessJson } from '../../src/rqlite/json/lossless-json-parse.js';
import { JsonStringifyError, stringifyLosslessJson } from '../../src/rqlite/json/lossless-json-stringify.js';

test('integers beyond 2^53 parse as exact bigints and write back as the same digits', () => {
  for (const digits of ['9223372036854775807', '-9223372036854775808', '9007199254740993', '-9007199254740993', '18446744073709551616']) {
    const parsed = parseLosslessJson(`[${digits}]`);
    assert.deepEqual(parsed, [BigInt(digits)]);
    assert.equal(stringifyLosslessJson(parsed), `[${digits}]`);
  }
});

test('everything else parses exactly as JSON.parse does', () => {
  const texts = [
    '9007199254740991',
    '-9007199254740991',
    '0',
    '-0',
    '1.5',
    '1.0',
    '1e3',
    '-2.5E-3',
    '1e400',
    '"a\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"',
    ' { "a" : [ true , false , null , {} , [] ] , "b" : { "c" : "d" } } ',
    '{"a":1,"a":2}',
    '"\u2028 é 😀"',
  ];
  for (const text of texts) assert.deepEqual(parseLosslessJson(text), JSON.parse(text), text);
  assert.ok(Object.is(parseLosslessJson('-0'), -0));
});

test('"__proto__" is an own key, as with JSON.parse, and does not change the prototype', () => {
  const parsed = parseLosslessJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
  assert.deepEqual(Object.keys(parsed), ['__proto__']);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

test("bigint: 'always' makes every integer token a bigint, so 1 and 1.0 stay apart", () => {
  assert.deepEqual(parseLosslessJson('[1, 1.0, 1e0, -0, 20]', { bigint: 'always' }), [1n, 1, 1, 0n, 20n]);
});

test('nested values round-trip through the writer', () => {
  const text = '{"a":[1,2.5,-9223372036854775808,{"b":null,"c":"x"}],"d":true,"e":9223372036854775807}';
  assert.equal(stringifyLosslessJson(parseLosslessJson(text)), text);
});

test('invalid JSON is refused with the position of the problem', () => {
  const cases: [string, number, RegExp][] = [
    ['', 0, /end of input/],
    ['[1,]', 3, /expected a JSON value/],
    ['[1 2]', 3, /expected ']'/],
    ['{"a" 1}', 5, /expected ':'/],
    ['{a:1}', 1, /string key/],
    ['"abc', 4, /Unterminated string/],
    ['"a\nb"', 2, /Control character/],
    ['"\\x"', 1, /Bad escape/],
    ['"\\u12G4"', 1, /Bad \\u escape/],
    ['01', 1, /after the JSON value/],
    ['-', 1, /in number/],
    ['tru', 0, /expected a JSON value/],
    ['NaN', 0, /expected a JSON value/],
    ['[1] x', 4, /after the JSON value/],
    ['\ufeff[]', 0, /expected a JSON value/],
  ];
  for (const [text, position, reason] of cases) {
    assert.throws(
      () => parseLosslessJson(text),
      (err: unknown) =>
        err instanceof JsonParseError && err.code === 'invalid_json' && err.position === position && reason.test(err.message) && err.message.includes(`position ${position}`),
      JSON.stringify(text),
    );
    assert.throws(() => JSON.parse(text), SyntaxError, `JSON.parse agrees ${JSON.stringify(text)} is invalid`);
  }
});

test('nesting deeper than the limit is refused instead of overflowing the stack', () => {
  assert.deepEqual(parseLosslessJson('[[[]]]', { maxDepth: 3 }), [[[]]]);
  assert.throws(
    () => parseLosslessJson('[[[[]]]]', { maxDepth: 3 }),
    (err: unknown) => err instanceof JsonParseError && err.position === 3,
  );
  assert.throws(() => parseLosslessJson('['.repeat(100_000)), JsonParseError);
});

test('the writer: indentation as JSON.stringify, undefined properties left out, Map order kept', () => {
  const value = { a: [1, { b: 'c' }, []], d: {}, skipped: undefined, e: null };
  assert.equal(stringifyLosslessJson(value), JSON.stringify(value));
  assert.equal(stringifyLosslessJson(value, { indent: 4 }), JSON.stringify(value, null, 4));
  assert.equal(
    stringifyLosslessJson(
      new Map([
        ['b', 1],
        ['10', 2],
        ['9', 3],
      ]),
    ),
    '{"b":1,"10":2,"9":3}',
  );
});

test('escapeLikeGo escapes <, >, & and the line separators as Go json.Marshal does', () => {
  assert.equal(stringifyLosslessJson('<a href="x">&\u2028\u2029\n\u0001é'), '"<a href=\\"x\\">&\u2028\u2029\\n\\u0001é"');
  assert.equal(stringifyLosslessJson('<a href="x">&\u2028\u2029\n\u0001é', { escapeLikeGo: true }), '"\\u003ca href=\\"x\\"\\u003e\\u0026\\u2028\\u2029\\n\\u0001é"');
});

test('numbers JSON cannot carry are refused', () => {
  for (const n of [NaN, Infinity, -Infinity])
    assert.throws(
      () => stringifyLosslessJson([n]),
      (err: unknown) => err instanceof JsonStringifyError && err.code === 'unserializable',
    );
});

test('floats are written as Go writes float64 (shortest form, exponent below 1e-6 and from 1e21)', () => {
  assert.equal(stringifyLosslessJson([1, 1.5, 0.000001, 1e-7, 1.5e-7, 1e20, 1e21, 123456789.125]), '[1,1.5,0.000001,1e-7,1.5e-7,100000000000000000000,1e+21,123456789.125]');
});
