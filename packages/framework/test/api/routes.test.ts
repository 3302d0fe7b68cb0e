import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { FakeService } from './fake-service.js';
import { post, request, startApi, TOKEN, type ApiServer } from './helpers.js';

describe('api routes', () => {
  let s: ApiServer;
  let svc: FakeService;
  const get = (path: string, token: string | null = TOKEN) => request(s.url, 'GET', path, { token: token ?? undefined });
  const postT = (path: string, body: unknown, headers: Record<string, string> = {}) => post(s.url, path, body, { token: TOKEN, headers });

  before(async () => {
    svc = new FakeService(1, ['kv']);
    s = await startApi(svc, { token: TOKEN, maxBodyBytes: 1024, requestTimeoutMs: 300 });
  });
  after(() => s.close());

  test('healthz needs no token; everything else answers 401 without the right one', async () => {
    const h = await get('/healthz', null);
    assert.equal(h.status, 200);
    assert.deepEqual(h.json, { status: 'ok' });
    for (const path of ['/readyz', '/metrics', '/v1/status', '/v1/groups/kv/schema', '/no/such/route']) {
      const r = await get(path, null);
      assert.equal(r.status, 401, path);
      assert.equal(r.json.error, 'unauthorized');
      assert.equal(typeof r.json.message, 'string');
      assert.equal(r.headers['www-authenticate'], 'Bearer');
    }
    assert.equal((await get('/v1/status', 'wrong-token')).status, 401);
    assert.equal((await get('/v1/status', `${TOKEN}x`)).status, 401);
    assert.equal((await request(s.url, 'GET', '/v1/status', { headers: { authorization: TOKEN } })).status, 401, 'no Bearer scheme');
    assert.equal((await post(s.url, '/v1/groups/kv/commands/put', { key: 'a', value: '1' })).status, 401);
    assert.equal(svc.calls.length, 0, 'nothing reached the service');
    assert.equal((await get('/v1/status')).status, 200);
  });

  test('readyz: 200 when ready, 503 with Retry-After when not', async () => {
    const ok = await get('/readyz');
    assert.equal(ok.status, 200);
    svc.isReady = false;
    try {
      const r = await get('/readyz');
      assert.equal(r.status, 503);
      assert.equal(r.json.error, 'unavailable');
      assert.equal(r.headers['retry-after'], '1');
    } finally {
      svc.isReady = true;
    }
  });

  test('metrics: Prometheus text with the node metrics and the API counters', async () => {
    await get('/v1/status');
    const r = await get('/metrics');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(r.text, /^fake_up 1$/m);
    assert.match(r.text, /^raftkit_api_requests_total\{route="status",status="200"\} \d+$/m);
    assert.match(r.text, /^raftkit_api_watchers 0$/m);
  });

  test('status and schema', async () => {
    const st = await get('/v1/status');
    assert.equal(st.status, 200);
    assert.equal(st.json.id, 1);
    assert.equal(st.json.groups[0].group, 'kv');
    const sc = await get('/v1/groups/kv/schema');
    assert.equal(sc.status, 200);
    assert.equal(sc.json.commands[0].name, 'put');
    const head = await request(s.url, 'HEAD', '/v1/status', { token: TOKEN });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    const unknown = await get('/v1/groups/nope/schema');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error, 'unknown_group');
  });

  test('command: result and index; the args reach the state machine', async () => {
    const r = await postT('/v1/groups/kv/commands/put', { key: 'a', value: '1' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(r.json.result, { revision: svc.groups.get('kv')!.revision });
    assert.equal(r.json.index, svc.lastIndex(svc.groups.get('kv')!));
    assert.deepEqual(svc.calls.at(-1)!.args, { key: 'a', value: '1' });
    const empty = await request(s.url, 'POST', '/v1/groups/kv/commands/noop', { token: TOKEN });
    assert.equal(empty.status, 200);
    assert.deepEqual(svc.calls.at(-1)!.args, {}, 'an empty body is {}');
  });

  test('400: bad args name the field, bad JSON, bad UTF-8, bad %-escapes', async () => {
    const bad = await postT('/v1/groups/kv/commands/put', { value: '1' });
    assert.equal(bad.status, 400);
    assert.deepEqual([bad.json.error, bad.json.field], ['bad_request', 'key']);
    const badJson = await request(s.url, 'POST', '/v1/groups/kv/commands/put', { token: TOKEN, body: '{"key": "a",' });
    assert.equal(badJson.status, 400);
    assert.equal(badJson.json.error, 'bad_request');
    assert.equal(badJson.json.field, 'body');
    const badUtf8 = await request(s.url, 'POST', '/v1/groups/kv/commands/put', { token: TOKEN, body: Buffer.from([0x22, 0xff, 0xfe, 0x22]) });
    assert.equal(badUtf8.status, 400);
    const badEscape = await request(s.url, 'POST', '/v1/groups/k%zzv/commands/put', { token: TOKEN, body: '{}' });
    assert.equal(badEscape.status, 400);
    assert.equal(badEscape.json.field, 'path');
    const badUtf8Escape = await get('/v1/groups/%C3%28/schema');
    assert.equal(badUtf8Escape.status, 400);
  });

  test('path segments are decoded after splitting', async () => {
    svc.addGroup('a b', 'kv');
    const r = await get('/v1/groups/a%20b/schema');
    assert.equal(r.status, 200);
    assert.equal(r.json.group, 'a b');
    const slash = await get('/v1/groups/a%2Fb/schema');
    assert.equal(slash.status, 404);
    assert.equal(slash.json.error, 'unknown_group');
    assert.match(slash.json.message, /a\/b/);
  });

  test('404 for unknown group, command, query and route; 405 with Allow for a wrong method', async () => {
    const g = await postT('/v1/groups/nope/commands/put', { key: 'a', value: '1' });
    assert.deepEqual([g.status, g.json.error], [404, 'unknown_group']);
    const c = await postT('/v1/groups/kv/commands/nope', {});
    assert.deepEqual([c.status, c.json.error], [404, 'unknown_command']);
    const q = await postT('/v1/groups/kv/queries/nope', {});
    assert.deepEqual([q.status, q.json.error], [404, 'unknown_query']);
    for (const path of ['/', '/v1', '/v1/groups/kv', '/v1/groups/kv/commands', '/v1/groups/kv/commands/put/extra', '/v1/status/', '/v2/status', '/v1/groups//schema']) {
      const r = await get(path);
      assert.deepEqual([r.status, r.json.error], [404, 'not_found'], path);
    }
    const m = await get('/v1/groups/kv/commands/put');
    assert.deepEqual([m.status, m.json.error], [405, 'method_not_allowed']);
    assert.equal(m.headers['allow'], 'POST');
    const d = await request(s.url, 'DELETE', '/v1/status', { token: TOKEN });
    assert.equal(d.status, 405);
    assert.equal(d.headers['allow'], 'GET, HEAD');
  });

  test('exactly-once headers are passed through and a retry answers the first result', async () => {
    const h = { 'X-Raft-Client-Id': 'client-7', 'X-Raft-Sequence': '1' };
    const first = await postT('/v1/groups/kv/commands/put', { key: 'eo', value: 'x' }, h);
    assert.equal(first.status, 200);
    assert.deepEqual(svc.calls.at(-1)!.opts, { clientId: 'client-7', sequence: 1, timeoutMs: 300 });
    const again = await postT('/v1/groups/kv/commands/put', { key: 'eo', value: 'x' }, h);
    assert.deepEqual(again.json, first.json);
    const next = await postT('/v1/groups/kv/commands/put', { key: 'eo', value: 'y' }, { ...h, 'X-Raft-Sequence': '2' });
    assert.notEqual(next.json.index, first.json.index);
  });

  test('400 for malformed exactly-once headers', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ 'X-Raft-Client-Id': 'c', 'X-Raft-Sequence': '0' }, 'X-Raft-Sequence'],
      [{ 'X-Raft-Client-Id': 'c', 'X-Raft-Sequence': '-1' }, 'X-Raft-Sequence'],
      [{ 'X-Raft-Client-Id': 'c', 'X-Raft-Sequence': '1.5' }, 'X-Raft-Sequence'],
      [{ 'X-Raft-Client-Id': 'c', 'X-Raft-Sequence': 'abc' }, 'X-Raft-Sequence'],
      [{ 'X-Raft-Client-Id': 'c', 'X-Raft-Sequence': '9007199254740993' }, 'X-Raft-Sequence'],
      [{ 'X-Raft-Client-Id': 'c', 'X-Raft-Sequence': '01' }, 'X-Raft-Sequence'],
      [{ 'X-Raft-Client-Id': 'x'.repeat(129), 'X-Raft-Sequence': '1' }, 'X-Raft-Client-Id'],
      [{ 'X-Raft-Client-Id': 'caf\u00e9', 'X-Raft-Sequence': '1' }, 'X-Raft-Client-Id'],
      [{ 'X-Raft-Client-Id': 'c' }, 'X-Raft-Sequence'],
      [{ 'X-Raft-Sequence': '3' }, 'X-Raft-Client-Id'],
    ];
    const before = svc.calls.length;
    for (const [headers, field] of cases) {
      const r = await postT('/v1/groups/kv/commands/put', { key: 'a', value: '1' }, headers);
      assert.equal(r.status, 400, JSON.stringify(headers));
      assert.equal(r.json.field, field, JSON.stringify(headers));
    }
    assert.equal(svc.calls.length, before, 'nothing reached the service');
    const ok = await postT('/v1/groups/kv/commands/put', { key: 'a', value: '1' }, { 'X-Raft-Client-Id': 'x'.repeat(128), 'X-Raft-Sequence': '9007199254740991' });
    assert.equal(ok.status, 200);
  });

  test('queries: consistency defaults to linearizable; lease and local pass; anything else is 400', async () => {
    await postT('/v1/groups/kv/commands/put', { key: 'q', value: 'v' });
    const r = await postT('/v1/groups/kv/queries/get', { key: 'q' });
    assert.equal(r.status, 200);
    assert.equal(r.json.result.value, 'v');
    assert.equal(typeof r.json.index, 'number');
    assert.equal(svc.calls.at(-1)!.consistency, 'linearizable');
    for (const c of ['lease', 'local', 'linearizable'] as const) {
      const x = await postT(`/v1/groups/kv/queries/get?consistency=${c}`, { key: 'q' });
      assert.equal(x.status, 200);
      assert.equal(svc.calls.at(-1)!.consistency, c);
    }
    for (const bad of ['?consistency=strong', '?consistency=', '?consistency=lease&consistency=local']) {
      const x = await postT(`/v1/groups/kv/queries/get${bad}`, { key: 'q' });
      assert.equal(x.status, 400, bad);
      assert.equal(x.json.field, 'consistency');
    }
  });

  test('413: a declared oversized body is refused unread', async () => {
    const before = svc.calls.length;
    const r = await request(s.url, 'POST', '/v1/groups/kv/commands/put', { token: TOKEN, body: JSON.stringify({ key: 'a', value: 'x'.repeat(2000) }) });
    assert.equal(r.status, 413);
    assert.equal(r.json.error, 'payload_too_large');
    assert.equal(svc.calls.length, before);
  });

  test('413: a streamed (chunked) body stops being read at the limit', async () => {
    const u = new URL(s.url);
    let sent = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: u.hostname, port: u.port, method: 'POST', path: '/v1/groups/kv/commands/put', agent: false, headers: { authorization: `Bearer ${TOKEN}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on('error', (e) => (sent > 0 ? undefined : reject(e)));
      const chunk = Buffer.alloc(512, 0x20);
      const pump = () => {
        // Keeps sending (up to 64 MiB) until the server answers: it must answer long before.
        if (req.destroyed || sent > 64 * 1024 * 1024) return;
        sent += chunk.length;
        if (req.write(chunk)) setImmediate(pump);
        else req.once('drain', pump);
      };
      pump();
    });
    assert.equal(status, 413);
    assert.ok(sent < 8 * 1024 * 1024, `answered after ${sent} bytes`);
  });

  test('408 when the body does not arrive in time', async () => {
    const u = new URL(s.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: u.hostname,
          port: u.port,
          method: 'POST',
          path: '/v1/groups/kv/commands/put',
          agent: false,
          headers: { authorization: `Bearer ${TOKEN}`, 'content-length': '100' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on('error', reject);
      req.write('{"key":');
    });
    assert.equal(status, 408);
  });

  test('503 with Retry-After when the node does not answer in time; 500 hides internal errors', async () => {
    const r = await postT('/v1/groups/kv/commands/hang', {});
    assert.equal(r.status, 503);
    assert.equal(r.json.error, 'timeout');
    assert.equal(r.headers['retry-after'], '1');
    const b = await postT('/v1/groups/kv/commands/boom', {});
    assert.equal(b.status, 500);
    assert.deepEqual(b.json, { error: 'internal', message: 'internal error' });
  });

  test('create a group: 201; validation names the field', async () => {
    const ok = await postT('/v1/groups', {
      group: 'g2',
      type: 'kv',
      members: [
        { id: 1, address: '127.0.0.1:1' },
        { id: 2, address: '127.0.0.1:2' },
      ],
    });
    assert.equal(ok.status, 201);
    assert.equal(ok.json.group, 'g2');
    // A member's role defaults to voter.
    assert.deepEqual(svc.calls.at(-1), {
      op: 'createGroup',
      group: 'g2',
      name: 'kv',
      extra: [
        { id: 1, address: '127.0.0.1:1', role: 'voter' },
        { id: 2, address: '127.0.0.1:2', role: 'voter' },
      ],
    });
    const dup = await postT('/v1/groups', { group: 'g2', type: 'kv', members: [{ id: 1, address: 'h:1' }] });
    assert.equal(dup.status, 409);
    const cases: [unknown, string][] = [
      [[], 'body'],
      [{ type: 'kv', members: [{ id: 1, address: 'h:1' }] }, 'group'],
      [{ group: '-bad', type: 'kv', members: [{ id: 1, address: 'h:1' }] }, 'group'],
      [{ group: 'g3', members: [{ id: 1, address: 'h:1' }] }, 'type'],
      [{ group: 'g3', type: 'kv' }, 'members'],
      [{ group: 'g3', type: 'kv', members: [] }, 'members'],
      [{ group: 'g3', type: 'kv', members: [{ id: 0, address: 'h:1' }] }, 'members[0].id'],
      [{ group: 'g3', type: 'kv', members: [{ id: 1, address: 'h:1', role: 'boss' }] }, 'members[0].role'],
      [{ group: 'g3', type: 'kv', members: [{ id: 1.5, address: 'h:1' }] }, 'members[0].id'],
      [
        {
          group: 'g3',
          type: 'kv',
          members: [
            { id: 1, address: 'h:1' },
            { id: 1, address: 'h:2' },
          ],
        },
        'members[1].id',
      ],
      [{ group: 'g3', type: 'kv', members: [{ id: 1 }] }, 'members[0].address'],
    ];
    for (const [body, field] of cases) {
      const r = await postT('/v1/groups', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.field, field, JSON.stringify(body));
    }
    const empty = await request(s.url, 'POST', '/v1/groups', { token: TOKEN });
    assert.deepEqual([empty.status, empty.json.field], [400, 'body']);
  });

  test('list groups: GET /v1/groups answers the groups of /v1/status; HEAD; token; 405 names GET, HEAD and POST', async () => {
    const listing = await postT('/v1/groups', { group: 'listed', type: 'kv', members: [{ id: 1, address: '127.0.0.1:1' }] });
    assert.equal(listing.status, 201);
    const r = await get('/v1/groups');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.json), ['groups']);
    assert.deepEqual(r.json.groups, (await get('/v1/status')).json.groups);
    const kv = r.json.groups.find((g: { group: string }) => g.group === 'kv');
    assert.deepEqual(
      { type: kv.type, role: kv.role, leader: kv.leader, term: kv.term, members: kv.members },
      { type: 'kv', role: 'leader', leader: 1, term: 3, members: svc.groups.get('kv')!.members },
    );
    assert.ok(
      r.json.groups.some((g: { group: string }) => g.group === 'listed'),
      'a created group is listed',
    );
    assert.equal(svc.calls.at(-1)?.op, 'createGroup', 'listing calls nothing on the service but status');
    const head = await request(s.url, 'HEAD', '/v1/groups', { token: TOKEN });
    assert.deepEqual([head.status, head.text], [200, '']);
    assert.equal((await get('/v1/groups', null)).status, 401);
    const put = await request(s.url, 'PUT', '/v1/groups', { token: TOKEN, body: '{}' });
    assert.deepEqual([put.status, put.json.error, put.headers['allow']], [405, 'method_not_allowed', 'GET, HEAD, POST']);
  });

  test('membership, leader transfer and snapshot', async () => {
    const add = await postT('/v1/groups/kv/members', { id: 4, address: '127.0.0.1:4', role: 'learner' });
    assert.equal(add.status, 200);
    assert.deepEqual(svc.calls.at(-1)!.extra, { id: 4, address: '127.0.0.1:4', role: 'learner' });
    await postT('/v1/groups/kv/members', { id: 5, address: '127.0.0.1:5' });
    assert.deepEqual(svc.calls.at(-1)!.extra, { id: 5, address: '127.0.0.1:5', role: 'learner' }, 'role defaults to learner');
    assert.equal((await postT('/v1/groups/kv/members', { id: 6, address: 'h:6', role: 'boss' })).json.field, 'role');
    assert.equal((await postT('/v1/groups/kv/members', { id: 'x', address: 'h:6' })).json.field, 'id');
    const promote = await postT('/v1/groups/kv/members/4/promote', undefined);
    assert.equal(promote.status, 200);
    assert.deepEqual(svc.calls.at(-1), { op: 'promote', group: 'kv', extra: { id: 4 } });
    assert.equal((await postT('/v1/groups/kv/members/4/demote', undefined)).status, 200);
    assert.equal(svc.calls.at(-1)!.op, 'demote');
    const del = await request(s.url, 'DELETE', '/v1/groups/kv/members/4', { token: TOKEN });
    assert.equal(del.status, 200);
    assert.deepEqual(svc.calls.at(-1), { op: 'removeMember', group: 'kv', extra: { id: 4 } });
    const badId = await request(s.url, 'DELETE', '/v1/groups/kv/members/four', { token: TOKEN });
    assert.deepEqual([badId.status, badId.json.field], [400, 'id']);
    const t = await postT('/v1/groups/kv/leader/transfer', { to: 2 });
    assert.equal(t.status, 200);
    assert.deepEqual(svc.calls.at(-1), { op: 'transferLeader', group: 'kv', extra: { to: 2 } });
    assert.equal((await postT('/v1/groups/kv/leader/transfer', { to: -2 })).json.field, 'to');
    const snap = await postT('/v1/groups/kv/snapshot', undefined);
    assert.equal(snap.status, 200);
    assert.equal(snap.json.index, svc.lastIndex(svc.groups.get('kv')!));
    assert.equal((await postT('/v1/groups/nope/snapshot', undefined)).status, 404);
  });

  test('after close() requests are answered 503', async () => {
    const other = await startApi(new FakeService(9), {});
    await other.api.close();
    const r = await request(other.url, 'GET', '/v1/status');
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], '1');
    await other.close();
  });
});
