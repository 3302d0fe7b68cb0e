import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeResponse } from '../../src/client/results.js';
import { SqlClientError } from '../../src/client/client-error.js';

// Bodies as rqlite writes them (see test/rqlite/db-response.test.ts for where each comes from).

test('execute answers: {} for a zero result, ids and counts, errors in their place', () => {
  const r = decodeResponse('{"results":[{},{"last_insert_id":1,"rows_affected":1},{"error":"no such table: bar"}]}', 'bigint');
  assert.deepEqual(r.results, [
    { kind: 'exec', lastInsertId: 0n, rowsAffected: 0 },
    { kind: 'exec', lastInsertId: 1n, rowsAffected: 1 },
    { kind: 'error', error: 'no such table: bar' },
  ]);
  assert.equal(r.raftIndex, undefined);
  assert.equal(r.time, undefined);
});

test('query answers: columns, types, values; none when there are no rows', () => {
  const r = decodeResponse('{"results":[{"columns":["id","name"],"types":["integer","text"],"values":[[1,"fiona"],[2,null]]},{"columns":["id"],"types":["integer"]}]}', 'bigint');
  assert.deepEqual(r.results, [
    {
      kind: 'rows',
      columns: ['id', 'name'],
      types: ['integer', 'text'],
      values: [
        [1n, 'fiona'],
        [2n, null],
      ],
    },
    { kind: 'rows', columns: ['id'], types: ['integer'], values: [] },
  ]);
});

test('integers are exact bigints; REAL columns give numbers even when Go wrote 2.0 as 2', () => {
  const body = '{"results":[{"columns":["i","r","e"],"types":["integer","real",""],"values":[[9223372036854775807,2,1.5],[-9223372036854775808,3.25,7]]}]}';
  const [rows] = decodeResponse(body, 'bigint').results;
  assert.ok(rows?.kind === 'rows');
  assert.deepEqual(rows.values, [
    [9223372036854775807n, 2, 1.5],
    [-9223372036854775808n, 3.25, 7n],
  ]);
  const [safe] = decodeResponse(body, 'safe-number').results;
  assert.ok(safe?.kind === 'rows');
  assert.deepEqual(safe.values, [
    [9223372036854775807n, 2, 1.5],
    [-9223372036854775808n, 3.25, 7],
  ]);
  const [exec] = decodeResponse('{"results":[{"last_insert_id":9223372036854775807,"rows_affected":1}]}', 'bigint').results;
  assert.deepEqual(exec, { kind: 'exec', lastInsertId: 9223372036854775807n, rowsAffected: 1 });
});

test('BLOBs (blob_array) are Uint8Array; text in a BLOB column stays text; BOOLEAN columns are booleans', () => {
  const [rows] = decodeResponse(
    '{"results":[{"columns":["data","flag"],"types":["blob","boolean"],"values":[["fiona",true],[[222,173,190,239],false],[[],null]]}]}',
    'bigint',
  ).results;
  assert.ok(rows?.kind === 'rows');
  assert.deepEqual(rows.values, [
    ['fiona', true],
    [new Uint8Array([0xde, 0xad, 0xbe, 0xef]), false],
    [new Uint8Array(0), null],
  ]);
  assert.ok(rows.values[1]![0] instanceof Uint8Array);
});

test('associative answers: rows as objects, columns from the types map', () => {
  const body =
    '{"results":[{"last_insert_id":88,"rows_affected":1,"rows":null},{"error":"near \\"nonsense\\": syntax error"},{"types":{"id":"integer","name":"text"},"rows":[{"id":66,"name":"declan"}]},{"types":{"name":"text"},"rows":[]},{"rows":[],"error":"no such table: foo"}]}';
  const r = decodeResponse(body, 'bigint');
  assert.deepEqual(r.results, [
    { kind: 'exec', lastInsertId: 88n, rowsAffected: 1 },
    { kind: 'error', error: 'near "nonsense": syntax error' },
    { kind: 'rows', columns: ['id', 'name'], types: ['integer', 'text'], values: [[66n, 'declan']], rows: [{ id: 66n, name: 'declan' }] },
    { kind: 'rows', columns: ['name'], types: ['text'], values: [], rows: [] },
    { kind: 'error', error: 'no such table: foo' },
  ]);
});

test('timings and raft_index are carried over', () => {
  const r = decodeResponse(
    '{"results":[{"last_insert_id":39,"rows_affected":45,"time":0.5},{"columns":["a"],"types":["integer"],"values":[[1]],"time":0.25}],"time":1.5,"raft_index":42}',
    'bigint',
  );
  assert.equal(r.time, 1.5);
  assert.equal(r.raftIndex, 42);
  assert.deepEqual(r.results[0], { kind: 'exec', lastInsertId: 39n, rowsAffected: 45, time: 0.5 });
  assert.equal((r.results[1] as { time?: number }).time, 0.25);
});

test('a request-level error throws request_failed; a body that is not rqlite JSON throws bad_response', () => {
  assert.throws(
    () => decodeResponse('{"results":[],"error":"disallowed pragma"}', 'bigint'),
    (e: unknown) => e instanceof SqlClientError && e.code === 'request_failed' && e.message === 'disallowed pragma',
  );
  for (const body of ['not json', '{"nope":1}', '[]', '{"results":[1]}']) {
    assert.throws(
      () => decodeResponse(body, 'bigint'),
      (e: unknown) => e instanceof SqlClientError && e.code === 'bad_response',
      body,
    );
  }
});
