import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeStatements } from '../../src/client/statements.js';
import { SqlClientError } from '../../src/client/client-error.js';
import { parseDbRequest } from '../../src/rqlite/index.js';

test('statements become rqlite bodies: bare SQL, positional and named parameters', () => {
  assert.equal(
    encodeStatements(['CREATE TABLE t(a, b)', ['INSERT INTO t(a, b) VALUES(?, ?)', 1, 'x'], ['INSERT INTO t(a, b) VALUES(:a, :b)', { a: 2, b: null }]]),
    '["CREATE TABLE t(a, b)",["INSERT INTO t(a, b) VALUES(?, ?)",1,"x"],["INSERT INTO t(a, b) VALUES(:a, :b)",{"a":2,"b":null}]]',
  );
});

test('64-bit integers, REALs, BLOBs and booleans are written so rqlite binds the intended type', () => {
  const body = encodeStatements([['SELECT ?, ?, ?, ?, ?, ?', 9223372036854775807n, -9223372036854775808n, 2.5, new Uint8Array([0, 255, 16]), true, false]]);
  assert.equal(body, '[["SELECT ?, ?, ?, ?, ?, ?",9223372036854775807,-9223372036854775808,2.5,[0,255,16],true,false]]');
  // The server's own parser reads them back as INTEGER, INTEGER, REAL, BLOB, 1, 0.
  const [statement] = parseDbRequest('query', { method: 'POST', rawQuery: '', body }).statements;
  assert.deepEqual(statement!.positional, [9223372036854775807n, -9223372036854775808n, 2.5, Buffer.from([0, 255, 16]), 1n, 0n]);
});

test('named parameters keep their order and a BLOB is one positional value, not a named object', () => {
  assert.equal(encodeStatements([['SELECT :z, :a', { z: 1n, a: 'x' }]]), '[["SELECT :z, :a",{"z":1,"a":"x"}]]');
  assert.equal(encodeStatements([['SELECT ?', new Uint8Array([1])]]), '[["SELECT ?",[1]]]');
  assert.equal(encodeStatements([['SELECT 1']]), '[["SELECT 1"]]');
});

test('values JSON cannot carry are refused before anything is sent', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    assert.throws(
      () => encodeStatements([['SELECT ?', bad]]),
      (e: unknown) => e instanceof SqlClientError && e.code === 'invalid_argument' && /statement 1, parameter 1/.test(e.message),
    );
  }
  assert.throws(
    () => encodeStatements([['SELECT ?', undefined as never]]),
    (e: unknown) => e instanceof SqlClientError && e.code === 'invalid_argument',
  );
  assert.throws(
    () => encodeStatements([[42 as never]]),
    (e: unknown) => e instanceof SqlClientError && /SQL text/.test(e.message),
  );
  assert.throws(
    () => encodeStatements('SELECT 1' as never),
    (e: unknown) => e instanceof SqlClientError && e.code === 'invalid_argument',
  );
});
