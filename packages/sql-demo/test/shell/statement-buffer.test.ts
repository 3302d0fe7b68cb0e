import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCompleteSql, StatementBuffer, statementsOf } from '../../src/shell/statement-buffer.js';

test('a statement is complete at a semicolon outside strings, quoted names and comments', () => {
  assert.equal(isCompleteSql('SELECT 1;'), true);
  assert.equal(isCompleteSql('SELECT 1'), false);
  assert.equal(isCompleteSql("SELECT 'a;"), false);
  assert.equal(isCompleteSql("SELECT 'a;b';"), true);
  assert.equal(isCompleteSql('SELECT "x;'), false);
  assert.equal(isCompleteSql('SELECT 1 -- done;'), false);
  assert.equal(isCompleteSql('SELECT 1; -- a comment after'), true);
  assert.equal(isCompleteSql('SELECT 1; SELECT 2'), false);
  assert.equal(isCompleteSql('SELECT 1; SELECT 2;'), true);
});

test('a trigger body ends at "; END;", not at its own semicolons', () => {
  const opening = 'CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO b VALUES (1);';
  assert.equal(isCompleteSql(opening), false);
  assert.equal(isCompleteSql(`${opening} UPDATE b SET x = 2;`), false);
  assert.equal(isCompleteSql(`${opening} END;`), true);
  assert.deepEqual(statementsOf(`${opening} END; SELECT 1;`), [`${opening} END`, 'SELECT 1']);
});

test('text SQLite cannot tokenize is sent as it is, for the server to name the problem', () => {
  assert.equal(isCompleteSql('SELECT 12abc;'), true);
  assert.deepEqual(statementsOf('SELECT 12abc;'), ['SELECT 12abc']);
});

test('the buffer gathers lines until the statement ends and remembers where it started', () => {
  const buffer = new StatementBuffer();
  assert.equal(buffer.add('', 1), undefined);
  assert.equal(buffer.isEmpty, true);
  assert.equal(buffer.add('SELECT a,', 2), undefined);
  assert.equal(buffer.add("  'x;y'", 3), undefined);
  assert.equal(buffer.isEmpty, false);
  assert.equal(buffer.add('FROM t;', 4), "SELECT a,\n  'x;y'\nFROM t;");
  assert.equal(buffer.startLine, 2);
  assert.equal(buffer.isEmpty, true);
  buffer.add('SELECT 1', 5);
  assert.equal(buffer.drain(), 'SELECT 1');
  assert.equal(buffer.drain(), undefined);
});

test('comment lines between statements open nothing; an open block comment waits for its end', () => {
  const buffer = new StatementBuffer();
  assert.equal(buffer.add('-- a comment', 1), undefined);
  assert.equal(buffer.isEmpty, true);
  assert.equal(buffer.add('/* a block', 2), undefined);
  assert.equal(buffer.isEmpty, false);
  assert.equal(buffer.add('   comment */', 3), undefined);
  assert.equal(buffer.isEmpty, true);
  assert.equal(buffer.add('SELECT 1; -- and a remark', 4), 'SELECT 1; -- and a remark');
});
