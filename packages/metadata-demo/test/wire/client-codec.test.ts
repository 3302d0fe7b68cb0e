// The client's half of the codec against the server's: requests encoded by encode-requests.ts,
// serialized to protobuf and read back by the server's decoders, and responses encoded by the
// server read back by decode-responses.ts, come out equal to what went in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KeyValue, RangeResponse, ResponseHeader, TxnRequest, TxnResponse, WatchCreateRequest, WatchResponse } from '../../src/api/etcd-types.js';
import { compare, deleteRequest, prefixRange, putRequest, rangeRequest, txnRequest } from '../../src/api/request-builders.js';
import { methodOf } from '../../src/client/unary.js';
import { decodeDeleteRange, decodePut, decodeRange, decodeTxn } from '../../src/wire/decode-kv.js';
import { decodeAlarm, decodeLeaseGrant, decodeLeaseTimeToLive } from '../../src/wire/decode-lease.js';
import * as res from '../../src/wire/decode-responses.js';
import * as enc from '../../src/wire/encode.js';
import * as req from '../../src/wire/encode-requests.js';
import type { ServiceName } from '../../src/wire/proto.js';

/** Through protobuf and back, as the request crosses the wire. */
function wire<T>(service: ServiceName, method: string, message: object): T {
  const m = methodOf(service, method);
  return (m as unknown as { requestDeserialize(b: Buffer): T }).requestDeserialize(m.requestSerialize(message));
}

function wireResponse(service: ServiceName, method: string, message: object): unknown {
  const m = methodOf(service, method) as unknown as { responseSerialize(v: object): Buffer; responseDeserialize(b: Buffer): unknown };
  return m.responseDeserialize(m.responseSerialize(message));
}

const header: ResponseHeader = { clusterId: 2n ** 64n - 5n, memberId: 0x8e9e05c52164694dn, revision: 77, raftTerm: 3 };
const kv = (key: string, lease = 0n): KeyValue => ({ key: Buffer.from(key), createRevision: 5, modRevision: 9, version: 3, value: Buffer.from(`v-${key}`), lease });

describe('the client codec', () => {
  it('encodes KV requests the server decodes to the same request', () => {
    const range = rangeRequest('a', {
      rangeEnd: Buffer.from('b'),
      limit: 7,
      revision: 12,
      sortOrder: 'descend',
      sortTarget: 'create',
      keysOnly: true,
      maxCreateRevision: 40,
      minModRevision: 3,
    });
    assert.deepEqual(decodeRange(wire('KV', 'Range', req.encodeRangeRequest(range))), range);
    const put = putRequest('k', 'v', { lease: 2n ** 62n + 1n, prevKv: true });
    assert.deepEqual(decodePut(wire('KV', 'Put', req.encodePutRequest(put))), put);
    const del = deleteRequest('p/', { rangeEnd: prefixRange('p/').rangeEnd, prevKv: true });
    assert.deepEqual(decodeDeleteRange(wire('KV', 'DeleteRange', req.encodeDeleteRangeRequest(del))), del);
    const txn: TxnRequest = txnRequest({
      compare: [
        compare('a', 'equal', { createRevision: 0 }),
        compare('b', 'less', { value: '00000000000000000042' }),
        compare('c', 'greater', { modRevision: 9 }),
        compare('d', 'not_equal', { version: 2 }),
        compare('e', 'equal', { lease: 99n }),
      ],
      success: [{ put: putRequest('a', '1') }, { range: prefixRange('a', { limit: 1, sortTarget: 'create', sortOrder: 'ascend' }) }],
      failure: [{ deleteRange: deleteRequest('z') }, { txn: txnRequest({ success: [{ range: rangeRequest('q') }] }) }],
    });
    assert.deepEqual(decodeTxn(wire('KV', 'Txn', req.encodeTxnRequest(txn)), 128), txn);
  });

  it('encodes lease and maintenance requests the server decodes to the same request', () => {
    assert.deepEqual(decodeLeaseGrant(wire('Lease', 'LeaseGrant', req.encodeLeaseGrantRequest({ ttl: 10, id: 123n }))), { ttl: 10, id: 123n });
    assert.deepEqual(decodeLeaseTimeToLive(wire('Lease', 'LeaseTimeToLive', req.encodeLeaseTimeToLiveRequest({ id: 5n, keys: true }))), { id: 5n, keys: true });
    const alarm = { action: 'deactivate', memberId: 2n ** 63n + 7n, alarm: 'nospace' } as const;
    assert.deepEqual(decodeAlarm(wire('Maintenance', 'Alarm', req.encodeAlarmRequest(alarm))), alarm);
  });

  it('encodes a watch create with the start revision asked for', () => {
    const w: WatchCreateRequest = {
      key: Buffer.from('a'),
      rangeEnd: Buffer.from('b'),
      startRevision: 5,
      progressNotify: true,
      filters: ['nodelete'],
      prevKv: true,
      watchId: 0,
      fragment: false,
    };
    const sent = wire<{ create_request: Record<string, unknown> }>('Watch', 'Watch', { create_request: req.encodeWatchCreateRequest(w, 9) }).create_request;
    assert.deepEqual([sent['start_revision'], sent['filters'], sent['prev_kv'], sent['progress_notify']], ['9', [1], true, true]);
  });

  it("decodes the server's responses to what it encoded", () => {
    const range: RangeResponse = { header, kvs: [kv('a', 2n ** 62n), kv('b')], more: true, count: 5 };
    assert.deepEqual(res.decodeRangeResponse(wireResponse('KV', 'Range', enc.encodeRange(range))), range);
    const txn: TxnResponse = {
      header,
      succeeded: true,
      responses: [
        { put: { header, prevKv: kv('a') } },
        { range: { header, kvs: [], more: false, count: 0 } },
        { deleteRange: { header, deleted: 2, prevKvs: [kv('c')] } },
        { txn: { header, succeeded: false, responses: [{ put: { header } }] } },
      ],
    };
    assert.deepEqual(res.decodeTxnResponse(wireResponse('KV', 'Txn', enc.encodeTxn(txn))), txn);
    const ttl = { header, id: 42n, ttl: 8, grantedTtl: 10, keys: [Buffer.from('x')] };
    assert.deepEqual(res.decodeLeaseTimeToLiveResponse(wireResponse('Lease', 'LeaseTimeToLive', enc.encodeLeaseTimeToLive(ttl))), ttl);
    const members = { header, members: [{ id: 2n ** 64n - 1n, name: 'n1', peerUrls: ['http://a'], clientUrls: ['http://b'], isLearner: false }] };
    assert.deepEqual(res.decodeMemberListResponse(wireResponse('Cluster', 'MemberList', enc.encodeMemberList(members))), members);
    const status = { header, version: '3.4.0', dbSize: 1, leader: 3n, raftIndex: 4, raftTerm: 5, raftAppliedIndex: 6, errors: ['x'], dbSizeInUse: 7, isLearner: false };
    assert.deepEqual(res.decodeStatusResponse(wireResponse('Maintenance', 'Status', enc.encodeStatus(status))), status);
    const alarms = { header, alarms: [{ memberId: 3n, alarm: 'nospace' as const }] };
    assert.deepEqual(res.decodeAlarmResponse(wireResponse('Maintenance', 'Alarm', enc.encodeAlarm(alarms))), alarms);
    const watch: WatchResponse = {
      header,
      watchId: 3,
      created: false,
      canceled: false,
      compactRevision: 0,
      cancelReason: '',
      fragment: false,
      events: [
        { type: 'put', kv: kv('a'), prevKv: kv('a') },
        { type: 'delete', kv: { key: Buffer.from('b'), createRevision: 0, modRevision: 9, version: 0, value: Buffer.alloc(0), lease: 0n } },
      ],
    };
    assert.deepEqual(res.decodeWatchResponse(wireResponse('Watch', 'Watch', enc.encodeWatchResponse(watch))), watch);
  });
});
