import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type DbEndpoint, type DbHttpRequest, type DbRequest, parseDbRequest } from '../../src/rqlite/request/db-request.js';
import { RqliteRequestError } from '../../src/rqlite/request-error.js';

const post = (body: string, rawQuery = '', contentType = 'application/json'): DbHttpRequest => ({ method: 'POST', rawQuery, contentType, body });
const execute = (body: string, rawQuery = ''): DbRequest => parseDbRequest('execute', post(body, rawQuery));

function refused(endpoint: DbEndpoint, http: DbHttpRequest, code: string, message: string): void {
  assert.throws(
    () => parseDbRequest(endpoint, http),
    (err: unknown) => err instanceof RqliteRequestError && err.code === code && err.message === message,
    `${http.method} /db/${endpoint}?${http.rawQuery} ${http.body}`,
  );
}

test('plain statements, positional, named and mixed parameters', () => {
  const request = execute(
    JSON.stringify([
      'CREATE TABLE foo (id integer not null primary key, name text)',
      ['INSERT INTO foo(name, age) VALUES(?, ?)', 'fiona', 20],
      ['INSERT INTO foo(name, age) VALUES(:name, :age)', { name: 'fiona', age: 20 }],
      ['SELECT * FROM foo WHERE name = ? AND age = :age', 'fiona', { age: 20 }],
      ['SELECT 1'],
    ]),
  );
  assert.deepEqual(request.statements, [
    { sql: 'CREATE TABLE foo (id integer not null primary key, name text)', positional: [], named: {} },
    { sql: 'INSERT INTO foo(name, age) VALUES(?, ?)', positional: ['fiona', 20n], named: {} },
    { sql: 'INSERT INTO foo(name, age) VALUES(:name, :age)', positional: [], named: { name: 'fiona', age: 20n } },
    { sql: 'SELECT * FROM foo WHERE name = ? AND age = :age', positional: ['fiona'], named: { age: 20n } },
    { sql: 'SELECT 1', positional: [], named: {} },
  ]);
});

test('parameter values: INTEGER vs REAL as rqlite types them, booleans as 1/0, nulls, and 64-bit integers exactly', () => {
  const [statement] = execute('[["INSERT", 1, 1.0, 1e2, -0, true, false, null, 9223372036854775807, -9223372036854775808, 9223372036854775808, "text"]]').statements;
  assert.deepEqual(statement?.positional, [1n, 1, 100, 0n, 1n, 0n, null, 9223372036854775807n, -9223372036854775808n, 9223372036854775808, 'text']);
  // Past int64, rqlite falls back to float64: a REAL, no longer a bigint.
  assert.equal(typeof statement?.positional[9], 'number');
});

test("blob parameters: SQLite blob literals and byte arrays (rqlite's two forms)", () => {
  const [statement] = execute(`[["INSERT", "x'deadbeef'", " X'0102' ", "x''", [222, 173, 190, 239], [], {"b": [1, 2]}, "x'abc'", "x'zz'", "x'01"]]`).statements;
  const blob = (...bytes: number[]) => Buffer.from(bytes);
  assert.deepEqual(statement?.positional, [blob(222, 173, 190, 239), blob(1, 2), blob(), blob(222, 173, 190, 239), blob(), "x'abc'", "x'zz'", "x'01"]);
  assert.deepEqual(statement?.named, { b: blob(1, 2) });
});

test('a parameter named __proto__ stays a parameter', () => {
  const [statement] = execute('[["SELECT :__proto__", {"__proto__": 5}]]').statements;
  assert.deepEqual(Object.entries(statement?.named ?? {}), [['__proto__', 5n]]);
});

test("bad bodies are refused with rqlite's messages", () => {
  refused('execute', post('[]'), 'bad_body', 'no statements');
  refused('execute', post('{}'), 'bad_body', 'invalid request');
  refused('execute', post('"SELECT 1"'), 'bad_body', 'invalid request');
  refused('execute', post('[1]'), 'bad_body', 'invalid request');
  refused('execute', post('[null]'), 'bad_body', 'invalid request');
  refused('execute', post('[{"sql": "SELECT 1"}]'), 'bad_body', 'invalid request');
  refused('execute', post('[[]]'), 'bad_body', 'invalid request');
  refused('execute', post('[[1, "SELECT 1"]]'), 'bad_body', 'invalid request');
  refused('execute', post('[["SELECT ?", {"a": {"b": 1}}]]'), 'bad_body', 'unsupported type map[string]interface {}');
  refused('execute', post('[["SELECT ?", [256]]]'), 'bad_body', 'unsupported type 256');
  refused('execute', post('[["SELECT ?", [-1]]]'), 'bad_body', 'unsupported type -1');
  refused('execute', post('[["SELECT ?", [1.5]]]'), 'bad_body', 'unsupported type 1.5');
  refused('execute', post('[["SELECT ?", ["a"]]]'), 'bad_body', 'unsupported type string');
  refused('execute', post('[["SELECT ?", [[1]]]]'), 'bad_body', 'unsupported type []interface {}');
  refused('execute', post('[["SELECT ?", [null]]]'), 'bad_body', 'unsupported type <nil>');
  refused('execute', post(''), 'bad_body', 'invalid JSON body: Unexpected end of input, expected a JSON value at position 0');
  refused('execute', post('["SELECT 1",]'), 'bad_body', 'invalid JSON body: Unexpected character "]", expected a JSON value at position 12');
});

test('the reply to a refused request: 400 plain text with a newline, as Go http.Error; 405 empty', () => {
  try {
    execute('[]');
    assert.fail('accepted');
  } catch (err) {
    assert.ok(err instanceof RqliteRequestError);
    assert.deepEqual(err.toReply(), { status: 400, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }, body: 'no statements\n' });
  }
  try {
    parseDbRequest('execute', { method: 'GET', rawQuery: '', body: '' });
    assert.fail('accepted');
  } catch (err) {
    assert.ok(err instanceof RqliteRequestError);
    assert.deepEqual(err.toReply(), { status: 405, headers: {}, body: '' });
  }
});

test('methods: execute and request take POST only, query takes GET and POST', () => {
  refused('execute', { method: 'GET', rawQuery: '', body: '' }, 'method_not_allowed', 'GET is not allowed on /db/execute');
  refused('request', { method: 'PUT', rawQuery: '', body: '' }, 'method_not_allowed', 'PUT is not allowed on /db/request');
  refused('query', { method: 'DELETE', rawQuery: '', body: '' }, 'method_not_allowed', 'DELETE is not allowed on /db/query');
  // rqlite checks the query string first: a bad flag is a 400 whatever the method.
  refused('execute', { method: 'GET', rawQuery: 'timeout=x', body: '' }, 'bad_query_parameter', 'timeout is not a valid duration');
});

test('GET /db/query takes q; without q there is nothing to run, as rqlite answers {"results":[]}', () => {
  const get = (rawQuery: string) => parseDbRequest('query', { method: 'GET', rawQuery, body: 'ignored' });
  assert.deepEqual(get('?q=SELECT+*+FROM+foo&level=strong').statements, [{ sql: 'SELECT * FROM foo', positional: [], named: {} }]);
  assert.deepEqual(get('').statements, []);
  refused('query', { method: 'GET', rawQuery: 'q=', body: '' }, 'bad_query_parameter', 'query parameter not set');
  refused('query', { method: 'GET', rawQuery: 'q', body: '' }, 'bad_query_parameter', 'query parameter not set');
});

test('a text/plain body is one statement on execute and query, but JSON on request', () => {
  const sql = 'INSERT INTO foo VALUES(1); INSERT INTO foo VALUES(2)';
  assert.deepEqual(parseDbRequest('execute', post(sql, '', 'text/plain; charset=utf-8')).statements, [{ sql, positional: [], named: {} }]);
  assert.deepEqual(parseDbRequest('query', post('SELECT 1', '', 'text/plain')).statements, [{ sql: 'SELECT 1', positional: [], named: {} }]);
  assert.throws(() => parseDbRequest('request', post('SELECT 1', '', 'text/plain')), RqliteRequestError);
  // What fetch() sends for a string body: text/plain, but a JSON array, which no SQL text is.
  assert.deepEqual(parseDbRequest('query', post(' ["SELECT 1", ["SELECT ?", 2]]', '', 'text/plain;charset=UTF-8')).statements, [
    { sql: 'SELECT 1', positional: [], named: {} },
    { sql: 'SELECT ?', positional: [2n], named: {} },
  ]);
});

test('statements with empty SQL are dropped, as rqlite skips them', () => {
  assert.deepEqual(
    execute('["", "SELECT 1", [""]]').statements.map((s) => s.sql),
    ['SELECT 1'],
  );
});

test('defaults: weak level, every flag off', () => {
  const request = parseDbRequest('query', post('["SELECT 1"]'));
  assert.deepEqual(request, {
    endpoint: 'query',
    statements: [{ sql: 'SELECT 1', positional: [], named: {} }],
    transaction: false,
    level: 'weak',
    freshnessStrict: false,
    redirect: false,
    timings: false,
    associative: false,
    blobArray: false,
    pretty: false,
    raftIndex: false,
    qualifyColumns: false,
    rewriteRandom: false,
    rewriteTime: false,
  });
});

test('flags are on when present, whatever their value (rqlite tests the key only)', () => {
  const request = parseDbRequest(
    'request',
    post(
      '["SELECT 1"]',
      'transaction=false&timings&associative&pretty=true&redirect&raft_index&blob_array&qualify_columns&level=LINEARIZABLE&freshness=1s&freshness_strict&db_timeout=500ms&timeout=2m&linearizable_timeout=1.5s&retries=3',
    ),
  );
  assert.deepEqual(
    { ...request, statements: undefined },
    {
      endpoint: 'request',
      statements: undefined,
      transaction: true,
      level: 'linearizable',
      freshnessMs: 1000,
      freshnessStrict: true,
      linearizableTimeoutMs: 1500,
      dbTimeoutMs: 500,
      timeoutMs: 120_000,
      retries: 3,
      redirect: true,
      timings: true,
      associative: true,
      blobArray: true,
      pretty: true,
      raftIndex: true,
      qualifyColumns: true,
      rewriteRandom: true,
      rewriteTime: true,
    },
  );
});

test('levels: none, weak, strong, linearizable, auto in any case; anything else is refused', () => {
  for (const level of ['none', 'weak', 'strong', 'linearizable', 'auto'] as const) {
    assert.equal(parseDbRequest('query', post('["SELECT 1"]', `level=${level.toUpperCase()}`)).level, level);
  }
  refused('query', post('["SELECT 1"]', 'level=strnog'), 'bad_query_parameter', 'level must be one of none, weak, strong, linearizable, auto');
  refused('query', post('["SELECT 1"]', 'level='), 'bad_query_parameter', 'level must be one of none, weak, strong, linearizable, auto');
});

test('rewriting of random and time functions follows rqlite: writes unless noparse/norw*, reads only at strong', () => {
  const flags = (endpoint: DbEndpoint, rawQuery: string) => {
    const r = parseDbRequest(endpoint, post('["SELECT random()"]', rawQuery));
    return [r.rewriteRandom, r.rewriteTime];
  };
  assert.deepEqual(flags('execute', ''), [true, true]);
  assert.deepEqual(flags('execute', 'norwrandom'), [false, true]);
  assert.deepEqual(flags('request', 'norwtime'), [true, false]);
  assert.deepEqual(flags('execute', 'noparse'), [false, false]);
  assert.deepEqual(flags('query', ''), [false, false]);
  assert.deepEqual(flags('query', 'level=strong'), [true, true]);
  assert.deepEqual(flags('query', 'level=strong&noparse'), [false, false]);
});

test("query-string rules refuse with rqlite's messages", () => {
  const body = '["SELECT 1"]';
  refused('query', post(body, 'freshness_strict'), 'bad_query_parameter', 'freshness_strict requires freshness');
  refused('query', post(body, 'freshness=1'), 'bad_query_parameter', 'freshness is not a valid duration');
  refused('query', post(body, 'freshness=soon'), 'bad_query_parameter', 'freshness is not a valid duration');
  refused('query', post(body, 'db_timeout=5x'), 'bad_query_parameter', 'db_timeout is not a valid duration');
  refused('query', post(body, 'linearizable_timeout='), 'bad_query_parameter', 'linearizable_timeout is not a valid duration');
  refused('query', post(body, 'freshness=-1s'), 'bad_query_parameter', 'freshness must not be negative');
  refused('query', post(body, 'retries=many'), 'bad_query_parameter', 'retries is not a valid integer');
  refused('query', post(body, 'trailing_logs=1.5'), 'bad_query_parameter', 'trailing_logs is not a valid integer');
  refused('query', post(body, 'x=%zz'), 'bad_query_parameter', 'invalid URL escape "%zz"');
});

test('queued writes are refused rather than silently made synchronous', () => {
  refused('execute', post('["INSERT"]', 'queue'), 'unsupported', 'queued writes are not supported (queue): send the request without it');
  refused('execute', post('["INSERT"]', 'queue&wait&timeout=10s'), 'unsupported', 'queued writes are not supported (queue): send the request without it');
  refused('execute', post('["INSERT"]', 'wait'), 'unsupported', 'queued writes are not supported (wait): send the request without it');
});

test('what rqlite-js sends parses: level, pretty, timings, transaction as key=value', () => {
  // rqlite-js (api/client createQuery) sends its options as query parameters, e.g. ?level=strong&pretty=true&timings=true&transaction=true.
  const request = parseDbRequest('query', { method: 'GET', rawQuery: 'level=strong&pretty=true&timings=true&transaction=true&q=SELECT%201', body: '' });
  assert.equal(request.level, 'strong');
  assert.ok(request.pretty && request.timings && request.transaction);
  assert.deepEqual(request.statements, [{ sql: 'SELECT 1', positional: [], named: {} }]);
});
