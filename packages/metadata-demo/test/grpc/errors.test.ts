// What the gRPC server answers to bad and failing requests: etcd's statuses and messages for
// invalid ones, size limits, garbage on the wire, backend failures, and the deadline and
// cancellation it hands the backend.
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { MetaError } from '../../src/api/meta-error.js';
import { startFakeGrpc, type GrpcHarness } from '../support/api-harness.js';
import { call, callError, rawClients, type RawClients } from '../support/raw-grpc-client.js';

const key = (s: string) => Buffer.from(s);
const put = (k: string) => ({ request_put: { key: key(k), value: key('v') } });

/** One gRPC call made by hand over HTTP/2, with `body` as the raw request (frame included). */
function rawCall(port: number, path: string, body: Buffer): Promise<{ status: string | undefined; message: string | undefined }> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    let headers: Record<string, unknown> = {};
    req.on('response', (h) => (headers = h));
    req.on('trailers', (t) => (headers = { ...headers, ...t }));
    req.on('data', () => {});
    req.on('error', reject);
    req.on('close', () => {
      session.close();
      resolve({ status: headers['grpc-status'] as string | undefined, message: headers['grpc-message'] as string | undefined });
    });
    req.end(body);
  });
}

function frame(payload: Buffer, compressed = 0): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(compressed, 0);
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

describe('gRPC server errors', () => {
  let h: GrpcHarness;
  let c: RawClients;

  before(async () => {
    h = await startFakeGrpc({ maxRequestBytes: 4096 });
    c = rawClients(h.port);
  });

  after(async () => {
    c.close();
    await h.close();
  });

  it('answers invalid requests with etcd statuses and messages, before the backend sees them', async () => {
    h.backend.calls.length = 0;
    assert.deepEqual(await callError(c.kv, 'Range', {}), { code: 3, details: 'etcdserver: key is not provided' });
    assert.deepEqual(await callError(c.kv, 'Put', { key: key('k'), value: key('v'), ignore_value: true }), { code: 3, details: 'etcdserver: value is provided' });
    assert.deepEqual(await callError(c.kv, 'Put', { key: key('k'), lease: 5, ignore_lease: true }), { code: 3, details: 'etcdserver: lease is provided' });
    assert.deepEqual(await callError(c.kv, 'Range', { key: key('k'), sort_target: 9 }), { code: 3, details: 'etcdserver: invalid sort option' });
    assert.deepEqual(await callError(c.kv, 'Txn', { success: [{}] }), { code: 3, details: 'etcdserver: key not found' });
    assert.deepEqual(await callError(c.kv, 'Txn', { success: [put('a'), put('a')] }), { code: 3, details: 'etcdserver: duplicate key given in txn request' });
    assert.deepEqual(await callError(c.kv, 'Txn', { success: [put('a'), { request_delete_range: { key: key('a'), range_end: key('b') } }] }), {
      code: 3,
      details: 'etcdserver: duplicate key given in txn request',
    });
    const many = Array.from({ length: 129 }, (_, i) => put(`k${i}`));
    assert.deepEqual(await callError(c.kv, 'Txn', { success: many }), { code: 3, details: 'etcdserver: too many operations in txn request' });
    assert.deepEqual(await callError(c.kv, 'Txn', { compare: [{ key: key('a'), result: 9 }] }), { code: 3, details: 'etcdserver: invalid argument: unknown compare result 9' });
    assert.deepEqual(h.backend.calls, []);
  });

  it('lets a txn put the same key in the then and else branches of a nested txn', async () => {
    const nested = { request_txn: { success: [put('n')], failure: [put('n')] } };
    const r = await call(c.kv, 'Txn', { success: [nested] });
    assert.equal(r.succeeded, true);
  });

  it("refuses writes over etcd's request size limit, and messages over the transport's", async () => {
    const big = Buffer.alloc(5000, 1);
    assert.deepEqual(await callError(c.kv, 'Put', { key: key('big'), value: big }), { code: 3, details: 'etcdserver: request is too large' });
    // Reads are not held to the write limit, as in etcd.
    assert.equal((await call(c.kv, 'Range', { key: big })).count, '0');
    const huge = Buffer.alloc(4096 + 512 * 1024 + 10, 1);
    const e = await callError(c.kv, 'Put', { key: key('huge'), value: huge });
    assert.equal(e.code, 8);
    assert.match(e.details, /larger than max/);
  });

  it('answers garbage on the wire with an error status and keeps serving', async () => {
    const garbage = await rawCall(h.port, '/etcdserverpb.KV/Range', frame(Buffer.from('\xff\xff\xff\xff garbage that is not protobuf', 'latin1')));
    assert.notEqual(garbage.status, undefined);
    assert.notEqual(garbage.status, '0');
    const truncated = await rawCall(h.port, '/etcdserverpb.KV/Put', Buffer.from([0, 0, 0, 0, 50, 1, 2, 3]));
    assert.notEqual(truncated.status, '0');
    const compressed = await rawCall(h.port, '/etcdserverpb.KV/Range', frame(Buffer.from('not deflate at all'), 1));
    assert.notEqual(compressed.status, '0');
    const watchGarbage = await rawCall(h.port, '/etcdserverpb.Watch/Watch', frame(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f])));
    assert.notEqual(watchGarbage.status, '0');
    const unknown = await rawCall(h.port, '/etcdserverpb.KV/Nope', frame(Buffer.alloc(0)));
    assert.equal(unknown.status, '12');
    // Still serving.
    await call(c.kv, 'Put', { key: key('after-garbage'), value: key('ok') });
    const r = await call(c.kv, 'Range', { key: key('after-garbage') });
    assert.equal((r.kvs as { value: Buffer }[])[0]!.value.toString(), 'ok');
  });

  it('answers a backend failure that is not a MetaError with INTERNAL and a generic message, and logs it', async () => {
    h.backend.failNext = new Error('disk on fire at /var/lib/secret');
    assert.deepEqual(await callError(c.kv, 'Range', { key: key('k') }), { code: 13, details: 'etcdserver: internal error' });
    assert.ok(h.logger.errors.some((e) => JSON.stringify(e.obj).includes('disk on fire')));
    h.backend.failNext = new MetaError('no_leader');
    assert.deepEqual(await callError(c.kv, 'Range', { key: key('k') }), { code: 14, details: 'etcdserver: no leader' });
  });

  it("hands the backend the call's deadline and cancels it when the client gives up", async () => {
    const deadline = Date.now() + 4_000;
    await call(c.kv, 'Range', { key: key('k') }, { deadline });
    assert.ok(Math.abs((h.backend.lastOptions?.deadline ?? 0) - deadline) < 50, `deadline ${h.backend.lastOptions?.deadline} vs ${deadline}`);
    h.backend.delayMs = 2_000;
    try {
      const e = await callError(c.kv, 'Range', { key: key('k') }, { deadline: Date.now() + 100 });
      assert.equal(e.code, 4);
      // The server sees the call end (its own deadline timer or the client's cancel) just after.
      const until = Date.now() + 2_000;
      while (!h.backend.lastOptions?.signal?.aborted && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      assert.equal(h.backend.lastOptions?.signal?.aborted, true);
    } finally {
      h.backend.delayMs = 0;
    }
  });

  it('answers what it does not implement with UNIMPLEMENTED, and Auth as etcd with auth disabled', async () => {
    const add = await callError(c.cluster, 'MemberAdd', { peerURLs: ['http://x:2380'] });
    assert.equal(add.code, 12);
    assert.match(add.details, /^etcdserver: not implemented: membership changes/);
    assert.equal((await callError(c.maintenance, 'Defragment', {})).code, 12);
    assert.equal((await callError(c.maintenance, 'HashKV', {})).code, 12);
    assert.deepEqual(await callError(c.auth, 'Authenticate', { name: 'root', password: 'x' }), { code: 9, details: 'etcdserver: authentication is not enabled' });
    const status = await call(c.auth, 'AuthStatus', {});
    assert.equal(status.enabled, false);
    assert.deepEqual((await call(c.auth, 'UserList', {})).users, []);
    assert.equal((await callError(c.auth, 'UserAdd', { name: 'u', password: 'p' })).code, 12);
  });
});
