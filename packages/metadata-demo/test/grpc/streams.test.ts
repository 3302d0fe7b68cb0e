// The Watch and LeaseKeepAlive streams as etcd serves them, seen through a plain gRPC client:
// watch ids, refused creates, cancels, progress requests, half-closes and stream ends.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { MetaError } from '../../src/api/meta-error.js';
import { startFakeGrpc, type GrpcHarness } from '../support/api-harness.js';
import { call, openStream, rawClients, type RawClients } from '../support/raw-grpc-client.js';

const key = (s: string) => Buffer.from(s);
const OK = 0;

describe('gRPC Watch stream', () => {
  let h: GrpcHarness;
  let c: RawClients;

  before(async () => {
    h = await startFakeGrpc();
    c = rawClients(h.port);
  });

  after(async () => {
    c.close();
    await h.close();
  });

  it('assigns ids per stream, takes requested ones, refuses duplicates and empty ranges', async () => {
    const w = openStream(c.watch, 'Watch');
    w.stream.write({ create_request: { key: key('a') } });
    const first = await w.next();
    assert.deepEqual([first.watch_id, first.created], ['0', true]);
    w.stream.write({ create_request: { key: key('b'), watch_id: 7 } });
    const seven = await w.next();
    assert.equal(seven.watch_id, '7');
    assert.equal(seven.created, true);
    w.stream.write({ create_request: { key: key('c'), watch_id: 7 } });
    const dup = await w.next();
    assert.deepEqual([dup.watch_id, dup.created, dup.canceled, dup.cancel_reason], ['-1', true, true, 'mvcc: duplicate watch ID provided on the WatchStream']);
    w.stream.write({ create_request: { key: key('z'), range_end: key('a') } });
    const empty = await w.next();
    assert.deepEqual([empty.watch_id, empty.canceled, empty.cancel_reason], ['-1', true, 'mvcc: watcher range is empty']);
    w.stream.write({ create_request: { key: key('d') } });
    assert.equal((await w.next()).watch_id, '1');
    // Cancels: a known id is confirmed, an unknown one gets no answer.
    w.stream.write({ cancel_request: { watch_id: 7 } });
    const canceled = await w.next();
    assert.deepEqual([canceled.watch_id, canceled.canceled], ['7', true]);
    w.stream.write({ cancel_request: { watch_id: 99 } });
    w.stream.write({ create_request: { key: key('e') } });
    // 7 is free again but auto ids keep counting up, as in etcd.
    assert.equal((await w.next()).watch_id, '2');
    assert.equal(h.backend.watchCount, 3);
    w.stream.cancel();
    await w.status;
    await waitFor(() => h.backend.watchCount === 0);
  });

  it('delivers events with previous values and filters', async () => {
    const w = openStream(c.watch, 'Watch');
    w.stream.write({ create_request: { key: key('ev/'), range_end: key('ev0'), prev_kv: true, filters: [1] } });
    const created = await w.next();
    await call(c.kv, 'Put', { key: key('ev/a'), value: key('1') });
    await call(c.kv, 'Put', { key: key('ev/a'), value: key('2') });
    await call(c.kv, 'DeleteRange', { key: key('ev/a') });
    await call(c.kv, 'Put', { key: key('ev/b'), value: key('3') });
    const events = [];
    for (let i = 0; i < 3; i++) events.push(...((await w.next()).events as { type: number; kv: { key: Buffer; value: Buffer }; prev_kv: { value: Buffer } | null }[]));
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.kv.key.toString()}=${e.kv.value.toString()} prev=${e.prev_kv ? e.prev_kv.value.toString() : '-'}`),
      ['0 ev/a=1 prev=-', '0 ev/a=2 prev=1', '0 ev/b=3 prev=-'],
    );
    assert.equal(created.created, true);
    w.stream.cancel();
    await w.status;
  });

  it('answers a progress request once for the stream, with watch_id -1', async () => {
    const w = openStream(c.watch, 'Watch');
    w.stream.write({ progress_request: {} });
    const bare = await w.next();
    assert.equal(bare.watch_id, '-1');
    w.stream.write({ create_request: { key: key('p1') } });
    w.stream.write({ create_request: { key: key('p2') } });
    await w.next();
    await w.next();
    await call(c.kv, 'Put', { key: key('unwatched'), value: key('x') });
    w.stream.write({ progress_request: {} });
    const progress = await w.next();
    assert.equal(progress.watch_id, '-1');
    assert.equal(progress.created, false);
    assert.equal((progress.events as unknown[]).length, 0);
    assert.equal((progress.header as { revision: string }).revision, String(h.backend.revision));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(w.pending().length, 0, 'one progress response for the stream, not one per watch');
    w.stream.cancel();
    await w.status;
  });

  it('keeps streaming after the client half-closes, as etcd does', async () => {
    const w = openStream(c.watch, 'Watch');
    w.stream.write({ create_request: { key: key('hc') } });
    await w.next();
    w.stream.end();
    await new Promise((r) => setTimeout(r, 50));
    await call(c.kv, 'Put', { key: key('hc'), value: key('still') });
    const event = await w.next();
    assert.equal((event.events as { kv: { value: Buffer } }[])[0]!.kv.value.toString(), 'still');
    w.stream.cancel();
    await w.status;
    await waitFor(() => h.backend.watchCount === 0);
  });

  it('holds a watch whose client does not read, and delivers everything once it does', async () => {
    const w = openStream(c.watch, 'Watch');
    w.stream.write({ create_request: { key: key('bp/'), range_end: key('bp0') } });
    await w.next();
    w.stream.pause();
    const value = Buffer.alloc(16 * 1024, 7);
    const n = 200;
    for (let i = 0; i < n; i++) await call(c.kv, 'Put', { key: key(`bp/${i}`), value });
    await waitFor(() => h.backend.heldCount === 1);
    w.stream.resume();
    const keys: string[] = [];
    while (keys.length < n) for (const e of (await w.next()).events as { kv: { key: Buffer } }[]) keys.push(e.kv.key.toString());
    assert.deepEqual(
      keys,
      Array.from({ length: n }, (_, i) => `bp/${i}`),
    );
    assert.equal(h.backend.heldCount, 0);
    w.stream.cancel();
    await w.status;
  });

  it('reports a compacted start revision as created then canceled with compact_revision', async () => {
    await call(c.kv, 'Put', { key: key('cp'), value: key('1') });
    await call(c.kv, 'Put', { key: key('cp'), value: key('2') });
    await call(c.kv, 'Compact', { revision: h.backend.revision });
    const w = openStream(c.watch, 'Watch');
    w.stream.write({ create_request: { key: key('cp'), start_revision: 2, watch_id: 5 } });
    const created = await w.next();
    const canceled = await w.next();
    assert.deepEqual([created.watch_id, created.created], ['5', true]);
    assert.deepEqual([canceled.watch_id, canceled.canceled, canceled.compact_revision], ['5', true, String(h.backend.compacted)]);
    // The id is free again.
    w.stream.write({ create_request: { key: key('cp'), watch_id: 5 } });
    const again = await w.next();
    assert.deepEqual([again.watch_id, again.canceled], ['5', false]);
    w.stream.cancel();
    await w.status;
  });
});

describe('gRPC LeaseKeepAlive stream', () => {
  let h: GrpcHarness;
  let c: RawClients;

  beforeEach(async () => {
    h = await startFakeGrpc();
    c = rawClients(h.port);
  });

  afterEach(async () => {
    c.close();
    await h.close();
  });

  it('answers each renewal in order, an unknown lease with TTL 0, and ends after a half-close', async () => {
    const granted = await call(c.lease, 'LeaseGrant', { TTL: 10, ID: 42 });
    assert.equal(granted.ID, '42');
    const k = openStream(c.lease, 'LeaseKeepAlive');
    for (const id of [42, 7, 42]) k.stream.write({ ID: id });
    k.stream.end();
    const answers = [await k.next(), await k.next(), await k.next()];
    assert.deepEqual(
      answers.map((a) => `${String(a.ID)}:${String(a.TTL)}`),
      ['42:10', '7:0', '42:10'],
    );
    assert.equal((await k.status).code, OK);
  });

  it('ends the stream with the backend error', async () => {
    const k = openStream(c.lease, 'LeaseKeepAlive');
    h.backend.failNext = new MetaError('no_leader');
    k.stream.write({ ID: 1 });
    const status = await k.status;
    assert.deepEqual(status, { code: 14, details: 'etcdserver: no leader' });
  });

  it('ends open streams with UNAVAILABLE when the server closes', async () => {
    const w = openStream(c.watch, 'Watch');
    w.stream.write({ create_request: { key: key('x') } });
    await w.next();
    const k = openStream(c.lease, 'LeaseKeepAlive');
    k.stream.write({ ID: 1 });
    await k.next();
    await h.server.close();
    assert.deepEqual(await w.status, { code: 14, details: 'etcdserver: server stopped' });
    assert.deepEqual(await k.status, { code: 14, details: 'etcdserver: server stopped' });
    assert.equal(h.backend.watchCount, 0);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
