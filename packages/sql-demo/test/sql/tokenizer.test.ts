import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqlSyntaxError } from '../../src/sql/errors.js';
import { isSignificant, tokenize } from '../../src/sql/tokenizer.js';

function kinds(sql: string): string[] {
  return tokenize(sql)
    .filter(isSignificant)
    .map((t) => `${t.kind}:${t.text}`);
}

test('the tokens rebuild the text exactly', () => {
  const sql = "SELECT a -- c\n, 'it''s' /* x */ FROM [t] WHERE \"b\"\"c\" = X'0aFF' AND d = ?2;";
  assert.equal(
    tokenize(sql)
      .map((t) => t.text)
      .join(''),
    sql,
  );
});

test('keywords inside strings, quoted identifiers and comments stay inside them', () => {
  assert.deepEqual(kinds('SELECT \'DROP TABLE t; --\', "BEGIN", [COMMIT], `END` /* ATTACH; */ -- VACUUM'), [
    'word:SELECT',
    "string:'DROP TABLE t; --'",
    'operator:,',
    'quoted-identifier:"BEGIN"',
    'operator:,',
    'quoted-identifier:[COMMIT]',
    'operator:,',
    'quoted-identifier:`END`',
  ]);
});

test('escapes are undone in values, and words are upper-cased', () => {
  const values = tokenize(`'it''s' "a""b" [x"y] \`p\`\`q\` sElEcT`)
    .filter(isSignificant)
    .map((t) => t.value);
  assert.deepEqual(values, ["it's", 'a"b', 'x"y', 'p`q', 'SELECT']);
});

test('numbers, blobs and parameters', () => {
  assert.deepEqual(kinds("1 1.5 .5 1e10 2.5E-3 0x1F 1_000 X'00ff' x'' ? ?12 :name @n $v"), [
    'number:1',
    'number:1.5',
    'number:.5',
    'number:1e10',
    'number:2.5E-3',
    'number:0x1F',
    'number:1_000',
    "blob:X'00ff'",
    "blob:x''",
    'parameter:?',
    'parameter:?12',
    'parameter::name',
    'parameter:@n',
    'parameter:$v',
  ]);
});

test('operators take the longest match', () => {
  assert.deepEqual(kinds('a->>b->c||d<=e<>f!=g==h<<i'), [
    'word:a',
    'operator:->>',
    'word:b',
    'operator:->',
    'word:c',
    'operator:||',
    'word:d',
    'operator:<=',
    'word:e',
    'operator:<>',
    'word:f',
    'operator:!=',
    'word:g',
    'operator:==',
    'word:h',
    'operator:<<',
    'word:i',
  ]);
});

test('a word that starts with x is not a blob', () => {
  assert.deepEqual(kinds('xyz x'), ['word:xyz', 'word:x']);
});

test('an unterminated block comment runs to the end, as in SQLite', () => {
  assert.deepEqual(kinds('SELECT 1 /* open'), ['word:SELECT', 'number:1']);
});

test('what SQLite cannot tokenize is a SqlSyntaxError with its offset', () => {
  for (const [sql, offset] of [
    ["SELECT 'open", 7],
    ['SELECT "open', 7],
    ['SELECT [open', 7],
    ["SELECT X'0'", 7],
    ["SELECT X'zz'", 7],
    ['SELECT 12abc', 7],
    ['SELECT :', 7],
    ['SELECT !', 7],
    ['SELECT #1', 7],
  ] as const) {
    assert.throws(
      () => tokenize(sql),
      (e: unknown) => e instanceof SqlSyntaxError && e.code === 'bad_request' && e.offset === offset,
      sql,
    );
  }
});
