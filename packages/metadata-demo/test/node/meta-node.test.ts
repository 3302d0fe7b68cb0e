// The MetaBackend of a node in a 3-node cluster (in this process, over real HTTP between the
// nodes): writes on followers reach the leader, linearizable reads on followers see them, etcd's
// errors come back by code, leases, members, status, a watch on a follower, no leader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetaError } from '../../src/api/meta-error.js';
import { compare, prefixEnd, prefixRange, putRequest, rangeRequest, txnRequest, watchRequest } from '../../src/api/request-builders.js';
import type { WatchResponse } from '../../src/api/etcd-types.js';
import { NodeCluster, waitFor } from './node-cluster.js';

const isMeta = (code: string) => (e: unknown) => e instanceof MetaError && e.code === code;

test('a 3-node cluster through its MetaBackends', async (t) => {
  const c = new NodeCluster();
  await c.start(['--quota-bytes', '100000']);
  t.after(() => c.close());
  const leader = await c.leader();
  const [f1, f2] = await c.followers();
  const L = c.node(leader);
  const A = c.node(f1!);
  const B = c.node(f2!);

  await t.test('a put on a follower is forwarded; a linearizable range on the other follower sees it at once', async () => {
    const p = await A.put(putRequest('greeting', 'hello'));
    assert.ok(p.header.revision >= 2);
    assert.equal(p.header.memberId, BigInt(f1!));
    const r = await B.range(rangeRequest('greeting'));
    assert.equal(r.kvs[0]?.value.toString(), 'hello');
    assert.ok(r.header.revision >= p.header.revision);
    assert.equal(r.header.clusterId, p.header.clusterId, 'one cluster id on every node');
    assert.notEqual(r.header.clusterId, 0n);
    assert.ok(r.header.raftTerm > 0);
    const s = await waitFor(async () => {
      const x = await B.range(rangeRequest('greeting', { serializable: true }));
      return x.kvs.length === 1 ? x : undefined;
    }, 'a serializable read to catch up');
    assert.equal(s.kvs[0]!.version, 1);
  });

  await t.test("etcd's errors come back by code, through forwarding too; bad requests are refused before proposing", async () => {
    await assert.rejects(A.put(putRequest('k', 'v', { lease: 12345n })), isMeta('lease_not_found'));
    await assert.rejects(L.put(putRequest('k', 'v', { lease: 12345n })), isMeta('lease_not_found'));
    await assert.rejects(A.put(putRequest('', 'v')), isMeta('empty_key'));
    await assert.rejects(A.compact({ revision: 10_000, physical: false }), isMeta('future_rev'));
    await assert.rejects(A.put(putRequest('huge', 'x'.repeat(200_000))), isMeta('no_space'), 'past --quota-bytes');
    const alarms = await B.alarm({ action: 'get', memberId: 0n, alarm: 'none' });
    assert.deepEqual(
      alarms.alarms.map((a) => a.alarm),
      ['nospace'],
    );
    await A.alarm({ action: 'deactivate', memberId: 0n, alarm: 'nospace' });
    await A.put(putRequest('after-alarm', 'ok'));
  });

  await t.test('txns: through a follower as one revision; a read-only txn is answered locally', async () => {
    const t1 = await A.txn(
      txnRequest({
        compare: [compare('greeting', 'equal', { value: 'hello' })],
        success: [{ put: putRequest('t/1', 'a') }, { put: putRequest('t/2', 'b') }],
      }),
    );
    assert.equal(t1.succeeded, true);
    const before = (await B.range(rangeRequest('t/', { rangeEnd: prefixEnd('t/') }))).kvs;
    assert.deepEqual(
      before.map((kv) => kv.modRevision),
      [t1.header.revision, t1.header.revision],
    );
    const ro = await B.txn(txnRequest({ compare: [compare('t/1', 'equal', { version: 1 })], success: [{ range: prefixRange('t/') }] }));
    const first = ro.responses[0]!;
    assert.ok('range' in first && first.range.count === 2);
    assert.equal(ro.header.revision, t1.header.revision, 'a read-only txn takes no revision');
    const many = Array.from({ length: 129 }, (_, i) => ({ put: putRequest(`m/${i}`, 'v') }));
    await assert.rejects(A.txn(txnRequest({ success: many })), isMeta('too_many_ops'));
    await assert.rejects(A.txn(txnRequest({ success: [{ put: putRequest('d', '1') }, { put: putRequest('d', '2') }] })), isMeta('duplicate_key'));
  });

  await t.test('leases through followers: the minimum TTL, keep-alive, time to live, list, revoke', async () => {
    const g = await A.leaseGrant({ ttl: 0, id: 0n });
    assert.equal(g.ttl, 1, 'raised to the minimum (1.5 x 300 ms, rounded up)');
    const g2 = await B.leaseGrant({ ttl: 30, id: 777n });
    assert.equal(g2.id, 777n);
    await assert.rejects(A.leaseGrant({ ttl: 30, id: 777n }), isMeta('lease_exists'));
    await A.put(putRequest('leased', 'x', { lease: 777n }));
    const k = await B.leaseKeepAlive(777n);
    assert.equal(k.ttl, 30);
    const ttl = await A.leaseTimeToLive({ id: 777n, keys: true });
    assert.ok(ttl.ttl >= 29 && ttl.ttl <= 30, `remaining ${ttl.ttl}`);
    assert.deepEqual(ttl.keys.map(String), ['leased']);
    assert.equal((await A.leaseTimeToLive({ id: 9n, keys: false })).ttl, -1);
    assert.ok((await B.leaseLeases()).leases.some((l) => l.id === 777n));
    assert.equal((await A.leaseKeepAlive(9n)).ttl, 0);
    await B.leaseRevoke({ id: 777n });
    assert.equal((await A.range(rangeRequest('leased'))).count, 0);
    await assert.rejects(B.leaseRevoke({ id: 777n }), isMeta('lease_not_found'));
  });

  await t.test("an unrenewed lease expires through the leader's driver, not before its TTL", async () => {
    const granted = Date.now();
    const g = await A.leaseGrant({ ttl: 1, id: 0n });
    await A.put(putRequest('short', 'lived', { lease: g.id }));
    await waitFor(async () => ((await B.range(rangeRequest('short'))).count === 0 ? true : undefined), 'the lease to expire', 5_000);
    const took = Date.now() - granted;
    assert.ok(took >= 1000, `expired after ${took} ms`);
    assert.ok(took < 2500, `expired after ${took} ms`);
  });

  await t.test('members carry their published URLs; status names the leader and the etcd version', async () => {
    const list = await waitFor(async () => {
      const l = await B.memberList();
      return l.members.every((m) => m.clientUrls.length > 0) ? l : undefined;
    }, 'every member published');
    assert.deepEqual(list.members.map((m) => m.id).sort(), [1n, 2n, 3n]);
    assert.ok(list.members.every((m) => m.name.startsWith('node-') && m.peerUrls[0]!.startsWith('http://127.0.0.1:')));
    const st = await A.status();
    assert.equal(st.leader, BigInt(leader));
    assert.equal(st.version, '3.4.0');
    assert.ok(st.dbSize > 0 && st.raftIndex >= st.raftAppliedIndex - 1 && st.raftTerm > 0);
  });

  await t.test('a watch on a follower sees a write made on the leader', async () => {
    const got: WatchResponse[] = [];
    const h = B.watch(watchRequest('w/', { rangeEnd: prefixEnd('w/'), watchId: 3, prevKv: true }), { send: (r) => (got.push(r), true) });
    await L.put(putRequest('w/x', '1'));
    await L.put(putRequest('w/x', '2'));
    await waitFor(() => (got.flatMap((r) => r.events).length === 2 ? true : undefined), 'two events');
    const events = got.flatMap((r) => r.events);
    assert.equal(events[1]!.prevKv?.value.toString(), '1');
    h.cancel();
  });

  await t.test('without a quorum, a write fails with no_leader or timeout within its deadline', async () => {
    await c.stop(f1!);
    await c.stop(f2!);
    const started = Date.now();
    await assert.rejects(L.put(putRequest('lonely', 'x'), { deadline: Date.now() + 1500 }), (e: unknown) => e instanceof MetaError && ['timeout', 'no_leader'].includes(e.code));
    assert.ok(Date.now() - started < 3000);
    await assert.rejects(L.range(rangeRequest('greeting'), { deadline: Date.now() + 1000 }), (e: unknown) => e instanceof MetaError && ['timeout', 'no_leader'].includes(e.code));
  });
});
