import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqlClient, SqlClientError } from '../../src/client/index.js';
import { closedPort, MiniRqlite } from './mini-rqlite.js';

function isClientError(code: string, message?: RegExp, status?: number): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof SqlClientError, `a SqlClientError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    if (status !== undefined) assert.equal(e.status, status);
    return true;
  };
}

test('HTTP errors become coded errors with the server message (text or JSON) and the status', async () => {
  const server = await MiniRqlite.start();
  try {
    const client = new SqlClient({ urls: [server.url] });
    server.reply = () => ({ status: 401, headers: { 'content-type': 'text/plain' }, body: 'unauthorized\n' });
    await assert.rejects(client.query(['SELECT 1']), isClientError('unauthorized', /^unauthorized \(HTTP 401\)$/, 401));
    server.reply = () => ({ status: 400, headers: { 'content-type': 'text/plain' }, body: 'level must be one of none, weak, strong, linearizable, auto\n' });
    await assert.rejects(client.query(['SELECT 1']), isClientError('bad_request', /^level must be one of .* \(HTTP 400\)$/));
    server.reply = () => ({ status: 503, body: '{"error":{"code":"no_leader","message":"no leader elected yet"}}' });
    await assert.rejects(client.execute(['CREATE TABLE t(a)']), isClientError('unavailable', /^no leader elected yet \(HTTP 503\)$/));
    server.reply = () => ({ status: 500, body: '{"error":"json: unsupported value: +Inf"}' });
    await assert.rejects(client.query(['SELECT 1']), isClientError('http_error', /unsupported value/, 500));
    server.reply = () => ({ status: 200, headers: { 'content-type': 'text/html' }, body: '<html>' });
    await assert.rejects(client.query(['SELECT 1']), isClientError('bad_response'));
  } finally {
    await server.close();
  }
});

test('connection refused: one line naming the node', async () => {
  const port = await closedPort();
  const client = new SqlClient({ urls: [`127.0.0.1:${port}`] });
  await assert.rejects(client.query(['SELECT 1']), isClientError('unreachable', new RegExp(`^cannot reach http://127\\.0\\.0\\.1:${port}: connection refused$`)));
});

test('fails over to the next URL when a node cannot be reached, and stays there', async () => {
  const server = await MiniRqlite.start();
  try {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const client = new SqlClient({ urls: [dead, server.url] });
    assert.equal(client.currentUrl, dead);
    const r = await client.execute(['CREATE TABLE t(a)']);
    assert.equal(r.results[0]!.kind, 'exec');
    assert.equal(client.currentUrl, server.url);
    await client.query(['SELECT 1']);
    assert.equal(server.requests.length, 2);
  } finally {
    await server.close();
  }
});

test('a write whose connection broke mid-request is not sent to another node (it may have been applied)', async () => {
  const first = await MiniRqlite.start(() => ({ destroy: true }));
  const second = await MiniRqlite.start();
  try {
    const client = new SqlClient({ urls: [first.url, second.url] });
    await assert.rejects(client.execute(['CREATE TABLE t(a)']), isClientError('unreachable', /may have been applied/));
    assert.equal(second.requests.length, 0);
    // A read is safe to repeat elsewhere.
    const r = await client.query(['SELECT 1 AS one']);
    assert.equal(r.results[0]!.kind, 'rows');
    assert.equal(second.requests.length, 1);
  } finally {
    await first.close();
    await second.close();
  }
});

test('a node that answers too late is a timeout', async () => {
  const server = await MiniRqlite.start(() => ({ delayMs: 1000, body: '{"results":[]}' }));
  try {
    const client = new SqlClient({ urls: [server.url], timeoutMs: 100 });
    await assert.rejects(client.query(['SELECT 1']), isClientError('timeout', /within 100 ms/));
    await assert.rejects(client.query(['SELECT 1'], { timeoutMs: 50 }), isClientError('timeout', /within 50 ms/));
  } finally {
    await server.close();
  }
});

test('a redirect to the leader is followed with the same method and body', async () => {
  const leader = await MiniRqlite.start();
  const follower = await MiniRqlite.start(() => ({ status: 301, headers: { location: `${leader.url}/db/execute?blob_array&raft_index&redirect` } }));
  try {
    const client = new SqlClient({ urls: [follower.url] });
    const r = await client.execute(['CREATE TABLE t(a)']);
    assert.equal(r.results[0]!.kind, 'exec');
    const [forwarded] = leader.requestsTo('/db/execute');
    assert.equal(forwarded!.method, 'POST');
    assert.equal(forwarded!.body.toString(), '["CREATE TABLE t(a)"]');
    follower.reply = () => ({ status: 301, headers: { location: `${follower.url}/db/execute` } });
    await assert.rejects(client.execute(['SELECT 1']), isClientError('redirect_loop'));
  } finally {
    await leader.close();
    await follower.close();
  }
});

test('an injected fetch is used instead of the global one', async () => {
  const seen: string[] = [];
  const client = new SqlClient({
    urls: ['http://db.invalid:4001'],
    fetch: (url, init) => {
      seen.push(`${init.method} ${url}`);
      return Promise.resolve(new Response('{"results":[{"columns":["x"],"types":["integer"],"values":[[1]]}]}', { status: 200 }));
    },
  });
  const r = await client.query(['SELECT 1 AS x']);
  assert.deepEqual(r.results[0], { kind: 'rows', columns: ['x'], types: ['integer'], values: [[1n]] });
  assert.deepEqual(seen, ['POST http://db.invalid:4001/db/query?blob_array']);
});

test('no URLs is an invalid argument', () => {
  assert.throws(() => new SqlClient({ urls: [] }), isClientError('invalid_argument'));
});
