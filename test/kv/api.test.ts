// Black-box tests of the HTTP API (docs/api.md sections 2 and 3) against a 3-node raftkit-kv
// cluster started with --token: routes, semantics, revisions, every error code, forwarding,
// consistency levels, observability, leadership transfer and finally quorum loss.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KvCluster, eventually, freePorts, runBin, sendLarge, sleep } from './kv-cluster.js';

const TOKEN = 'kv-api-secret';
const c = new KvCluster([1, 2, 3], { token: TOKEN });
const run = Date.now().toString(36);
const k = (s: string) => `api-${run}/${s}`;

/** A second group that stays idle from the start (see the quiesce test near the end). */
const QUIET = 'quiet';
let quietSince = 0;

before(async () => {
  await c.startAll();
  const members = c.ids.map((id) => ({ id, address: `127.0.0.1:${c.portOf(id)}` }));
  for (const id of c.ids) {
    const r = await c.req(id, 'POST', '/v1/groups', { body: { group: QUIET, type: 'kv', members } });
    assert.equal(r.status, 201, r.text);
  }
  await eventually(
    async () => {
      const r = await c.req(1, 'POST', `/v1/groups/${QUIET}/commands/put`, { body: { key: 'q', value: '1' } });
      return r.status === 200 ? true : undefined;
    },
    15_000,
    `a leader of ${QUIET}`,
  );
  quietSince = Date.now();
});

after(async () => {
  await c.stopAll();
});

/** Asserts an error answer: status, `{"error": code, "message": text}` and (optionally) the field. */
function assertError(r: { status: number; body: any; text: string }, status: number, code: string, field?: string): void {
  assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status}: ${r.text}`);
  assert.equal(r.body?.error, code, r.text);
  assert.equal(typeof r.body.message, 'string', r.text);
  assert.ok(r.body.message.length > 0);
  if (field !== undefined) assert.equal(r.body.field, field, `the error should name the field ${field}: ${r.text}`);
}

test('put / get / delete / cas / range: results and revisions as in section 3', async () => {
  const leader = await c.waitLeader();
  const [f1, f2] = c.ids.filter((id) => id !== leader) as [number, number];

  const p1 = await c.ok(leader, 'put', { key: k('a'), value: 'v1' });
  assert.equal(typeof p1.result.revision, 'number');
  assert.ok(Number.isInteger(p1.index) && p1.index > 0);
  let rev: number = p1.result.revision;

  // A get (linearizable, through a follower) answers the put's revision.
  let g = await c.query(f1, 'get', { key: k('a') });
  assert.equal(g.status, 200, g.text);
  assert.deepEqual(g.body.result, { value: 'v1', revision: rev });
  assert.ok(g.body.index >= p1.index, 'a linearizable read is served at or after the put');

  // Every change moves the store's revision by exactly one.
  const p2 = await c.ok(f2, 'put', { key: k('b'), value: 'vb' });
  assert.equal(p2.result.revision, rev + 1);
  assert.ok(p2.index > p1.index);
  const p3 = await c.ok(leader, 'put', { key: k('a'), value: 'v2' });
  assert.equal(p3.result.revision, rev + 2);
  rev += 2;
  g = await c.query(leader, 'get', { key: k('a') });
  assert.deepEqual(g.body.result, { value: 'v2', revision: rev });
  g = await c.query(f1, 'get', { key: k('b') });
  assert.deepEqual(g.body.result, { value: 'vb', revision: rev - 1 }, 'b keeps the revision of its last change');

  // A missing key: value null.
  g = await c.query(f2, 'get', { key: k('never') });
  assert.equal(g.status, 200);
  assert.equal(g.body.result.value, null);
  assert.equal(typeof g.body.result.revision, 'number');

  // delete of a missing key: deleted false, the store's revision does not move.
  const d0 = await c.ok(f1, 'delete', { key: k('never') });
  assert.equal(d0.result.deleted, false);
  assert.equal(typeof d0.result.revision, 'number');
  const d1 = await c.ok(f1, 'delete', { key: k('b') });
  assert.deepEqual(d1.result, { deleted: true, revision: rev + 1 }, 'the missing-key delete did not change the revision');
  rev += 1;
  g = await c.query(leader, 'get', { key: k('b') });
  assert.equal(g.body.result.value, null);

  // cas with expected null: only when the key is absent.
  const c1 = await c.ok(leader, 'cas', { key: k('c'), expected: null, value: 'c1' });
  assert.deepEqual(c1.result, { succeeded: true, revision: rev + 1 });
  rev += 1;
  const c2 = await c.ok(f2, 'cas', { key: k('c'), expected: null, value: 'c2' });
  assert.equal(c2.result.succeeded, false);
  const c3 = await c.ok(f2, 'cas', { key: k('c'), expected: 'wrong', value: 'c3' });
  assert.equal(c3.result.succeeded, false);
  const c4 = await c.ok(f1, 'cas', { key: k('c'), expected: 'c1', value: 'c4' });
  assert.deepEqual(c4.result, { succeeded: true, revision: rev + 1 }, 'failed cas did not move the revision');
  rev += 1;
  g = await c.query(f2, 'get', { key: k('c') });
  assert.deepEqual(g.body.result, { value: 'c4', revision: rev });
  // cas on a deleted key with expected null succeeds again
  const c5 = await c.ok(leader, 'cas', { key: k('b'), expected: null, value: 'back' });
  assert.deepEqual(c5.result, { succeeded: true, revision: rev + 1 });
  rev += 1;

  // range: sorted by key, each with its last change's revision; limit.
  const r = await c.query(f1, 'range', { prefix: `api-${run}/` });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.result.items, [
    { key: k('a'), value: 'v2', revision: p3.result.revision },
    { key: k('b'), value: 'back', revision: rev },
    { key: k('c'), value: 'c4', revision: rev - 1 },
  ]);
  const rl = await c.query(f2, 'range', { prefix: `api-${run}/`, limit: 2 });
  assert.deepEqual(
    rl.body.result.items.map((i: any) => i.key),
    [k('a'), k('b')],
  );
  const rn = await c.query(f2, 'range', { prefix: `api-${run}/zzz` });
  assert.deepEqual(rn.body.result, { items: [] });

  // Values are strings: the empty string and unicode are kept as they are.
  await c.ok(leader, 'put', { key: k('u'), value: '' });
  assert.equal((await c.query(f1, 'get', { key: k('u') })).body.result.value, '');
  await c.ok(leader, 'put', { key: k('ü/ß 🙂'), value: 'ünï 🙂' });
  assert.equal((await c.query(f2, 'get', { key: k('ü/ß 🙂') })).body.result.value, 'ünï 🙂');
});

test('forwarding: commands and linearizable queries sent to followers succeed', async () => {
  const leader = await c.waitLeader();
  for (const f of c.ids.filter((id) => id !== leader)) {
    const p = await c.command(f, 'put', { key: k(`fwd-${f}`), value: `from-${f}` });
    assert.equal(p.status, 200, p.text);
    assert.equal(p.headers['x-raft-forwarded-to'], String(leader), 'the answer was relayed from the leader');
    // read-your-writes through every other node, linearizable
    for (const other of c.ids) {
      const g = await c.query(other, 'get', { key: k(`fwd-${f}`) });
      assert.equal(g.status, 200, g.text);
      assert.deepEqual(g.body.result, { value: `from-${f}`, revision: p.body.result.revision }, `node ${other} reads the write made through ${f}`);
    }
  }
});

test('consistency levels linearizable, lease and local all answer', async () => {
  const leader = await c.waitLeader();
  const p = await c.ok(leader, 'put', { key: k('cons'), value: 'x' });
  for (const id of c.ids) {
    for (const consistency of ['linearizable', 'lease', 'local']) {
      // local reads on a follower may lag: they answer 200 at once and catch up shortly
      const g = await eventually(
        async () => {
          const r = await c.query(id, 'get', { key: k('cons') }, consistency);
          assert.equal(r.status, 200, `${consistency} on node ${id}: ${r.text}`);
          return r.body.result.value === 'x' ? r : undefined;
        },
        5000,
        `${consistency} read on ${id}`,
      );
      assert.deepEqual(g.body.result, { value: 'x', revision: p.result.revision });
      assert.ok(Number.isInteger(g.body.index) && g.body.index >= p.index, `${consistency}: index ${g.body.index} >= ${p.index}`);
    }
  }
  // the default is linearizable: the read right after a write through a follower sees it
  const f = c.ids.find((id) => id !== leader)!;
  const p2 = await c.ok(f, 'put', { key: k('cons'), value: 'y' });
  const g = await c.query(f, 'get', { key: k('cons') });
  assert.deepEqual(g.body.result, { value: 'y', revision: p2.result.revision });
});

test('400: validation names the field; bad JSON; bad consistency; bad exactly-once headers', async () => {
  const leader = await c.waitLeader();
  const f = c.ids.find((id) => id !== leader)!;
  for (const id of [leader, f]) {
    assertError(await c.command(id, 'put', { key: '', value: 'x' }), 400, 'bad_request', 'key');
    assertError(await c.command(id, 'put', { value: 'x' }), 400, 'bad_request', 'key');
    assertError(await c.command(id, 'put', { key: 'x', value: 5 }), 400, 'bad_request', 'value');
    assertError(await c.command(id, 'put', { key: 'x' }), 400, 'bad_request', 'value');
    assertError(await c.command(id, 'delete', { key: 7 }), 400, 'bad_request', 'key');
    assertError(await c.command(id, 'cas', { key: 'x', expected: 3, value: 'y' }), 400, 'bad_request', 'expected');
    assertError(await c.command(id, 'cas', { key: 'x', expected: null }), 400, 'bad_request', 'value');
    assertError(await c.query(id, 'get', {}), 400, 'bad_request', 'key');
    assertError(await c.query(id, 'range', { prefix: 1 }), 400, 'bad_request', 'prefix');
    assertError(await c.query(id, 'range', { prefix: 'a', limit: 0 }), 400, 'bad_request', 'limit');
    assertError(await c.query(id, 'range', { prefix: 'a', limit: 'ten' }), 400, 'bad_request', 'limit');
    // bad JSON and non-UTF-8 bodies
    assertError(await c.req(id, 'POST', '/v1/groups/kv/commands/put', { raw: '{"key": "a", ' }), 400, 'bad_request', 'body');
    assertError(await c.req(id, 'POST', '/v1/groups/kv/queries/get', { raw: 'not json' }), 400, 'bad_request', 'body');
    assertError(await c.req(id, 'POST', '/v1/groups/kv/commands/put', { raw: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }), 400, 'bad_request', 'body');
    // consistency
    assertError(await c.query(id, 'get', { key: 'a' }, 'strong'), 400, 'bad_request', 'consistency');
    assertError(await c.req(id, 'POST', '/v1/groups/kv/queries/get?consistency=local&consistency=lease', { body: { key: 'a' } }), 400, 'bad_request', 'consistency');
    // X-Raft-Sequence / X-Raft-Client-Id
    const put = (headers: Record<string, string>) => c.command(id, 'put', { key: k('hdr'), value: 'x' }, { headers });
    for (const seq of ['0', '-1', 'abc', '1.5', '99999999999999999999']) {
      assertError(await put({ 'x-raft-client-id': 'c', 'x-raft-sequence': seq }), 400, 'bad_request', 'X-Raft-Sequence');
    }
    assertError(await put({ 'x-raft-client-id': 'c' }), 400, 'bad_request', 'X-Raft-Sequence');
    assertError(await put({ 'x-raft-sequence': '1' }), 400, 'bad_request', 'X-Raft-Client-Id');
  }
  // nothing of the above was applied
  const g = await c.query(leader, 'get', { key: k('hdr') });
  assert.equal(g.body.result.value, null);
});

test('401: missing or wrong token on every route but /healthz', async () => {
  const leader = await c.waitLeader();
  const f = c.ids.find((id) => id !== leader)!;
  const routes: [string, string, unknown?][] = [
    ['GET', '/v1/status'],
    ['GET', '/readyz'],
    ['GET', '/metrics'],
    ['GET', '/v1/groups/kv/schema'],
    ['GET', '/v1/groups/kv/watch?from=1'],
    ['POST', '/v1/groups/kv/commands/put', { key: k('unauth'), value: 'x' }],
    ['POST', '/v1/groups/kv/queries/get', { key: k('unauth') }],
    ['POST', '/v1/groups/kv/snapshot'],
    ['POST', '/v1/groups/kv/members', { id: 9, address: '127.0.0.1:1', role: 'learner' }],
    ['DELETE', '/v1/groups/kv/members/3'],
    ['POST', '/v1/groups/kv/members/3/demote'],
    ['POST', '/v1/groups/kv/leader/transfer', { to: f }],
    ['POST', '/v1/groups', { group: 'x', type: 'kv', members: [{ id: 1, address: '127.0.0.1:1' }] }],
    ['GET', '/v1/groups/nope/schema'],
  ];
  for (const [method, path, body] of routes) {
    for (const token of [null, 'wrong-token', '']) {
      const r = await c.req(f, method, path, { token, body });
      assertError(r, 401, 'unauthorized');
    }
    // a malformed Authorization header
    const r = await c.req(leader, method, path, { token: null, body, headers: { authorization: TOKEN } });
    assertError(r, 401, 'unauthorized');
  }
  // the WebSocket watch refuses the upgrade too (and works with the token)
  for (const token of [null, 'wrong']) {
    const w = c.watch(f, '?from=1', { token });
    const closed = await w.closed;
    assert.equal(closed.status, 401, JSON.stringify(closed));
    assert.equal(JSON.parse(closed.body!).error, 'unauthorized');
  }
  const p = await c.ok(leader, 'put', { key: k('authed-watch'), value: 'w' });
  const ok = c.watch(f, `?from=${p.index}`);
  try {
    await ok.until(p.index);
    assert.deepEqual(ok.entries[0]!.args, { key: k('authed-watch'), value: 'w' });
  } finally {
    await ok.close();
  }
  // /healthz is open
  for (const id of c.ids) {
    const h = await c.req(id, 'GET', '/healthz', { token: null });
    assert.equal(h.status, 200, h.text);
    assert.deepEqual(h.body, { status: 'ok' });
  }
  // nothing was applied
  assert.equal((await c.query(leader, 'get', { key: k('unauth') })).body.result.value, null);
  assert.deepEqual((await c.kvStatus(leader)).members.map((m: any) => m.id).sort(), [1, 2, 3]);
});

test('404: unknown group, command, query and route', async () => {
  const leader = await c.waitLeader();
  const f = c.ids.find((id) => id !== leader)!;
  for (const id of [leader, f]) {
    assertError(await c.req(id, 'POST', '/v1/groups/nogroup/commands/put', { body: { key: 'a', value: 'b' } }), 404, 'unknown_group');
    assertError(await c.req(id, 'POST', '/v1/groups/nogroup/queries/get', { body: { key: 'a' } }), 404, 'unknown_group');
    assertError(await c.req(id, 'GET', '/v1/groups/nogroup/schema'), 404, 'unknown_group');
    assertError(await c.req(id, 'GET', '/v1/groups/nogroup/watch?from=1'), 404, 'unknown_group');
    assertError(await c.req(id, 'POST', '/v1/groups/kv/commands/increment', { body: { key: 'a' } }), 404, 'unknown_command');
    assertError(await c.req(id, 'POST', '/v1/groups/kv/queries/scan', { body: { key: 'a' } }), 404, 'unknown_query');
    // a query name is not a command and vice versa
    assertError(await c.req(id, 'POST', '/v1/groups/kv/commands/get', { body: { key: 'a' } }), 404, 'unknown_command');
    assertError(await c.req(id, 'POST', '/v1/groups/kv/queries/put', { body: { key: 'a', value: 'b' } }), 404, 'unknown_query');
    assertError(await c.req(id, 'GET', '/v2/status'), 404, 'not_found');
    assertError(await c.req(id, 'GET', '/v1/groups/kv'), 404, 'not_found');
  }
  // an unknown group over the WebSocket watch: the accepted socket closes with 4404
  const w = c.watch(f, '?from=1', { group: 'nogroup' });
  const closed = await w.closed;
  assert.equal(closed.code, 4404, JSON.stringify(closed));
  assert.equal(JSON.parse(closed.reason).error, 'unknown_group');
});

test('405 with Allow on a wrong method', async () => {
  const leader = await c.waitLeader();
  const r = await c.req(leader, 'GET', '/v1/groups/kv/commands/put');
  assertError(r, 405, 'method_not_allowed');
  assert.match(String(r.headers['allow']), /POST/);
  const s = await c.req(leader, 'POST', '/v1/status', { body: {} });
  assertError(s, 405, 'method_not_allowed');
  assert.match(String(s.headers['allow']), /GET/);
});

test('413: a body over 1 MiB, declared or streamed, on leader and follower', async () => {
  const leader = await c.waitLeader();
  const f = c.ids.find((id) => id !== leader)!;
  for (const id of [leader, f]) {
    for (const mode of ['declared', 'chunked'] as const) {
      const r = await sendLarge(c.portOf(id), '/v1/groups/kv/commands/put', 1024 * 1024 + 1024, mode, TOKEN);
      assertError(r, 413, 'payload_too_large');
    }
  }
  // just under the limit is accepted (a value of ~1 MiB minus the JSON around it)
  const value = 'v'.repeat(1024 * 1024 - 200);
  const p = await c.command(f, 'put', { key: k('big'), value });
  assert.equal(p.status, 200, p.text.slice(0, 300));
  const g = await c.query(leader, 'get', { key: k('big') });
  assert.equal(g.body.result.value.length, value.length);
  // the nodes still serve
  assert.equal((await c.query(f, 'get', { key: k('a') })).status, 200);
});

test('421 with X-Raft-No-Forward on a follower names the leader (id and url)', async () => {
  const leader = await c.waitLeader();
  for (const f of c.ids.filter((id) => id !== leader)) {
    const r = await c.command(f, 'put', { key: k('nofwd'), value: 'x' }, { headers: { 'x-raft-no-forward': '1' } });
    assertError(r, 421, 'not_leader');
    assert.deepEqual(r.body.leader, { id: leader, url: c.urlOf(leader) });
    // a lease read needs the leader: 421 too
    const q = await c.query(f, 'get', { key: k('nofwd') }, 'lease', { headers: { 'x-raft-no-forward': '1' } });
    assertError(q, 421, 'not_leader');
    assert.deepEqual(q.body.leader, { id: leader, url: c.urlOf(leader) });
    // a linearizable read (the default) names the leader too, instead of serving it by ReadIndex
    for (const consistency of ['linearizable', undefined]) {
      const lin = await c.query(f, 'get', { key: k('nofwd') }, consistency, { headers: { 'x-raft-no-forward': '1' } });
      assertError(lin, 421, 'not_leader');
      assert.deepEqual(lin.body.leader, { id: leader, url: c.urlOf(leader) });
    }
    // without the header a follower serves it itself
    const served = await c.query(f, 'get', { key: k('nofwd') });
    assert.equal(served.status, 200, served.text);
    assert.equal(served.headers['x-raft-forwarded-to'], undefined, 'served by the follower, not forwarded');
    // local reads never need the leader
    const l = await c.query(f, 'get', { key: k('nofwd') }, 'local', { headers: { 'x-raft-no-forward': '1' } });
    assert.equal(l.status, 200, l.text);
  }
  assert.equal((await c.query(leader, 'get', { key: k('nofwd') })).body.result.value, null, 'the 421 command was not applied');
  // going direct to the named leader works
  const d = await c.command(leader, 'put', { key: k('nofwd'), value: 'direct' }, { headers: { 'x-raft-no-forward': '1' } });
  assert.equal(d.status, 200, d.text);
});

test('read-your-writes through a follower: a put it forwarded is seen by its local reads at once', async () => {
  const leader = await c.waitLeader();
  const f = c.ids.find((id) => id !== leader)!;
  for (let i = 0; i < 30; i++) {
    const put = await c.command(f, 'put', { key: k('ryw'), value: `v${i}` });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.headers['x-raftkit-applied-index'], String(put.body.index));
    const local = await c.query(f, 'get', { key: k('ryw') }, 'local');
    assert.equal(local.body.result.value, `v${i}`, `round ${i}: the follower's local read missed the write it forwarded`);
  }
});

test('GET schema declares the commands and queries with their argument shapes', async () => {
  const leader = await c.waitLeader();
  const f = c.ids.find((id) => id !== leader)!;
  const r = await c.req(f, 'GET', '/v1/groups/kv/schema');
  assert.equal(r.status, 200, r.text);
  const s = r.body;
  assert.equal(s.group, 'kv');
  assert.equal(s.type, 'kv');
  const byName = (list: any[]) => Object.fromEntries(list.map((o) => [o.name, o]));
  const cmds = byName(s.commands);
  const qs = byName(s.queries);
  assert.deepEqual(Object.keys(cmds).sort(), ['cas', 'delete', 'put']);
  assert.deepEqual(Object.keys(qs).sort(), ['get', 'range']);
  for (const o of s.commands) assert.equal(o.kind, 'command');
  for (const o of s.queries) assert.equal(o.kind, 'query');
  assert.deepEqual(Object.keys(cmds.put.args).sort(), ['key', 'value']);
  assert.equal(cmds.put.args.key.type, 'string');
  assert.equal(cmds.put.args.key.optional, false);
  assert.equal(cmds.put.args.value.type, 'string');
  assert.deepEqual(Object.keys(cmds.delete.args), ['key']);
  assert.deepEqual(Object.keys(cmds.cas.args).sort(), ['expected', 'key', 'value']);
  assert.equal(cmds.cas.args.expected.nullable, true, 'cas.expected is string|null');
  assert.equal(cmds.cas.args.expected.type, 'string');
  assert.deepEqual(Object.keys(qs.get.args), ['key']);
  assert.deepEqual(Object.keys(qs.range.args).sort(), ['limit', 'prefix']);
  assert.equal(qs.range.args.prefix.optional, false);
  assert.equal(qs.range.args.limit.optional, true);
  assert.equal(qs.range.args.limit.type, 'integer');
});

test('GET /v1/status, /healthz, /readyz and /metrics', async () => {
  const leader = await c.waitLeader();
  const p = await c.ok(leader, 'put', { key: k('status'), value: 's' });
  for (const id of c.ids) {
    await c.waitApplied(id, p.index);
    const st = await c.status(id);
    assert.equal(st.id, id);
    assert.equal(st.address, `127.0.0.1:${c.portOf(id)}`);
    const g = st.groups.find((x: any) => x.group === 'kv');
    assert.ok(g, 'status lists the kv group');
    assert.equal(g.type, 'kv');
    assert.equal(g.role, id === leader ? 'leader' : 'follower');
    assert.equal(g.leader, leader);
    assert.ok(Number.isInteger(g.term) && g.term >= 1);
    assert.ok(g.commit >= p.index, `commit ${g.commit} >= ${p.index}`);
    assert.ok(g.applied >= p.index && g.applied <= g.commit);
    const members = [...g.members].sort((a: any, b: any) => a.id - b.id);
    assert.deepEqual(
      members,
      c.ids.map((m) => ({ id: m, role: 'voter', address: `127.0.0.1:${c.portOf(m)}` })),
    );

    const h = await c.req(id, 'GET', '/healthz');
    assert.equal(h.status, 200);
    const rz = await c.req(id, 'GET', '/readyz');
    assert.equal(rz.status, 200, rz.text);
    assert.equal(rz.body.ready, true);

    const m = await c.req(id, 'GET', '/metrics');
    assert.equal(m.status, 200);
    assert.match(String(m.headers['content-type']), /^text\/plain/);
    const lines = m.text.split('\n').filter((l) => l !== '');
    const samples = lines.filter((l) => !l.startsWith('#'));
    assert.ok(samples.length > 5);
    for (const l of lines) {
      if (l.startsWith('#')) assert.match(l, /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /, `comment line: ${l}`);
      else assert.match(l, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)( [0-9]+)?$/, `sample line: ${l}`);
    }
    assert.ok(
      samples.every((l) => l.startsWith('raftkit_') || /^(process_|nodejs_)/.test(l)),
      'metrics are namespaced raftkit_',
    );
    const applied = samples.find((l) => l.startsWith('raftkit_applied_entries_total{group="kv"}'));
    assert.ok(applied, 'raftkit_applied_entries_total for kv');
    assert.ok(Number(applied.split(' ')[1]) > 0);
    assert.ok(
      samples.some((l) => l.startsWith('raftkit_api_requests_total{')),
      'API request counters',
    );
  }
  // a node that forwarded commands counts them
  const f = c.ids.find((id) => id !== leader)!;
  const m = await c.req(f, 'GET', '/metrics');
  const fwd = m.text.split('\n').find((l) => l.startsWith('raftkit_api_forwarded_total '));
  assert.ok(fwd && Number(fwd.split(' ')[1]) > 0, `raftkit_api_forwarded_total > 0 on a follower: ${fwd}`);
});

test('POST .../snapshot answers the snapshot index; the store keeps serving', async () => {
  const leader = await c.waitLeader();
  const p = await c.ok(leader, 'put', { key: k('snap'), value: 'before' });
  for (const id of c.ids) {
    await c.waitApplied(id, p.index);
    const r = await c.req(id, 'POST', '/v1/groups/kv/snapshot');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.group, 'kv');
    assert.ok(Number.isInteger(r.body.index) && r.body.index >= p.index, `snapshot index ${r.body.index} >= ${p.index}`);
  }
  assertError(await c.req(leader, 'POST', '/v1/groups/nogroup/snapshot'), 404, 'unknown_group');
  const p2 = await c.ok(leader, 'put', { key: k('snap'), value: 'after' });
  assert.equal(p2.result.revision, p.result.revision + 1);
  for (const id of c.ids) {
    const g = await c.query(id, 'get', { key: k('snap') });
    assert.deepEqual(g.body.result, { value: 'after', revision: p2.result.revision });
  }
});

test('POST /v1/groups creates a second, independent kv group on every member', async () => {
  const members = c.ids.map((id) => ({ id, address: `127.0.0.1:${c.portOf(id)}` }));
  const group = `g${run}`.replace(/[^A-Za-z0-9]/g, '');
  // One request creates it on every member (the receiving node asks the others).
  const r = await c.req(1, 'POST', '/v1/groups', { body: { group, type: 'kv', members } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.group, group);
  for (const id of c.ids) {
    const st = await c.status(id);
    assert.ok(
      st.groups.some((g: { group: string }) => g.group === group),
      `node ${id} has ${group}`,
    );
  }
  // Again, on any member: idempotent (a failed creation can simply be retried).
  assert.equal((await c.req(3, 'POST', '/v1/groups', { body: { group, type: 'kv', members } })).status, 201);
  // bad bodies: 400 naming the field
  assertError(await c.req(1, 'POST', '/v1/groups', { body: { group: 'x y', type: 'kv', members } }), 400, 'bad_request', 'group');
  assertError(await c.req(1, 'POST', '/v1/groups', { body: { group: 'x', type: 'kv', members: [] } }), 400, 'bad_request', 'members');
  assertError(await c.req(1, 'POST', '/v1/groups', { body: { group: 'x', type: 'kv', members: [{ id: 0, address: 'a:1' }] } }), 400, 'bad_request', 'members[0].id');
  assertError(await c.req(1, 'POST', '/v1/groups', { raw: '[' }), 400, 'bad_request', 'body');
  assertError(await c.req(1, 'POST', '/v1/groups', { body: { group: 'xt', type: 'no-such-type', members } }), 400, 'bad_request', 'type');

  const path = `/v1/groups/${group}`;
  const put = await eventually(
    async () => {
      const r = await c.req(2, 'POST', `${path}/commands/put`, { body: { key: 'only-here', value: '1' } });
      return r.status === 200 ? r : undefined;
    },
    10_000,
    `a leader of ${group}`,
  );
  assert.deepEqual(put.body.result, { revision: 1 }, 'a new group starts with its own store');
  const g = await c.req(3, 'POST', `${path}/queries/get`, { body: { key: 'only-here' } });
  assert.deepEqual(g.body.result, { value: '1', revision: 1 });
  assert.equal((await c.query(1, 'get', { key: 'only-here' })).body.result.value, null, 'kv does not see the other group');
  const st = await c.status(1);
  assert.ok(
    st.groups.some((x: any) => x.group === group && x.type === 'kv'),
    'status lists the new group',
  );
});

test('POST .../leader/transfer moves the leader (sent to the leader and through a follower)', async () => {
  let leader = await c.waitLeader();
  assertError(await c.req(leader, 'POST', '/v1/groups/kv/leader/transfer', { body: { to: 42 } }), 400, 'bad_request', 'to');
  assertError(await c.req(leader, 'POST', '/v1/groups/kv/leader/transfer', { body: {} }), 400, 'bad_request', 'to');
  for (const via of ['leader', 'follower'] as const) {
    const others = c.ids.filter((id) => id !== leader);
    const to = others[0]!;
    const sendTo = via === 'leader' ? leader : others[1]!;
    const t0 = Date.now();
    const r = await c.req(sendTo, 'POST', '/v1/groups/kv/leader/transfer', { body: { to } });
    assert.equal(r.status, 200, `transfer via ${via}: ${r.text}`);
    assert.deepEqual(r.body, { group: 'kv', to });
    const now = await c.waitLeader();
    assert.equal(now, to, `leadership moved to ${to}`);
    assert.ok(Date.now() - t0 < 5000, 'the transfer is quick');
    leader = now;
    const p = await c.command(
      c.ids.find((id) => id !== leader)!,
      'put',
      { key: k('after-transfer'), value: via },
    );
    assert.equal(p.status, 200, p.text);
    assert.equal(p.headers['x-raft-forwarded-to'], String(leader));
  }
});

test('GET /v1/groups lists the groups each node hosts, as /v1/status shows them', async () => {
  const leader = await c.waitLeader();
  const stable = (g: any) => ({ group: g.group, type: g.type, role: g.role, leader: g.leader, term: g.term, members: g.members });
  for (const id of c.ids) {
    const r = await c.req(id, 'GET', '/v1/groups');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body), ['groups']);
    const names = r.body.groups.map((g: { group: string }) => g.group);
    assert.ok(names.includes('kv') && names.includes(QUIET), `node ${id} lists kv and ${QUIET}: ${names}`);
    const kv = r.body.groups.find((g: { group: string }) => g.group === 'kv');
    assert.equal(kv.role, id === leader ? 'leader' : 'follower');
    assert.equal(kv.leader, leader);
    assert.deepEqual(
      [...kv.members].sort((a: any, b: any) => a.id - b.id),
      c.ids.map((m) => ({ id: m, role: 'voter', address: `127.0.0.1:${c.portOf(m)}` })),
    );
    assert.deepEqual(r.body.groups.map(stable), (await c.status(id)).groups.map(stable), `node ${id}: the listing matches its status`);
  }
  const head = await c.req(leader, 'HEAD', '/v1/groups');
  assert.deepEqual([head.status, head.text], [200, '']);
  assertError(await c.req(leader, 'GET', '/v1/groups', { token: null }), 401, 'unauthorized');
  const put = await c.req(leader, 'PUT', '/v1/groups', { body: {} });
  assertError(put, 405, 'method_not_allowed');
  assert.equal(put.headers['allow'], 'GET, HEAD, POST');
});

test('timing: a cluster started with --election-ms 300 --heartbeat-ms 50 elects a leader, runs with that timing, and its quiet groups fail over at its pace', async (t) => {
  for (const id of c.ids) assert.deepEqual((await c.status(id)).timing, { tickMs: 100, heartbeatMs: 100, electionMs: 1000 }, 'the default timing');
  const fast = new KvCluster([1, 2, 3], { extraArgs: ['--election-ms', '300', '--heartbeat-ms', '50'] });
  try {
    const leader = await fast.startAll();
    for (const id of fast.ids) assert.deepEqual((await fast.status(id)).timing, { tickMs: 50, heartbeatMs: 50, electionMs: 300 });
    const put = await fast.ok(leader, 'put', { key: 'fast', value: '1' });
    assert.deepEqual(put.result, { revision: 1 });
    // Quiesce counts election timeouts: the followers go quiet after 20 of them (6 s here, 20 s
    // at the default), and a dead leader is noticed after 5 more and replaced, as in the quiet
    // test below, but 300 ms apiece: well under the 5 s that the default timing alone needs.
    const followers = fast.ids.filter((id) => id !== leader);
    await eventually(
      async () => {
        for (const id of followers) if (!((await fast.metric(id, 'raftkit_quiesced_groups')) ?? 0)) return undefined;
        return true;
      },
      15_000,
      'the followers of kv to quiesce',
      250,
    );
    await fast.kill(leader);
    const killedAt = Date.now();
    const next = await eventually(
      async () => {
        const sts = await Promise.all(followers.map((id) => fast.kvStatus(id)));
        return sts.every((g) => g?.leader !== leader) && sts.some((g) => g?.role === 'leader') ? sts.find((g) => g?.role === 'leader') : undefined;
      },
      10_000,
      'the survivors to elect a new leader without being asked',
      50,
    );
    const failoverMs = Date.now() - killedAt;
    t.diagnostic(`quiet kv: new leader (term ${next.term}) ${failoverMs} ms after the kill`);
    assert.ok(failoverMs < 4000, `a quiet group fails over within about 5 election timeouts of 300 ms plus an election, took ${failoverMs} ms`);
  } finally {
    await fast.stopAll();
  }
});

/** Each command line exits non-zero by itself, with one line on stderr that names the problem and no stack trace. */
async function assertOneLineFailures(cases: { args: string[]; mentions: RegExp }[]): Promise<void> {
  const results = await Promise.all(cases.map((x) => runBin(x.args)));
  results.forEach((r, i) => {
    const what = cases[i]!.args.join(' ');
    assert.notEqual(r.code, 0, `${what}: exit code ${r.code}`);
    assert.notEqual(r.code, null, `${what}: did not exit by itself (signal ${r.signal})`);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    assert.equal(lines.length, 1, `${what}: expected one line on stderr, got:\n${r.stderr}`);
    assert.match(lines[0]!, /^raftkit-kv: /, what);
    assert.match(lines[0]!, cases[i]!.mentions, `${what}: ${lines[0]}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('timing flags that break the rules: one-line error naming the rule, non-zero exit', async () => {
  const [port] = await freePorts(1);
  const node = ['--id', '1', '--listen', `127.0.0.1:${port}`, '--peers', `1=127.0.0.1:${port}`, '--data-dir', `${c.root}/badtiming`];
  const cases: { args: string[]; mentions: RegExp }[] = [
    {
      args: [...node, '--election-ms', '100', '--heartbeat-ms', '50'],
      mentions: /--election-ms \(100\) must be at least 5 x --heartbeat-ms \(50\): .*campaigns against a live leader/,
    },
    { args: [...node, '--heartbeat-ms', '5'], mentions: /--heartbeat-ms must be an integer from 10 to 10000/ },
    { args: [...node, '--election-ms', 'soon'], mentions: /--election-ms must be an integer from 50 to 60000/ },
  ];
  await assertOneLineFailures(cases);
});

test('bad flags and a port in use: one-line error, non-zero exit', async () => {
  const [port] = await freePorts(1);
  const dir = `${c.root}/badflags`;
  const cases: { args: string[]; mentions: RegExp }[] = [
    { args: ['--id', '0', '--listen', `127.0.0.1:${port}`, '--peers', `1=127.0.0.1:${port}`, '--data-dir', dir], mentions: /--id/ },
    { args: ['--id', 'abc', '--listen', `127.0.0.1:${port}`, '--peers', `1=127.0.0.1:${port}`, '--data-dir', dir], mentions: /--id/ },
    { args: ['--id', '1', '--listen', 'nowhere', '--peers', `1=127.0.0.1:${port}`, '--data-dir', dir], mentions: /--listen/ },
    { args: ['--id', '1', '--listen', `127.0.0.1:${port}`, '--peers', `1=127.0.0.1:${port}`], mentions: /--data-dir/ },
    { args: ['--id', '1', '--listen', `127.0.0.1:${port}`, '--peers', `2=127.0.0.1:${port}`, '--data-dir', dir], mentions: /--peers/ },
    { args: ['--id', '1', '--listen', `127.0.0.1:${port}`, '--peers', `1=127.0.0.1:${port}`, '--data-dir', dir, '--bogus'], mentions: /bogus/ },
    // the port of a running node
    {
      args: ['--id', '7', '--listen', `127.0.0.1:${c.portOf(1)}`, '--peers', `7=127.0.0.1:${c.portOf(1)}`, '--data-dir', `${dir}-inuse`],
      mentions: new RegExp(`${c.portOf(1)}.*in use|in use.*${c.portOf(1)}`),
    },
  ];
  await assertOneLineFailures(cases);
  // the running node was not disturbed
  assert.equal((await c.req(1, 'GET', '/healthz')).status, 200);
});

test('a group that has been quiet for a while still fails over when its leader is killed', async (t) => {
  // Let the quiet group's followers quiesce (20 election timeouts, about 20 s, after its last
  // entry) while kv stays busy: the quiet group sees only heartbeats.
  const quietStatus = async (id: number) => c.groupStatus(id, QUIET);
  const leader = await eventually(async () => ((await quietStatus(1))?.leader || undefined) as number | undefined, 5000, `the leader of ${QUIET}`);
  const followers = c.ids.filter((id) => id !== leader);
  await eventually(
    async () => {
      await c.ok(followers[0]!, 'put', { key: k('busy'), value: String(Date.now()) });
      if (Date.now() - quietSince < 21_000) return undefined;
      for (const id of followers) if (!((await c.metric(id, 'raftkit_quiesced_groups')) ?? 0)) return undefined;
      return true;
    },
    40_000,
    `the followers of ${QUIET} to quiesce`,
    1000,
  );
  t.diagnostic(`${QUIET} idle for ${Date.now() - quietSince} ms; followers quiesced; killing its leader ${leader}`);
  await c.kill(leader);
  // Without any request to the quiet group, its survivors stop reporting the dead leader
  // (status, and so /readyz) and elect a new one: quiet beats every 3 election timeouts, a
  // follower wakes after 5 of silence (about 5 s here), then an election.
  const killedAt = Date.now();
  await eventually(
    async () => {
      const sts = await Promise.all(followers.map((id) => quietStatus(id)));
      return sts.every((g) => g?.leader !== leader) && sts.some((g) => g?.role === 'leader') ? true : undefined;
    },
    15_000,
    `the survivors of ${QUIET} to elect a new leader without being asked`,
    200,
  );
  t.diagnostic(`${QUIET}: new leader elected ${Date.now() - killedAt} ms after the kill, with no request to it`);
  // kv, which was busy, fails over as usual
  await c.waitLeader(followers);
  // the quiet group must too: commands through the survivors succeed within a few election timeouts
  const t0 = Date.now();
  let last = '';
  for (;;) {
    const r = await c
      .req(followers[(Date.now() >> 8) % 2]!, 'POST', `/v1/groups/${QUIET}/commands/put`, { body: { key: 'q', value: '2' }, timeoutMs: 3000 })
      .catch((e: Error) => ({ status: 0, text: e.message }));
    if (r.status === 200) break;
    last = `${r.status} ${r.text}`;
    if (Date.now() - t0 > 5000) {
      const sts = await Promise.all(followers.map(async (id) => JSON.stringify({ id, ...pick(await quietStatus(id)) })));
      assert.fail(`no leader of ${QUIET} 5 s after its leader died; last answer ${last}; status ${sts.join(' ')}`);
    }
    await sleep(200);
  }
});

function pick(g: any): any {
  return { role: g?.role, leader: g?.leader, term: g?.term };
}

test('503 with Retry-After once the quorum is lost (2 of 3 killed)', async () => {
  const leader = await c.waitLeader();
  const [f1, f2] = c.ids.filter((id) => id !== leader) as [number, number];
  const p = await c.ok(leader, 'put', { key: k('quorum'), value: 'kept' });
  await c.kill(f1);
  await c.kill(f2);
  // With check-quorum the lone leader steps down after an election timeout.
  const t0 = Date.now();
  await eventually(async () => ((await c.kvStatus(leader))?.role !== 'leader' ? true : undefined), 10_000, `node ${leader} to step down`);
  const stepDownMs = Date.now() - t0;
  const r = await c.command(leader, 'put', { key: k('quorum'), value: 'lost' });
  assert.equal(r.status, 503, r.text);
  assert.ok(['unavailable', 'timeout'].includes(r.body.error), r.text);
  assert.match(String(r.headers['retry-after']), /^\d+$/, 'Retry-After is a number of seconds');
  const q = await c.query(leader, 'get', { key: k('quorum') });
  assert.equal(q.status, 503, q.text);
  assert.ok(q.headers['retry-after']);
  // readyz: not ready once no group on this node has a known leader. The other groups on this
  // node (quiet, and the one created above) may be quiesced and keep a dead leader (the bug of
  // the test above); a linearizable read wakes a group, so they forget it after an election timeout.
  // (Not awaited: each read itself waits for its 5 s deadline; they end with the nodes.)
  for (const g of (await c.status(leader)).groups) {
    if (g.group !== 'kv') c.req(leader, 'POST', `/v1/groups/${g.group}/queries/get`, { body: { key: 'x' }, timeoutMs: 8000 }).catch(() => undefined);
  }
  const rz = await eventually(
    async () => {
      const x = await c.req(leader, 'GET', '/readyz');
      return x.status === 503 ? x : undefined;
    },
    10_000,
    'readyz to answer 503',
  );
  assert.equal(rz.body.ready, false);
  assert.ok(rz.headers['retry-after']);
  // local reads still answer from what this node applied
  const l = await c.query(leader, 'get', { key: k('quorum') }, 'local');
  assert.equal(l.status, 200, l.text);
  assert.deepEqual(l.body.result, { value: 'kept', revision: p.result.revision });
  assert.ok(stepDownMs < 10_000);
});
