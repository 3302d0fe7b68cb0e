import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type DbResponseOptions, formatDbResponse, formatDbResponseBody } from '../../src/rqlite/response/db-response.js';
import type { DbOutcome, RowsOutcome, StatementOutcome } from '../../src/rqlite/response/statement-outcome.js';
import { JsonStringifyError } from '../../src/rqlite/json/lossless-json-stringify.js';

const plain: DbResponseOptions = { associative: false, blobArray: false, timings: false, pretty: false, raftIndex: false };
const assoc: DbResponseOptions = { ...plain, associative: true };
const of = (...statements: StatementOutcome[]): DbOutcome => ({ statements });
const fooRow: RowsOutcome = { kind: 'rows', columns: ['id', 'name'], declaredTypes: ['INTEGER', 'TEXT'], rows: [[1n, 'fiona']] };

// Expected bodies are rqlite's, from system_test/single_node_test.go (Test_SingleNodeMulti*,
// Test_SingleNodeParameterized, Test_SingleNodeBlob, Test_SingleNode_RETURNING), http/service_test.go
// (Test_ResponseJSONMarshal), command/encoding/json_test.go and store/store_test.go.

test('execute results: omitempty drops zero ids and counts, errors stand in place', () => {
  const body = formatDbResponseBody(
    'execute',
    of(
      { kind: 'exec', lastInsertId: 0n, rowsAffected: 0n },
      { kind: 'exec', lastInsertId: 1n, rowsAffected: 1n },
      { kind: 'error', message: 'no such table: bar' },
      { kind: 'error', message: 'near "blah": syntax error' },
    ),
    plain,
  );
  assert.equal(body, '{"results":[{},{"last_insert_id":1,"rows_affected":1},{"error":"no such table: bar"},{"error":"near \\"blah\\": syntax error"}]}');
});

test('query results: columns, lower-cased declared types, values; no "values" when no rows', () => {
  assert.equal(formatDbResponseBody('query', of(fooRow), plain), '{"results":[{"columns":["id","name"],"types":["integer","text"],"values":[[1,"fiona"]]}]}');
  const ageRow: RowsOutcome = { kind: 'rows', columns: ['id', 'name', 'age'], declaredTypes: ['integer', 'text', 'integer'], rows: [] };
  assert.equal(formatDbResponseBody('query', of(ageRow), plain), '{"results":[{"columns":["id","name","age"],"types":["integer","text","integer"]}]}');
  assert.equal(
    formatDbResponseBody('query', of({ ...ageRow, rows: [[1n, 'declan', null]] }), plain),
    '{"results":[{"columns":["id","name","age"],"types":["integer","text","integer"],"values":[[1,"declan",null]]}]}',
  );
  assert.equal(formatDbResponseBody('query', of(), plain), '{"results":[]}');
});

test('a request-level error empties the results, as rqlite answers', () => {
  assert.equal(formatDbResponseBody('execute', { statements: [fooRow], error: 'disallowed pragma' }, plain), '{"results":[],"error":"disallowed pragma"}');
});

test('BLOBs: base64 by default, byte arrays with blob_array; a BLOB in a text-affinity column reads as text', () => {
  const blobs: RowsOutcome = { kind: 'rows', columns: ['data'], declaredTypes: ['blob'], rows: [['fiona'], [Buffer.from([0xde, 0xad, 0xbe, 0xef])]] };
  assert.equal(formatDbResponseBody('query', of(blobs), plain), '{"results":[{"columns":["data"],"types":["blob"],"values":[["fiona"],["3q2+7w=="]]}]}');
  assert.equal(
    formatDbResponseBody('query', of(blobs), { ...plain, blobArray: true }),
    '{"results":[{"columns":["data"],"types":["blob"],"values":[["fiona"],[[222,173,190,239]]]}]}',
  );
  // db/db_common_test.go Test_DB_HexQuery: SELECT x'53514C697465' has no declared type.
  const hex: RowsOutcome = { kind: 'rows', columns: ["x'53514C697465'"], declaredTypes: [null], rows: [[Buffer.from('SQLite')]] };
  assert.equal(formatDbResponseBody('query', of(hex), plain), '{"results":[{"columns":["x\'53514C697465\'"],"types":["text"],"values":[["SQLite"]]}]}');
  const empty: RowsOutcome = { kind: 'rows', columns: ['b'], declaredTypes: ['BLOB'], rows: [[new Uint8Array(0)]] };
  assert.equal(formatDbResponseBody('query', of(empty), plain), '{"results":[{"columns":["b"],"types":["blob"],"values":[[""]]}]}');
  assert.equal(formatDbResponseBody('query', of(empty), { ...plain, blobArray: true }), '{"results":[{"columns":["b"],"types":["blob"],"values":[[[]]]}]}');
});

test('expression columns take their type from the first row; BOOLEAN columns answer true/false', () => {
  const expressions: RowsOutcome = {
    kind: 'rows',
    columns: ['COUNT(*)', 'r', 's', 'n', 'flag'],
    declaredTypes: [null, null, null, null, 'BOOLEAN'],
    rows: [
      [200n, 1.5, 'x', null, 1n],
      [3n, 2.5, 'y', 7n, 0n],
    ],
  };
  assert.equal(
    formatDbResponseBody('query', of(expressions), plain),
    '{"results":[{"columns":["COUNT(*)","r","s","n","flag"],"types":["integer","real","text","","boolean"],"values":[[200,1.5,"x",null,true],[3,2.5,"y",7,false]]}]}',
  );
});

test('64-bit integers are written exactly', () => {
  const big: RowsOutcome = { kind: 'rows', columns: ['v'], declaredTypes: ['INTEGER'], rows: [[9223372036854775807n], [-9223372036854775808n], [9007199254740993n]] };
  assert.equal(
    formatDbResponseBody('query', of(big), plain),
    '{"results":[{"columns":["v"],"types":["integer"],"values":[[9223372036854775807],[-9223372036854775808],[9007199254740993]]}]}',
  );
  assert.equal(
    formatDbResponseBody('execute', of({ kind: 'exec', lastInsertId: 9223372036854775807n, rowsAffected: 1 }), plain),
    '{"results":[{"last_insert_id":9223372036854775807,"rows_affected":1}]}',
  );
});

test('associative form: types as a map, rows as objects with sorted keys, exec results with "rows": null', () => {
  // store/store_test.go (Test_MultiNodeExecuteQuery... associative request) and system_test RETURNING.
  const body = formatDbResponseBody(
    'request',
    of(
      { kind: 'exec', lastInsertId: 88n, rowsAffected: 1n },
      { kind: 'error', message: 'near "nonsense": syntax error' },
      { kind: 'rows', columns: ['COUNT(*)'], declaredTypes: [null], rows: [[3n]] },
      { kind: 'rows', columns: ['name', 'id'], declaredTypes: ['text', 'integer'], rows: [['declan', 66n]] },
    ),
    assoc,
  );
  assert.equal(
    body,
    '{"results":[{"last_insert_id":88,"rows_affected":1,"rows":null},{"error":"near \\"nonsense\\": syntax error"},{"types":{"COUNT(*)":"integer"},"rows":[{"COUNT(*)":3}]},{"types":{"id":"integer","name":"text"},"rows":[{"id":66,"name":"declan"}]}]}',
  );
  assert.equal(
    formatDbResponseBody('execute', of({ kind: 'rows', columns: ['name'], declaredTypes: ['text'], rows: [] }), assoc),
    '{"results":[{"types":{"name":"text"},"rows":[]}]}',
  );
});

test('associative keys sort as Go sorts map keys, not as JS orders integer-like keys', () => {
  const numeric: RowsOutcome = { kind: 'rows', columns: ['b', '10', '9', 'a'], declaredTypes: ['int', 'int', 'int', 'int'], rows: [[1n, 2n, 3n, 4n]] };
  assert.equal(formatDbResponseBody('query', of(numeric), assoc), '{"results":[{"types":{"10":"int","9":"int","a":"int","b":"int"},"rows":[{"10":2,"9":3,"a":4,"b":1}]}]}');
});

test('a query error in associative form keeps "rows": [] on /db/query, not on /db/request', () => {
  assert.equal(formatDbResponseBody('query', of({ kind: 'error', message: 'no such table: foo' }), assoc), '{"results":[{"rows":[],"error":"no such table: foo"}]}');
  assert.equal(formatDbResponseBody('request', of({ kind: 'error', message: 'no such table: foo' }), assoc), '{"results":[{"error":"no such table: foo"}]}');
});

test('timings add "time" per result and for the request; raft_index when asked', () => {
  // http/service_test.go Test_ResponseJSONMarshal: {"results":[{"last_insert_id":39,"rows_affected":45,"time":1234}]}
  const timed: DbOutcome = { statements: [{ kind: 'exec', lastInsertId: 39n, rowsAffected: 45n, seconds: 1234 }], seconds: 0.5, raftIndex: 42n };
  assert.equal(formatDbResponseBody('execute', timed, plain), '{"results":[{"last_insert_id":39,"rows_affected":45}]}');
  assert.equal(formatDbResponseBody('execute', timed, { ...plain, timings: true }), '{"results":[{"last_insert_id":39,"rows_affected":45,"time":1234}],"time":0.5}');
  assert.equal(formatDbResponseBody('execute', timed, { ...plain, raftIndex: true }), '{"results":[{"last_insert_id":39,"rows_affected":45}],"raft_index":42}');
  assert.equal(
    formatDbResponseBody('execute', timed, { ...plain, associative: true, timings: true }),
    '{"results":[{"last_insert_id":39,"rows_affected":45,"time":1234,"rows":null}],"time":0.5}',
  );
  assert.equal(
    formatDbResponseBody('query', of({ ...fooRow, seconds: 6789 }), { ...plain, timings: true }),
    '{"results":[{"columns":["id","name"],"types":["integer","text"],"values":[[1,"fiona"]],"time":6789}]}',
  );
});

test('pretty: Go MarshalIndent with four spaces', () => {
  // command/encoding/json_test.go Test_MarshalQueryRows, inside rqlite's response object.
  const rows: RowsOutcome = { kind: 'rows', columns: ['c1', 'c2', 'c3'], declaredTypes: ['int', 'float', 'string'], rows: [[123n, 678, 'fiona']], seconds: 6789 };
  const expected = `{
    "results": [
        {
            "columns": [
                "c1",
                "c2",
                "c3"
            ],
            "types": [
                "int",
                "float",
                "string"
            ],
            "values": [
                [
                    123,
                    678,
                    "fiona"
                ]
            ],
            "time": 6789
        }
    ]
}`;
  assert.equal(formatDbResponseBody('query', of(rows), { ...plain, pretty: true, timings: true }), expected);
});

test('strings are escaped as Go escapes them', () => {
  const html: RowsOutcome = { kind: 'rows', columns: ['s'], declaredTypes: ['text'], rows: [['<b>&</b>']] };
  assert.equal(formatDbResponseBody('query', of(html), plain), '{"results":[{"columns":["s"],"types":["text"],"values":[["\\u003cb\\u003e\\u0026\\u003c/b\\u003e"]]}]}');
});

test('the reply is JSON with 200; an infinite REAL is a typed error (rqlite answers 500)', () => {
  assert.deepEqual(formatDbResponse('query', of(), plain), { status: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: '{"results":[]}' });
  const inf: RowsOutcome = { kind: 'rows', columns: ['x'], declaredTypes: [null], rows: [[Infinity]] };
  assert.throws(() => formatDbResponse('query', of(inf), plain), JsonStringifyError);
});
