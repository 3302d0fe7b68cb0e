import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeStatement, normalizeStatements } from '../../src/machine/sql-statement.js';
import { planStatements, statementsProblem } from '../../src/machine/statement-plan.js';
import { fromSqlite, toSqlite } from '../../src/machine/sql-value.js';

test('every statement form normalizes to SQL, positional and named parameters', () => {
  assert.deepEqual(normalizeStatement('SELECT 1', 0), { sql: 'SELECT 1', positional: [], named: {} });
  assert.deepEqual(normalizeStatement({ sql: 'INSERT INTO t VALUES(?, ?)', params: [1, 'x'] }, 0), { sql: 'INSERT INTO t VALUES(?, ?)', positional: [1, 'x'], named: {} });
  assert.deepEqual(normalizeStatement({ sql: 'INSERT INTO t VALUES(:a)', params: { ':a': null } }, 0), { sql: 'INSERT INTO t VALUES(:a)', positional: [], named: { a: null } });
  assert.deepEqual(normalizeStatement(['INSERT INTO t VALUES(?, :n)', 7, { n: 'x' }], 0), { sql: 'INSERT INTO t VALUES(?, :n)', positional: [7], named: { n: 'x' } });
  // In the array form a tagged value is a value, not a map of names.
  assert.deepEqual(normalizeStatement(['SELECT ?, ?', { int: '9223372036854775807' }, { blob: 'AAE=' }], 0).positional, [{ int: '9223372036854775807' }, { blob: 'AAE=' }]);
  // A parameter named __proto__ stays a parameter.
  const named = normalizeStatement(JSON.parse('["SELECT :__proto__", {"__proto__": 1}]'), 0).named;
  assert.equal(Object.getOwnPropertyDescriptor(named, '__proto__')?.value, 1);
});

test('malformed statements are refused naming their position', () => {
  assert.throws(() => normalizeStatements([]), /non-empty array/);
  assert.throws(() => normalizeStatements(['SELECT 1', 42]), /statements\[1\] must be a SQL string/);
  assert.throws(() => normalizeStatements([{ sql: 'SELECT 1', args: [] }]), /statements\[0\] has an unknown property "args"/);
  assert.throws(() => normalizeStatements([['SELECT ?', { int: '1.5' }]]), /statements\[0\]\[1\]: \{"int": "1.5"\} is not an integer/);
  assert.throws(() => normalizeStatements([['SELECT ?', [1, 2]]]), /is not a SQL value/);
  assert.throws(() => normalizeStatements([{ sql: '  ' }]), /statements\[0\]\.sql must be a non-empty SQL string/);
});

test('the plan applies the statement policy, splits elements and stamps clock reads', () => {
  const [p] = planStatements(["INSERT INTO t VALUES (datetime('now')); SELECT 1"], { timestampMs: Date.UTC(2024, 0, 1) });
  assert.deepEqual(p!.pieces, ["INSERT INTO t VALUES (datetime('2024-01-01 00:00:00.000'))", 'SELECT 1']);
  assert.equal(p!.kind, 'write');
  assert.match(statementsProblem(['SELECT 1', 'BEGIN']) ?? '', /refused "BEGIN"/);
  assert.match(statementsProblem([['SELECT ?; SELECT 2', 1]]) ?? '', /parameters bind to one statement/);
  assert.match(statementsProblem(['SELECT * FROM _raftkit_state']) ?? '', /belong to the store itself/);
  assert.equal(statementsProblem(['SELECT 1']), undefined);
});

test('SQL values bind as SQLite stores them and come back exactly', () => {
  assert.equal(toSqlite(5), 5n);
  assert.equal(toSqlite(5.5), 5.5);
  assert.equal(toSqlite({ real: 5 }), 5);
  assert.equal(toSqlite(true), 1n);
  assert.equal(toSqlite({ int: '-9223372036854775808' }), -(2n ** 63n));
  assert.deepEqual(toSqlite({ blob: 'AP8=' }), Buffer.from([0, 255]));
  assert.deepEqual(fromSqlite(2n ** 63n - 1n), { int: '9223372036854775807' });
  assert.equal(fromSqlite(9007199254740991n), 9007199254740991);
  assert.deepEqual(fromSqlite(Buffer.from([1])), { blob: 'AQ==' });
});
