import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitStatements } from '../../src/sql/statement-splitter.js';

const texts = (sql: string): string[] => splitStatements(sql).map((s) => s.sql);

test('statements split at semicolons outside strings, identifiers and comments', () => {
  assert.deepEqual(texts(`INSERT INTO t VALUES ('a;b'); SELECT "x;y" FROM t -- ; not here\n; /* ; */ DELETE FROM t`), [
    "INSERT INTO t VALUES ('a;b')",
    'SELECT "x;y" FROM t',
    'DELETE FROM t',
  ]);
});

test('empty statements, blanks and lone comments are dropped', () => {
  assert.deepEqual(texts(' ;; -- only a comment\n ; /* c */ '), []);
  assert.deepEqual(texts('SELECT 1;;'), ['SELECT 1']);
});

test('offsets point into the original text', () => {
  const sql = '  SELECT 1 ;  SELECT 2';
  for (const s of splitStatements(sql)) assert.equal(sql.slice(s.start, s.end), s.sql);
});

test('a trigger body keeps its semicolons until `; END`', () => {
  const trigger = "CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = CASE WHEN 1 THEN 2 END; INSERT INTO u VALUES (';'); END";
  assert.deepEqual(texts(`${trigger}; SELECT 1`), [trigger, 'SELECT 1']);
  assert.deepEqual(texts(`EXPLAIN ${trigger}; SELECT 1`), [`EXPLAIN ${trigger}`, 'SELECT 1']);
});
