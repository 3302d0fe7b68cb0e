import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeService } from './fake-service.js';
import { post, request, startApi, TOKEN, type ApiServer } from './helpers.js';

describe('leader forwarding', () => {
  let leader: ApiServer;
  let follower: ApiServer;
  let deadUrl: string;

  before(async () => {
    leader = await startApi(new FakeService(1), { token: TOKEN });
    follower = await startApi(new FakeService(2), { token: TOKEN });
    follower.service.leader = { id: 1, url: leader.url };
    // A port that refuses connections: listen, note it, close.
    const tmp = http.createServer();
    await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
    deadUrl = `http://127.0.0.1:${(tmp.address() as AddressInfo).port}`;
    await new Promise((r) => tmp.close(r));
  });
  after(async () => {
    await follower.close();
    await leader.close();
  });

  test('a follower forwards a command to the leader with the exactly-once headers and the token', async () => {
    const r = await post(
      follower.url,
      '/v1/groups/kv/commands/put',
      { key: 'f', value: '1' },
      { token: TOKEN, headers: { 'X-Raft-Client-Id': 'fw-client', 'X-Raft-Sequence': '5', 'X-Custom': 'kept' } },
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['x-raft-forwarded-to'], '1');
    assert.deepEqual(r.json.result, { revision: 1 });
    const applied = leader.service.calls.at(-1)!;
    assert.deepEqual([applied.op, applied.name, applied.args], ['command', 'put', { key: 'f', value: '1' }]);
    assert.equal(applied.opts!.clientId, 'fw-client');
    assert.equal(applied.opts!.sequence, 5);
    const seen = leader.seen.at(-1)!;
    assert.equal(seen.url, '/v1/groups/kv/commands/put');
    assert.equal(seen.headers['x-raft-no-forward'], '1');
    assert.equal(seen.headers['x-raft-forwarded-by'], '2');
    assert.equal(seen.headers['authorization'], `Bearer ${TOKEN}`);
    assert.equal(seen.headers['x-custom'], 'kept');
    // A retry through the follower answers the first result (the leader's session).
    const again = await post(
      follower.url,
      '/v1/groups/kv/commands/put',
      { key: 'f', value: '1' },
      { token: TOKEN, headers: { 'X-Raft-Client-Id': 'fw-client', 'X-Raft-Sequence': '5' } },
    );
    assert.deepEqual(again.json, r.json);
    assert.equal(leader.service.groups.get('kv')!.revision, 1);
  });

  test('queries keep their consistency; errors of the leader are relayed as they are', async () => {
    await post(follower.url, '/v1/groups/kv/commands/put', { key: 'q', value: 'v' }, { token: TOKEN });
    const r = await post(follower.url, '/v1/groups/kv/queries/get?consistency=lease', { key: 'q' }, { token: TOKEN });
    assert.equal(r.status, 200);
    assert.equal(r.json.result.value, 'v');
    assert.equal(leader.service.calls.at(-1)!.consistency, 'lease');
    assert.equal(leader.seen.at(-1)!.url, '/v1/groups/kv/queries/get?consistency=lease');
    const bad = await post(follower.url, '/v1/groups/kv/commands/put', { value: 'v' }, { token: TOKEN });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.field, 'key');
    assert.equal(bad.headers['x-raft-forwarded-to'], '1');
    // A local query never leaves the follower.
    const before = leader.seen.length;
    const local = await post(follower.url, '/v1/groups/kv/queries/get?consistency=local', { key: 'q' }, { token: TOKEN });
    assert.equal(local.status, 200);
    assert.equal(local.json.result.value, null, "the follower's own (empty) state");
    assert.equal(leader.seen.length, before);
  });

  test('membership changes are forwarded too', async () => {
    const r = await post(follower.url, '/v1/groups/kv/members', { id: 7, address: '127.0.0.1:7', role: 'voter' }, { token: TOKEN });
    assert.equal(r.status, 200);
    assert.deepEqual(leader.service.calls.at(-1), { op: 'addMember', group: 'kv', extra: { id: 7, address: '127.0.0.1:7', role: 'voter' } });
  });

  test('X-Raft-No-Forward: 1 answers 421 with the leader', async () => {
    const before = leader.seen.length;
    const r = await post(follower.url, '/v1/groups/kv/commands/put', { key: 'a', value: '1' }, { token: TOKEN, headers: { 'X-Raft-No-Forward': '1' } });
    assert.equal(r.status, 421);
    assert.equal(r.json.error, 'not_leader');
    assert.deepEqual(r.json.leader, { id: 1, url: leader.url });
    assert.equal(typeof r.json.message, 'string');
    const q = await post(follower.url, '/v1/groups/kv/queries/get', { key: 'a' }, { token: TOKEN, headers: { 'X-Raft-No-Forward': '1' } });
    assert.equal(q.status, 421);
    assert.equal(leader.seen.length, before, 'nothing was forwarded');
  });

  test('forward: false answers 421 without the header', async () => {
    const svc = new FakeService(3);
    svc.leader = { id: 1, url: leader.url };
    const s = await startApi(svc, { forward: false });
    try {
      const r = await post(s.url, '/v1/groups/kv/commands/put', { key: 'a', value: '1' });
      assert.equal(r.status, 421);
      assert.deepEqual(r.json.leader, { id: 1, url: leader.url });
    } finally {
      await s.close();
    }
  });

  test('a forwarded request is never forwarded again (X-Raft-Forwarded-By)', async () => {
    const r = await post(follower.url, '/v1/groups/kv/commands/put', { key: 'a', value: '1' }, { token: TOKEN, headers: { 'X-Raft-Forwarded-By': '9' } });
    assert.equal(r.status, 421);
  });

  test('two nodes that name each other as leader: one hop, then 503 (no loop)', async () => {
    const a = await startApi(new FakeService(11), { token: TOKEN });
    const b = await startApi(new FakeService(12), { token: TOKEN });
    a.service.leader = { id: 12, url: b.url };
    b.service.leader = { id: 11, url: a.url };
    try {
      const r = await post(a.url, '/v1/groups/kv/commands/put', { key: 'a', value: '1' }, { token: TOKEN });
      assert.equal(r.status, 503);
      assert.equal(r.json.error, 'unavailable');
      assert.equal(r.headers['retry-after'], '1');
      assert.equal(a.seen.length, 1, 'a saw only the client');
      assert.equal(b.seen.length, 1, 'b saw one forwarded request');
      assert.equal(b.seen[0]!.headers['x-raft-no-forward'], '1');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a stale hint is followed to the newer leader (bounded hops)', async () => {
    const stale = await startApi(new FakeService(21), { token: TOKEN });
    const entry = await startApi(new FakeService(22), { token: TOKEN });
    stale.service.leader = { id: 1, url: leader.url };
    entry.service.leader = { id: 21, url: stale.url };
    try {
      const r = await post(entry.url, '/v1/groups/kv/commands/put', { key: 'hop', value: '1' }, { token: TOKEN });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['x-raft-forwarded-to'], '1');
      assert.equal(stale.seen.length, 1);
    } finally {
      await stale.close();
      await entry.close();
    }
  });

  test('503 with Retry-After when the leader is unknown or unreachable', async () => {
    const svc = new FakeService(4);
    const s = await startApi(svc, {});
    try {
      svc.leader = undefined;
      for (const headers of [{}, { 'X-Raft-No-Forward': '1' }] as Record<string, string>[]) {
        const r = await post(s.url, '/v1/groups/kv/commands/put', { key: 'a', value: '1' }, { headers });
        assert.equal(r.status, 503);
        assert.equal(r.json.error, 'unavailable');
        assert.equal(r.headers['retry-after'], '1');
      }
      svc.leader = { id: 1, url: deadUrl };
      const r = await post(s.url, '/v1/groups/kv/commands/put', { key: 'a', value: '1' });
      assert.equal(r.status, 503);
      assert.equal(r.json.error, 'unavailable');
      assert.match(r.json.message, /unreachable/);
      assert.equal(r.headers['retry-after'], '1');
      svc.leader = { id: 1, url: 'not a url' };
      assert.equal((await post(s.url, '/v1/groups/kv/commands/put', { key: 'a', value: '1' })).status, 503);
    } finally {
      await s.close();
    }
  });

  test('a leader that does not answer in time: 503 timeout', async () => {
    const svc = new FakeService(5);
    const s = await startApi(svc, { requestTimeoutMs: 300 });
    svc.leader = { id: 1, url: leader.url };
    try {
      const r = await post(s.url, '/v1/groups/kv/commands/hang', {}, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(r.status, 503);
      assert.equal(r.json.error, 'timeout');
      assert.equal(r.headers['retry-after'], '1');
    } finally {
      await s.close();
    }
  });

  test('keep-alive: many forwarded requests reuse a few connections', async () => {
    const sockets = new Set<unknown>();
    const onConn = (sock: unknown) => sockets.add(sock);
    leader.server.on('connection', onConn);
    try {
      for (let i = 0; i < 20; i++) {
        const r = await request(follower.url, 'POST', '/v1/groups/kv/commands/noop', { token: TOKEN });
        assert.equal(r.status, 200);
      }
      assert.ok(sockets.size <= 2, `${sockets.size} connections for 20 forwards`);
    } finally {
      leader.server.off('connection', onConn);
    }
  });
});
