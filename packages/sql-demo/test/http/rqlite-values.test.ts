import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDbResponseBody } from '../../src/rqlite/index.js';
import { toStatementElement, toStatementOutcome } from '../../src/http/rqlite-values.js';
import { normalizeStatement } from '../../src/machine/sql-statement.js';

const plain = { associative: false, blobArray: false, timings: false, pretty: false, raftIndex: false };

test("rqlite's typed parameters become the machine's JSON values and back into the same bindings", () => {
  const element = toStatementElement({ sql: 'INSERT INTO t VALUES(?, ?, ?, ?, :int)', positional: [9223372036854775807n, 1, 2.5, new Uint8Array([1, 2])], named: { int: 'x' } });
  // Through the log as JSON, then normalized as the machine does.
  const normalized = normalizeStatement(JSON.parse(JSON.stringify(element)), 0);
  assert.deepEqual(normalized.positional, [{ int: '9223372036854775807' }, { real: 1 }, 2.5, { blob: 'AQI=' }]);
  assert.deepEqual(normalized.named, { int: 'x' });
  assert.equal(toStatementElement({ sql: 'SELECT 1', positional: [], named: {} }), 'SELECT 1');
  assert.deepEqual(toStatementElement({ sql: 'SELECT :a', positional: [], named: { a: 5n } }), { sql: 'SELECT :a', params: { a: 5 } });
});

test("the machine's results become rqlite's answer: exact integers, REALs typed by the first row, blobs", () => {
  const rows = toStatementOutcome({
    columns: ['big', 'e', 'b'],
    types: ['integer', 'real', 'blob'],
    declaredTypes: ['INTEGER', null, 'BLOB'],
    rows: [
      [{ int: '9223372036854775807' }, 2, { blob: 'AQI=' }],
      [1, 3, null],
    ],
  });
  assert.equal(
    formatDbResponseBody('query', { statements: [rows] }, plain),
    '{"results":[{"columns":["big","e","b"],"types":["integer","real","blob"],"values":[[9223372036854775807,2,"AQI="],[1,3,null]]}]}',
  );
  const exec = toStatementOutcome({ lastInsertId: { int: '9223372036854775807' }, rowsAffected: 1 });
  assert.equal(
    formatDbResponseBody('execute', { statements: [exec, toStatementOutcome({ error: 'no such table: x' })] }, plain),
    '{"results":[{"last_insert_id":9223372036854775807,"rows_affected":1},{"error":"no such table: x"}]}',
  );
});
