// The etcd types' responses into the wire shape (see wire-types.ts): every field present, 64-bit
// integers as decimal strings, enums as numbers. Lease ids go out as int64, member and cluster
// ids as uint64, as etcd's fields are typed.
import type {
  AlarmResponse,
  CompactionResponse,
  DeleteRangeResponse,
  Event,
  KeyValue,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
  Member,
  MemberListResponse,
  PutResponse,
  RangeResponse,
  ResponseHeader,
  ResponseOp,
  StatusResponse,
  TxnResponse,
  WatchResponse,
} from '../api/etcd-types.js';
import { ALARM_TYPES, EVENT_TYPES, enumNumber } from './enums.js';
import { int64, leaseId, uint64 } from './int64.js';
import type {
  WireDeleteRangeResponse,
  WireEvent,
  WireKeyValue,
  WireLeaseKeepAliveResponse,
  WirePutResponse,
  WireRangeResponse,
  WireResponseHeader,
  WireResponseOp,
  WireTxnResponse,
  WireWatchResponse,
} from './wire-types.js';

export function encodeHeader(h: ResponseHeader): WireResponseHeader {
  return { cluster_id: uint64(h.clusterId), member_id: uint64(h.memberId), revision: int64(h.revision), raft_term: int64(h.raftTerm) };
}

export function encodeKeyValue(kv: KeyValue): WireKeyValue {
  return {
    key: kv.key,
    create_revision: int64(kv.createRevision),
    mod_revision: int64(kv.modRevision),
    version: int64(kv.version),
    value: kv.value,
    lease: leaseId(kv.lease),
  };
}

export function encodeRange(r: RangeResponse): WireRangeResponse {
  return { header: encodeHeader(r.header), kvs: r.kvs.map(encodeKeyValue), more: r.more, count: int64(r.count) };
}

export function encodePut(r: PutResponse): WirePutResponse {
  return { header: encodeHeader(r.header), prev_kv: r.prevKv ? encodeKeyValue(r.prevKv) : null };
}

export function encodeDeleteRange(r: DeleteRangeResponse): WireDeleteRangeResponse {
  return { header: encodeHeader(r.header), deleted: int64(r.deleted), prev_kvs: r.prevKvs.map(encodeKeyValue) };
}

function encodeResponseOp(op: ResponseOp): WireResponseOp {
  if ('range' in op) return { response_range: encodeRange(op.range), response: 'response_range' };
  if ('put' in op) return { response_put: encodePut(op.put), response: 'response_put' };
  if ('deleteRange' in op) return { response_delete_range: encodeDeleteRange(op.deleteRange), response: 'response_delete_range' };
  return { response_txn: encodeTxn(op.txn), response: 'response_txn' };
}

export function encodeTxn(r: TxnResponse): WireTxnResponse {
  return { header: encodeHeader(r.header), succeeded: r.succeeded, responses: r.responses.map(encodeResponseOp) };
}

export function encodeCompaction(r: CompactionResponse): object {
  return { header: encodeHeader(r.header) };
}

export function encodeLeaseGrant(r: LeaseGrantResponse): object {
  return { header: encodeHeader(r.header), ID: leaseId(r.id), TTL: int64(r.ttl), error: r.error };
}

export function encodeLeaseRevoke(r: LeaseRevokeResponse): object {
  return { header: encodeHeader(r.header) };
}

export function encodeLeaseKeepAlive(r: LeaseKeepAliveResponse): WireLeaseKeepAliveResponse {
  return { header: encodeHeader(r.header), ID: leaseId(r.id), TTL: int64(r.ttl) };
}

export function encodeLeaseTimeToLive(r: LeaseTimeToLiveResponse): object {
  return { header: encodeHeader(r.header), ID: leaseId(r.id), TTL: int64(r.ttl), grantedTTL: int64(r.grantedTtl), keys: r.keys };
}

export function encodeLeaseLeases(r: LeaseLeasesResponse): object {
  return { header: encodeHeader(r.header), leases: r.leases.map((l) => ({ ID: leaseId(l.id) })) };
}

function encodeMember(m: Member): object {
  return { ID: uint64(m.id), name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls, isLearner: m.isLearner };
}

export function encodeMemberList(r: MemberListResponse): object {
  return { header: encodeHeader(r.header), members: r.members.map(encodeMember) };
}

export function encodeStatus(r: StatusResponse): object {
  return {
    header: encodeHeader(r.header),
    version: r.version,
    dbSize: int64(r.dbSize),
    leader: uint64(r.leader),
    raftIndex: int64(r.raftIndex),
    raftTerm: int64(r.raftTerm),
    raftAppliedIndex: int64(r.raftAppliedIndex),
    errors: r.errors,
    dbSizeInUse: int64(r.dbSizeInUse),
    isLearner: r.isLearner,
  };
}

export function encodeAlarm(r: AlarmResponse): object {
  return {
    header: encodeHeader(r.header),
    alarms: r.alarms.map((a) => ({ memberID: uint64(a.memberId), alarm: enumNumber(ALARM_TYPES, a.alarm) })),
  };
}

/** One wire form per event object: watches share their events, so the gRPC encoder encodes each once. */
const wireEvents = new WeakMap<Event, WireEvent>();

function encodeEvent(e: Event): WireEvent {
  let wire = wireEvents.get(e);
  if (!wire) {
    wire = { type: enumNumber(EVENT_TYPES, e.type), kv: encodeKeyValue(e.kv), prev_kv: e.prevKv ? encodeKeyValue(e.prevKv) : null };
    wireEvents.set(e, wire);
  }
  return wire;
}

export function encodeWatchResponse(r: WatchResponse): WireWatchResponse {
  return {
    header: encodeHeader(r.header),
    watch_id: int64(r.watchId),
    created: r.created,
    canceled: r.canceled,
    compact_revision: int64(r.compactRevision),
    cancel_reason: r.cancelReason,
    fragment: r.fragment,
    events: r.events.map(encodeEvent),
  };
}
