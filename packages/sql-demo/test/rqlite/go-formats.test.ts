import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoDuration, parseGoDuration } from '../../src/rqlite/go/go-duration.js';
import { parseGoQueryString } from '../../src/rqlite/go/go-query-string.js';
import { RqliteRequestError } from '../../src/rqlite/request-error.js';

test('Go durations parse to nanoseconds as time.ParseDuration does', () => {
  const cases: [string, bigint][] = [
    ['0', 0n],
    ['1s', 1_000_000_000n],
    ['500ms', 500_000_000n],
    ['1.5s', 1_500_000_000n],
    ['1h30m', 5_400_000_000_000n],
    ['2m3.5s', 123_500_000_000n],
    ['300us', 300_000n],
    ['300µs', 300_000n],
    ['300μs', 300_000n],
    ['7ns', 7n],
    ['.5s', 500_000_000n],
    ['1.s', 1_000_000_000n],
    ['+1s', 1_000_000_000n],
    ['-1.5ms', -1_500_000n],
  ];
  for (const [text, nanos] of cases) assert.equal(parseGoDuration(text), nanos, text);
  for (const bad of ['', '1', 's', '.s', '1x', '1 s', '1s2', '-', '1.2.3s', 'abc', '9999999999h']) assert.equal(parseGoDuration(bad), undefined, bad);
});

test('Go durations print as Duration.String does', () => {
  const cases: [bigint, string][] = [
    [0n, '0s'],
    [750n, '750ns'],
    [1_500n, '1.5µs'],
    [12_345_000n, '12.345ms'],
    [3_200_000_000n, '3.2s'],
    [125_000_000_000n, '2m5s'],
    [3_600_500_000_000n, '1h0m0.5s'],
    [-1_000_000_000n, '-1s'],
  ];
  for (const [nanos, text] of cases) assert.equal(formatGoDuration(nanos), text);
});

test('query strings parse as Go url.ParseQuery: first value wins, + is a space, keys are case-sensitive', () => {
  const params = parseGoQueryString('q=SELECT+*+FROM+foo%20WHERE+x%3D1&key=same&key=different&flag&Level=x&empty=&&');
  assert.deepEqual(
    [...params],
    [
      ['q', 'SELECT * FROM foo WHERE x=1'],
      ['key', 'same'],
      ['flag', ''],
      ['Level', 'x'],
      ['empty', ''],
    ],
  );
  assert.equal(parseGoQueryString('s=%F0%9F%98%80%C3%A9').get('s'), '😀é');
});

test("bad escapes and ';' separators refuse the request with Go's message", () => {
  const refused = (raw: string, message: string) =>
    assert.throws(
      () => parseGoQueryString(raw),
      (err: unknown) => err instanceof RqliteRequestError && err.code === 'bad_query_parameter' && err.message === message,
      raw,
    );
  refused('invalid=%ZZ', 'invalid URL escape "%ZZ"');
  refused('a=1&b=%4', 'invalid URL escape "%4"');
  refused('a=1;b=2', 'invalid semicolon separator in query');
});
