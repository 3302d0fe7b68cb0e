// MetaClient against the gRPC server over the fake backend: every MetaBackend method through the
// wire and back, etcd's errors read back into MetaErrors, deadlines and cancellation, failover
// (reads and never-sent writes go to the next endpoint, a write whose fate is unknown is not sent
// again), the shared Watch stream (server-assigned ids, resume after the stream breaks) and the
// shared LeaseKeepAlive stream.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { MetaError } from '../../src/api/meta-error.js';
import { compare, deleteRequest, putRequest, rangeRequest, txnRequest, watchRequest, prefixRange } from '../../src/api/request-builders.js';
import type { WatchResponse } from '../../src/api/etcd-types.js';
import { MetaClient } from '../../src/client/index.js';
import { startGrpcServer, type GrpcServerHandle } from '../../src/grpc/index.js';
import { FAKE_CLUSTER_ID } from '../fakes/fake-backend.js';
import { startFakeGrpc, type GrpcHarness } from '../support/api-harness.js';
import { recordingLogger } from '../support/recording-logger.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { freePort, waitFor } from './client-fixture.js';

const text = (b: Buffer | undefined) => b?.toString('utf8');

async function rejection(p: Promise<unknown>): Promise<MetaError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof MetaError, `expected a MetaError, got ${String(e)}`);
    return e;
  }
  throw new Error('the call succeeded; a failure was expected');
}

/** A sink that keeps what it gets. */
function collector() {
  const got: WatchResponse[] = [];
  return { got, sink: { send: (r: WatchResponse) => (got.push(r), true) } };
}

describe('MetaClient: the etcd API over gRPC', () => {
  let h: GrpcHarness;
  let client: MetaClient;

  before(async () => {
    h = await startFakeGrpc();
    client = new MetaClient({ endpoints: [`127.0.0.1:${h.port}`] });
  });

  after(async () => {
    client.close();
    await h.close();
  });

  it('puts, reads, deletes and runs txns, with every field through the wire', async () => {
    const put = await client.put(putRequest('kv/a', 'one'));
    assert.equal(put.header.clusterId, FAKE_CLUSTER_ID);
    const again = await client.put(putRequest('kv/a', 'two', { prevKv: true }));
    assert.equal(text(again.prevKv?.value), 'one');
    await client.put(putRequest('kv/b', 'three'));
    const r = await client.range(prefixRange('kv/', { sortOrder: 'descend', sortTarget: 'key', limit: 1 }));
    assert.deepEqual([r.kvs.map((kv) => text(kv.key)), r.count, r.more], [['kv/b'], 2, true]);
    const a = (await client.range(rangeRequest('kv/a'))).kvs[0]!;
    assert.deepEqual([a.version, a.createRevision, a.modRevision - a.createRevision], [2, put.header.revision, again.header.revision - put.header.revision]);
    const t = await client.txn(
      txnRequest({
        compare: [compare('kv/a', 'equal', { value: 'two' }), compare('kv/a', 'equal', { createRevision: a.createRevision }), compare('kv/b', 'greater', { version: 0 })],
        success: [{ put: putRequest('kv/c', 'four') }, { range: rangeRequest('kv/c') }, { deleteRange: deleteRequest('kv/b', { prevKv: true }) }],
        failure: [{ range: rangeRequest('kv/a') }],
      }),
    );
    assert.equal(t.succeeded, true);
    assert.equal(t.responses.length, 3);
    const [p, g, d] = t.responses;
    assert.ok(p && 'put' in p && g && 'range' in g && d && 'deleteRange' in d);
    assert.equal(text(g.range.kvs[0]?.value), 'four');
    assert.deepEqual([d.deleteRange.deleted, text(d.deleteRange.prevKvs[0]?.value)], [1, 'three']);
    const no = await client.txn(txnRequest({ compare: [compare('kv/a', 'less', { modRevision: 1 })], failure: [{ range: rangeRequest('kv/a') }] }));
    assert.equal(no.succeeded, false);
    const del = await client.deleteRange(deleteRequest('kv/', { rangeEnd: prefixRange('kv/').rangeEnd }));
    assert.equal(del.deleted, 2);
  });

  it('grants, renews, inspects and revokes leases; a lease bound key goes with its lease', async () => {
    const g = await client.leaseGrant({ ttl: 30, id: 0n });
    assert.equal(g.ttl, 30);
    await client.put(putRequest('leased', 'x', { lease: g.id }));
    const ttl = await client.leaseTimeToLive({ id: g.id, keys: true });
    assert.deepEqual([ttl.id, ttl.grantedTtl, ttl.keys.map(text)], [g.id, 30, ['leased']]);
    assert.ok((await client.leaseLeases()).leases.some((l) => l.id === g.id));
    const k = await client.leaseKeepAlive(g.id);
    assert.deepEqual([k.id, k.ttl], [g.id, 30]);
    await client.leaseRevoke({ id: g.id });
    assert.equal((await client.range(rangeRequest('leased'))).count, 0);
    assert.equal((await client.leaseKeepAlive(g.id)).ttl, 0);
    assert.equal((await client.leaseTimeToLive({ id: g.id, keys: false })).ttl, -1);
  });

  it('answers the cluster and maintenance calls', async () => {
    const m = await client.memberList();
    assert.equal(m.members[0]?.name, 'fake-1');
    const s = await client.status();
    assert.equal(s.version, '3.4.23');
    assert.deepEqual((await client.alarm({ action: 'get', memberId: 0n, alarm: 'none' })).alarms, []);
  });

  it("reads etcd's errors back into MetaErrors with etcd's messages", async () => {
    assert.equal((await rejection(client.leaseRevoke({ id: 12345n }))).code, 'lease_not_found');
    assert.equal((await rejection(client.put(putRequest('', 'x')))).code, 'empty_key');
    assert.equal((await rejection(client.range(rangeRequest('k', { revision: 1_000_000 })))).code, 'future_rev');
    await client.put(putRequest('c', '1'));
    const rev = (await client.put(putRequest('c', '2'))).header.revision;
    await client.compact({ revision: rev, physical: false });
    const e = await rejection(client.range(rangeRequest('c', { revision: rev - 1 })));
    assert.deepEqual([e.code, e.message], ['compacted', 'etcdserver: mvcc: required revision has been compacted']);
    assert.equal((await rejection(client.put(putRequest('d', 'x', { lease: 999n })))).code, 'lease_not_found');
    assert.equal((await rejection(client.txn(txnRequest({ success: [{ put: putRequest('dup', '1') }, { put: putRequest('dup', '2') }] })))).code, 'duplicate_key');
  });

  it("keeps each call's deadline and cancellation", async () => {
    h.backend.delayMs = 400;
    try {
      const started = Date.now();
      const late = await rejection(client.range(rangeRequest('x'), { deadline: Date.now() + 150 }));
      assert.equal(late.code, 'timeout');
      assert.ok(Date.now() - started < 350, 'the deadline cut the call short');
      const abort = new AbortController();
      const pending = client.put(putRequest('x', 'y'), { signal: abort.signal });
      setTimeout(() => abort.abort(), 50);
      assert.equal((await rejection(pending)).code, 'canceled');
    } finally {
      h.backend.delayMs = 0;
    }
  });

  it('multiplexes watches on one stream with the ids the server assigns', async () => {
    const before = client.watchCount;
    const a = collector();
    const b = collector();
    const ha = client.watch(watchRequest('w/a'), a.sink);
    const hb = client.watch(watchRequest('w/', { rangeEnd: prefixRange('w/').rangeEnd, prevKv: true }), b.sink);
    assert.equal(ha.watchId, -1, 'no id before the server answered');
    await waitFor(() => a.got.length === 1 && b.got.length === 1);
    assert.ok(a.got[0]!.created && b.got[0]!.created);
    assert.notEqual(ha.watchId, hb.watchId);
    assert.deepEqual([a.got[0]!.watchId, b.got[0]!.watchId], [ha.watchId, hb.watchId]);
    await client.put(putRequest('w/a', '1'));
    await client.put(putRequest('w/b', '2'));
    await client.put(putRequest('w/a', '3'));
    await waitFor(() => a.got.length === 3 && b.got.length === 4);
    assert.deepEqual(
      a.got.slice(1).map((r) => text(r.events[0]?.kv.value)),
      ['1', '3'],
    );
    assert.deepEqual(
      b.got.slice(1).map((r) => `${text(r.events[0]?.kv.key)}=${text(r.events[0]?.kv.value)}/${text(r.events[0]?.prevKv?.value) ?? '-'}`),
      ['w/a=1/-', 'w/b=2/-', 'w/a=3/1'],
    );
    ha.cancel();
    await client.put(putRequest('w/a', '4'));
    await waitFor(() => b.got.length === 5);
    assert.equal(a.got.length, 3, 'a cancelled watch gets nothing more');
    hb.requestProgress();
    await waitFor(() => b.got.length === 6);
    assert.deepEqual([b.got[5]!.events.length, b.got[5]!.watchId], [0, hb.watchId]);
    hb.cancel();
    assert.equal(client.watchCount, before);
    await waitFor(() => h.backend.watchCount === 0);
  });

  it('passes a refused create and a compacted start on to the caller', async () => {
    const bad = collector();
    client.watch(watchRequest('z', { rangeEnd: Buffer.from('a') }), bad.sink);
    await waitFor(() => bad.got.length === 1);
    assert.deepEqual([bad.got[0]!.created, bad.got[0]!.canceled, bad.got[0]!.cancelReason], [true, true, 'mvcc: watcher range is empty']);
    const old = collector();
    client.watch(watchRequest('c', { startRevision: 2 }), old.sink);
    await waitFor(() => old.got.length === 2);
    assert.equal(old.got[1]!.canceled, true);
    assert.equal(old.got[1]!.compactRevision, h.backend.compacted);
  });

  it('matches keep-alive answers to their leases on the shared stream', async () => {
    const ids = await Promise.all([10, 20, 30].map(async (ttl) => (await client.leaseGrant({ ttl, id: 0n })).id));
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => client.leaseKeepAlive(ids[i % 3]!)));
    assert.deepEqual(
      answers.map((a) => [a.id, a.ttl]),
      Array.from({ length: 30 }, (_, i) => [ids[i % 3], [10, 20, 30][i % 3]]),
    );
    assert.equal((await client.leaseKeepAlive(424242n)).ttl, 0);
  });
});

describe('MetaClient: failover', () => {
  let h: GrpcHarness;
  let second: GrpcServerHandle;
  let proxy: TcpProxy;
  const clients: MetaClient[] = [];
  const newClient = (endpoints: string[]) => {
    const c = new MetaClient({ endpoints, callTimeoutMs: 4000, attemptTimeoutMs: 1000, keepAliveTimeMs: 500, keepAliveTimeoutMs: 500 });
    clients.push(c);
    return c;
  };

  before(async () => {
    h = await startFakeGrpc();
    // A second server over the same store: another "node" of the same cluster.
    second = await startGrpcServer({ backend: h.backend, listen: '127.0.0.1:0', logger: recordingLogger() });
    proxy = await startTcpProxy(h.port);
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    h.backend.delayMs = 0;
    if (proxy) {
      await proxy.close();
      proxy = await startTcpProxy(h.port);
    }
  });

  after(async () => {
    await proxy.close();
    await second.close();
    await h.close();
  });

  it('sends reads and writes to the next endpoint when the first refuses connections (nothing was sent)', async () => {
    const dead = await freePort();
    const c = newClient([`127.0.0.1:${dead}`, `127.0.0.1:${second.port}`]);
    const puts = h.backend.calls.filter((m) => m === 'put').length;
    await c.put(putRequest('fo/a', '1'));
    assert.equal(h.backend.calls.filter((m) => m === 'put').length, puts + 1, 'the write reached the store once');
    assert.equal(text((await c.range(rangeRequest('fo/a'))).kvs[0]?.value), '1');
    assert.equal(c.currentEndpoint, `127.0.0.1:${second.port}`);
  });

  it('does not send a write again when its connection broke after it was sent: etcd\'s "request timed out"', async () => {
    const c = newClient([`127.0.0.1:${proxy.port}`, `127.0.0.1:${second.port}`]);
    await c.range(rangeRequest('warm'));
    h.backend.delayMs = 500;
    const puts = h.backend.calls.filter((m) => m === 'put').length;
    const pending = c.put(putRequest('fo/unknown', 'x'));
    await waitFor(() => h.backend.calls.filter((m) => m === 'put').length === puts + 1);
    proxy.cut();
    const e = await rejection(pending);
    assert.equal(e.code, 'timeout');
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(h.backend.calls.filter((m) => m === 'put').length, puts + 1, 'the write was not sent again');
    // A read in the same situation is simply sent again elsewhere.
    const reads = h.backend.calls.filter((m) => m === 'range').length;
    const read = c.range(rangeRequest('fo/a'));
    await waitFor(() => h.backend.calls.filter((m) => m === 'range').length === reads + 1);
    proxy.cut();
    assert.equal(text((await read).kvs[0]?.value), '1');
  });

  it('sends a write again when the server answers "no leader" (nothing was proposed)', async () => {
    const c = newClient([`127.0.0.1:${h.port}`, `127.0.0.1:${second.port}`]);
    h.backend.failNext = new MetaError('no_leader');
    await c.put(putRequest('fo/nl', '1'));
    assert.equal(text((await c.range(rangeRequest('fo/nl'))).kvs[0]?.value), '1');
    h.backend.failNext = new MetaError('timeout');
    assert.equal((await rejection(c.put(putRequest('fo/nl', '2')))).code, 'timeout');
    assert.equal(text((await c.range(rangeRequest('fo/nl'))).kvs[0]?.value), '1');
  });

  it('resumes its watches on the next endpoint from where they were: no gap, no repeat, no second created', async () => {
    const c = newClient([`127.0.0.1:${proxy.port}`, `127.0.0.1:${second.port}`]);
    const w = collector();
    c.watch(watchRequest('rs/', { rangeEnd: prefixRange('rs/').rangeEnd }), w.sink);
    await waitFor(() => w.got.length === 1);
    const writer = newClient([`127.0.0.1:${second.port}`]);
    await writer.put(putRequest('rs/1', 'a'));
    await waitFor(() => w.got.length === 2);
    await proxy.refuse();
    for (let i = 2; i <= 5; i++) await writer.put(putRequest(`rs/${i}`, 'b'));
    await waitFor(() => w.got.flatMap((r) => r.events).length === 5, 5000);
    await writer.put(putRequest('rs/6', 'c'));
    await waitFor(() => w.got.flatMap((r) => r.events).length === 6);
    assert.deepEqual(
      w.got.flatMap((r) => r.events.map((e) => text(e.kv.key))),
      ['rs/1', 'rs/2', 'rs/3', 'rs/4', 'rs/5', 'rs/6'],
    );
    assert.equal(w.got.filter((r) => r.created).length, 1);
    assert.equal(
      w.got.some((r) => r.canceled),
      false,
    );
  });

  it('renews leases through the next endpoint when the keep-alive stream breaks', async () => {
    const c = newClient([`127.0.0.1:${proxy.port}`, `127.0.0.1:${second.port}`]);
    const g = await c.leaseGrant({ ttl: 20, id: 0n });
    assert.equal((await c.leaseKeepAlive(g.id)).ttl, 20);
    await proxy.refuse();
    assert.equal((await c.leaseKeepAlive(g.id)).ttl, 20);
    assert.equal(c.currentEndpoint, `127.0.0.1:${second.port}`);
  });

  it('ends its watches and fails its calls when closed', async () => {
    const c = newClient([`127.0.0.1:${second.port}`]);
    const w = collector();
    c.watch(watchRequest('closing'), w.sink);
    await waitFor(() => w.got.length === 1);
    c.close();
    assert.deepEqual([w.got[1]?.canceled, w.got[1]?.cancelReason], [true, 'the client was closed']);
    assert.equal((await rejection(c.range(rangeRequest('x')))).code, 'canceled');
    assert.equal((await rejection(c.leaseKeepAlive(1n))).code, 'canceled');
  });
});
