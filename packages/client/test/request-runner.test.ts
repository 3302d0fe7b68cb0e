// The retry loop against scripted fake nodes: what is retried, with which session, where to.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { RaftClient, type RaftClientError, type AttemptEvent, type ClientEvent, type RaftClientOptions } from '../src/index.js';
import { FakeNode, json, type Handlers } from './fake-node.js';
import { failure } from './assertions.js';

const nodes: FakeNode[] = [];
const clients: RaftClient[] = [];

async function fake(handlers: Handlers): Promise<FakeNode> {
  const n = await new FakeNode(handlers).listen();
  nodes.push(n);
  return n;
}

function client(urls: string[], events: ClientEvent[] = [], opts: Partial<RaftClientOptions> = {}): RaftClient {
  const c = new RaftClient({ endpoints: urls, backoff: { initialMs: 5, maxMs: 20 }, deadlineMs: 2_000, onEvent: (e) => events.push(e), ...opts });
  clients.push(c);
  return c;
}

const attempts = (events: ClientEvent[]) => events.filter((e): e is AttemptEvent => e.type === 'attempt');

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const n of nodes.splice(0)) await n.close();
});

test('503 and 408 are retried with the same client id and sequence; the next command takes the next sequence', async () => {
  let calls = 0;
  const a = await fake({
    http: (_req, res) => {
      calls++;
      if (calls === 1) return json(res, 503, { error: 'timeout', message: 'no answer in time' }, { 'retry-after': '1' });
      if (calls === 2) return json(res, 408, { error: 'request_timeout', message: 'body too slow' });
      json(res, 200, { result: { ok: calls }, index: 10 + calls });
    },
  });
  const kv = client([a.url]).group('kv');
  assert.deepEqual(await kv.command('put', { key: 'a' }), { result: { ok: 3 }, index: 13 });
  await kv.command('put', { key: 'b' });
  const sessions = a.requests.map((r) => [r.headers['x-raft-client-id'], Number(r.headers['x-raft-sequence'])] as const);
  assert.equal(new Set(sessions.map((s) => s[0])).size, 1);
  assert.deepEqual(
    sessions.map((s) => s[1] - sessions[0]![1]),
    [0, 0, 0, 1],
  );
  for (const r of a.requests) {
    assert.equal(r.headers['x-raft-no-forward'], '1');
    assert.deepEqual(r.body === undefined ? undefined : Object.keys(r.body as object), ['key']);
  }
});

test('421 sends the call straight to the hinted leader, and later calls too', async () => {
  const leader = await fake({ http: (_req, res) => json(res, 200, { result: null, index: 1 }) });
  const follower = await fake({ http: (_req, res) => json(res, 421, { error: 'not_leader', message: 'not me', leader: { id: 2, url: leader.url } }) });
  const events: ClientEvent[] = [];
  const c = client([follower.url, leader.url.replace('http://', '')], events);
  await c.group('kv').command('put', {});
  await c.group('kv').query('get', {}, { consistency: 'lease' });
  assert.deepEqual(
    attempts(events).map((e) => [e.url, e.outcome]),
    [
      [follower.url, 'redirect'],
      [leader.url, 'ok'],
      [leader.url, 'ok'],
    ],
  );
  assert.equal(c.leaderOf('kv'), leader.url);
  assert.equal(leader.requests[1]!.url, '/v1/groups/kv/queries/get?consistency=lease');
});

test('connection errors fail over to the next endpoint', async () => {
  const dead = await fake({});
  const deadUrl = dead.url;
  await dead.close();
  nodes.splice(nodes.indexOf(dead), 1);
  const live = await fake({ http: (_req, res) => json(res, 200, { result: 'ok', index: 3 }) });
  const events: ClientEvent[] = [];
  const out = await client([deadUrl, live.url], events).group('kv').command('put', {});
  assert.equal(out.result, 'ok');
  assert.deepEqual(
    attempts(events).map((e) => [e.url, e.outcome, e.code]),
    [
      [deadUrl, 'retry', 'network'],
      [live.url, 'ok', undefined],
    ],
  );
});

test('4xx (other than 421 and 408) and 500 are final', async () => {
  for (const [status, code] of [
    [400, 'bad_request'],
    [404, 'unknown_command'],
    [409, 'conflict'],
    [413, 'payload_too_large'],
    [500, 'internal'],
  ] as const) {
    const a = await fake({ http: (_req, res) => json(res, status, { error: code, message: `m${status}`, field: 'x' }) });
    const err = await failure(client([a.url]).group('kv').command('put', {}));
    assert.deepEqual([err.code, err.status, err.message, err.details['field'], a.requests.length], [code, status, `m${status}`, 'x', 1]);
  }
});

test('a hung node costs one attempt timeout, then the next node answers', async () => {
  const hung = await fake({ http: () => {} });
  const live = await fake({ http: (_req, res) => json(res, 200, { result: 1, index: 1 }) });
  const t0 = Date.now();
  await client([hung.url, live.url], [], { attemptTimeoutMs: 200 }).group('kv').query('get', {}, { consistency: 'local' });
  const took = Date.now() - t0;
  assert.ok(took >= 190 && took < 1_500, `took ${took} ms`);
});

test('deadline, abort and close', async () => {
  const busy = await fake({ http: (_req, res) => json(res, 503, { error: 'unavailable', message: 'no leader' }) });
  const events: ClientEvent[] = [];
  const c = client([busy.url], events);
  const t0 = Date.now();
  const err = await failure(c.group('kv').command('put', {}, { deadlineMs: 250 }));
  assert.equal(err.code, 'deadline_exceeded');
  assert.equal(err.status, 503);
  assert.equal((err.cause as RaftClientError).code, 'unavailable');
  assert.ok(Date.now() - t0 >= 250);
  assert.ok(attempts(events).length > 2);

  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  assert.equal((await failure(c.group('kv').command('put', {}, { signal: ac.signal }))).code, 'aborted');

  const pending = failure(c.group('kv').command('put', {}));
  setTimeout(() => c.close(), 50);
  assert.equal((await pending).code, 'closed');
  assert.equal((await failure(c.group('kv').query('get', {}))).code, 'closed');
});

test('a local query goes to the current endpoint without the no-forward header or a session', async () => {
  const a = await fake({ http: (_req, res) => json(res, 200, { result: { value: 'v' }, index: 4 }) });
  await client([a.url], [], { token: 'tok' }).group('my group').query('get', { key: 'k' }, { consistency: 'local' });
  const r = a.requests[0]!;
  assert.equal(r.url, '/v1/groups/my%20group/queries/get?consistency=local');
  assert.equal(r.headers['x-raft-no-forward'], undefined);
  assert.equal(r.headers['x-raft-client-id'], undefined);
  assert.equal(r.headers['authorization'], 'Bearer tok');
});
