import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqlClient, SqlClientError, type RowsResult, type SqlResponse } from '../../src/client/index.js';
import { MiniRqlite } from './mini-rqlite.js';

async function withServer(run: (server: MiniRqlite, client: SqlClient) => Promise<void>): Promise<void> {
  const server = await MiniRqlite.start();
  try {
    await run(server, new SqlClient({ urls: [server.url] }));
  } finally {
    await server.close();
  }
}

function rowsOf(response: SqlResponse, i = 0): RowsResult {
  const r = response.results[i];
  assert.ok(r?.kind === 'rows', `result ${i} is rows: ${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
  return r;
}

test('create, insert with positional and named parameters, query back typed values', () =>
  withServer(async (server, client) => {
    const created = await client.execute([
      'CREATE TABLE t(id INTEGER PRIMARY KEY, big INTEGER, r REAL, s TEXT, b BLOB)',
      ['INSERT INTO t(big, r, s, b) VALUES(?, ?, ?, ?)', 9223372036854775807n, 2.5, 'x', new Uint8Array([0, 1, 254, 255])],
      ['INSERT INTO t(big, r, s, b) VALUES(:big, :r, :s, :b)', { big: -9007199254740993n, r: null, s: 'é😀', b: null }],
    ]);
    assert.deepEqual(created.results, [
      { kind: 'exec', lastInsertId: 0n, rowsAffected: 0 },
      { kind: 'exec', lastInsertId: 1n, rowsAffected: 1 },
      { kind: 'exec', lastInsertId: 2n, rowsAffected: 1 },
    ]);
    const rows = rowsOf(await client.query(['SELECT id, big, r, s, b FROM t ORDER BY id']));
    assert.deepEqual(rows.columns, ['id', 'big', 'r', 's', 'b']);
    assert.deepEqual(rows.types, ['integer', 'integer', 'real', 'text', 'blob']);
    assert.deepEqual(rows.values, [
      [1n, 9223372036854775807n, 2.5, 'x', new Uint8Array([0, 1, 254, 255])],
      [2n, -9007199254740993n, null, 'é😀', null],
    ]);
    // What went over the wire: rqlite's JSON array body, blob_array asked for so BLOBs are byte arrays.
    const [write] = server.requestsTo('/db/execute');
    assert.equal(write!.method, 'POST');
    assert.equal(write!.headers['content-type'], 'application/json');
    assert.equal(write!.query, 'blob_array&raft_index');
    assert.match(write!.body.toString(), /^\["CREATE TABLE t/);
    assert.equal(server.requestsTo('/db/query')[0]!.query, 'blob_array');
  }));

test('a REAL that Go writes without a fraction is still a number', () =>
  withServer(async (_server, client) => {
    await client.execute(['CREATE TABLE f(x REAL)', 'INSERT INTO f VALUES(2.0)']);
    assert.deepEqual(rowsOf(await client.query(['SELECT x FROM f'])).values, [[2]]);
  }));

test('an error inside a batch stands in its place; with transaction the whole batch rolls back', () =>
  withServer(async (_server, client) => {
    await client.execute(['CREATE TABLE t(id INTEGER PRIMARY KEY)']);
    const batch = await client.execute(['INSERT INTO t VALUES(1)', 'INSERT INTO nope VALUES(1)', 'INSERT INTO t VALUES(2)']);
    assert.deepEqual(batch.results, [
      { kind: 'exec', lastInsertId: 1n, rowsAffected: 1 },
      { kind: 'error', error: 'no such table: nope' },
      { kind: 'exec', lastInsertId: 2n, rowsAffected: 1 },
    ]);
    const tx = await client.execute(['INSERT INTO t VALUES(3)', 'INSERT INTO t VALUES(1)', 'INSERT INTO t VALUES(4)'], { transaction: true });
    assert.deepEqual(tx.results, [
      { kind: 'exec', lastInsertId: 3n, rowsAffected: 1 },
      { kind: 'error', error: 'UNIQUE constraint failed: t.id' },
    ]);
    assert.deepEqual(rowsOf(await client.query(['SELECT id FROM t ORDER BY id'])).values, [[1n], [2n]]);
  }));

test('a write sent as a query is refused in its result', () =>
  withServer(async (_server, client) => {
    await client.execute(['CREATE TABLE t(a)']);
    const r = await client.query(['INSERT INTO t VALUES(1)']);
    assert.deepEqual(r.results, [{ kind: 'error', error: 'attempt to change database via query operation' }]);
  }));

test('query options become rqlite flags; associative rows are objects', () =>
  withServer(async (server, client) => {
    await client.execute(['CREATE TABLE t(id INTEGER, name TEXT)', ['INSERT INTO t VALUES(?, ?)', 66, 'declan']]);
    const r = await client.query(['SELECT name, id FROM t'], { level: 'none', freshness: '1s', freshnessStrict: true, associative: true, timings: true, dbTimeout: 250 });
    const rows = rowsOf(r);
    assert.deepEqual(rows.rows, [{ id: 66n, name: 'declan' }]);
    assert.deepEqual(rows.values, [[66n, 'declan']]);
    assert.equal(rows.time, 0.125);
    assert.equal(r.time, 0.25);
    assert.equal(server.requestsTo('/db/query')[0]!.query, 'timings&db_timeout=250ms&blob_array&level=none&associative&freshness=1s&freshness_strict');
  }));

test('writes expose their raft index; readAfter sends it as raft_index', () =>
  withServer(async (server, client) => {
    assert.equal(client.raftIndex, undefined);
    const first = await client.execute(['CREATE TABLE t(a)']);
    assert.equal(first.raftIndex, 1);
    const second = await client.execute([['INSERT INTO t VALUES(?)', 1]]);
    assert.equal(second.raftIndex, 2);
    assert.equal(client.raftIndex, 2);
    await client.query(['SELECT a FROM t'], { readAfter: client.raftIndex! });
    assert.match(server.requestsTo('/db/query')[0]!.query, /(^|&)raft_index=2(&|$)/);
  }));

test('request mixes reads and writes in one call', () =>
  withServer(async (server, client) => {
    const r = await client.request(['CREATE TABLE t(a)', ['INSERT INTO t VALUES(?)', 5], 'SELECT a FROM t'], { transaction: true, level: 'strong' });
    assert.equal(r.results[0]!.kind, 'exec');
    assert.deepEqual(r.results[1], { kind: 'exec', lastInsertId: 1n, rowsAffected: 1 });
    assert.deepEqual(rowsOf(r, 2).values, [[5n]]);
    assert.equal(r.raftIndex, 1);
    assert.equal(server.requestsTo('/db/request')[0]!.query, 'blob_array&level=strong&raft_index&transaction');
    await client.request(['SELECT a FROM t'], { readAfter: 7 });
    assert.match(server.requestsTo('/db/request')[1]!.query, /(^|&)raft_index=7(&|$)/);
  }));

test('safe-number mode gives numbers for integers that fit', async () => {
  const server = await MiniRqlite.start();
  try {
    const client = new SqlClient({ urls: [server.url], integers: 'safe-number' });
    const rows = rowsOf(await client.query(['SELECT 1 AS a, 9223372036854775807 AS b']));
    assert.deepEqual(rows.values, [[1, 9223372036854775807n]]);
  } finally {
    await server.close();
  }
});

test('backup, dump, load, status, nodes and readyz', () =>
  withServer(async (server, client) => {
    await client.execute(['CREATE TABLE t(a)', ['INSERT INTO t VALUES(?)', 7]]);
    const file = await client.backup();
    assert.equal(Buffer.from(file.subarray(0, 15)).toString('latin1'), 'SQLite format 3');
    const dump = new TextDecoder().decode(await client.backup({ format: 'sql' }));
    assert.match(dump, /CREATE TABLE t\(a\);/);
    assert.equal(server.requestsTo('/db/backup')[1]!.query, 'fmt=sql');

    await client.execute(['DROP TABLE t']);
    await client.load(file);
    assert.equal(server.requestsTo('/db/load')[0]!.headers['content-type'], 'application/octet-stream');
    assert.deepEqual(rowsOf(await client.query(['SELECT a FROM t'])).values, [[7n]]);
    await client.load('CREATE TABLE u(b);');
    assert.equal(server.requestsTo('/db/load')[1]!.headers['content-type'], 'text/plain');
    await assert.rejects(client.load('CREATE TABLE u(b);'), (e: unknown) => e instanceof SqlClientError && e.code === 'request_failed' && /already exists/.test(e.message));

    const status = (await client.status()) as { store: { raft: { state: string } } };
    assert.equal(status.store.raft.state, 'Leader');
    await client.status('store.raft');
    assert.equal(server.requestsTo('/status')[1]!.query, 'key=store.raft');
    const nodes = await client.nodes();
    assert.equal(nodes.length, 1);
    assert.equal(nodes[0]!.leader, true);
    assert.equal(server.requestsTo('/nodes')[0]!.query, 'nonvoters&ver=2');
    assert.equal(await client.ready(), true);
    server.reply = (r) => (r.path === '/readyz' ? { status: 503, body: '[+]node ok\n[-]leader not ok\n' } : undefined);
    assert.equal(await client.ready(), false);
  }));

test('a token goes as Bearer; Basic credentials as rqlite expects them', async () => {
  const server = await MiniRqlite.start();
  try {
    await new SqlClient({ urls: [server.url], token: 's3cret' }).query(['SELECT 1']);
    assert.equal(server.requests[0]!.headers.authorization, 'Bearer s3cret');
    await new SqlClient({ urls: [server.url], basicAuth: { username: 'bob', password: 'pw' } }).query(['SELECT 1']);
    assert.equal(server.requests[1]!.headers.authorization, `Basic ${Buffer.from('bob:pw').toString('base64')}`);
  } finally {
    await server.close();
  }
});
