// The etcd types' requests into the wire shape (see wire-types.ts), for the client side
// (src/client): the inverse of decode-kv.ts and decode-lease.ts. Every field is written, 64-bit
// integers as decimal strings, enums as numbers; a compare sets only its target's member of
// target_union, as etcd's clients do. No checks: the server makes etcd's.
import type {
  AlarmRequest,
  CompactionRequest,
  Compare,
  CompareTarget,
  DeleteRangeRequest,
  LeaseGrantRequest,
  LeaseRevokeRequest,
  LeaseTimeToLiveRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
  WatchCreateRequest,
} from '../api/etcd-types.js';
import { ALARM_ACTIONS, ALARM_TYPES, COMPARE_RESULTS, COMPARE_TARGETS, SORT_ORDERS, SORT_TARGETS, WATCH_FILTERS, enumNumber } from './enums.js';
import { int64, leaseId, uint64 } from './int64.js';
import type {
  WireAlarmRequest,
  WireCompactionRequest,
  WireCompare,
  WireDeleteRangeRequest,
  WireLeaseGrantRequest,
  WireLeaseIdRequest,
  WireLeaseTimeToLiveRequest,
  WirePutRequest,
  WireRangeRequest,
  WireRequestOp,
  WireTxnRequest,
  WireWatchCreateRequest,
} from './wire-types.js';

export function encodeRangeRequest(r: RangeRequest): WireRangeRequest {
  return {
    key: r.key,
    range_end: r.rangeEnd,
    limit: int64(r.limit),
    revision: int64(r.revision),
    sort_order: enumNumber(SORT_ORDERS, r.sortOrder),
    sort_target: enumNumber(SORT_TARGETS, r.sortTarget),
    serializable: r.serializable,
    keys_only: r.keysOnly,
    count_only: r.countOnly,
    min_mod_revision: int64(r.minModRevision),
    max_mod_revision: int64(r.maxModRevision),
    min_create_revision: int64(r.minCreateRevision),
    max_create_revision: int64(r.maxCreateRevision),
  };
}

export function encodePutRequest(r: PutRequest): WirePutRequest {
  return { key: r.key, value: r.value, lease: leaseId(r.lease), prev_kv: r.prevKv, ignore_value: r.ignoreValue, ignore_lease: r.ignoreLease };
}

export function encodeDeleteRangeRequest(r: DeleteRangeRequest): WireDeleteRangeRequest {
  return { key: r.key, range_end: r.rangeEnd, prev_kv: r.prevKv };
}

/** The member of Compare.target_union each target compares against. */
const TARGET_FIELDS: Record<CompareTarget, 'version' | 'create_revision' | 'mod_revision' | 'value' | 'lease'> = {
  version: 'version',
  create: 'create_revision',
  mod: 'mod_revision',
  value: 'value',
  lease: 'lease',
};

export function encodeCompare(c: Compare): WireCompare {
  const w: WireCompare = {
    result: enumNumber(COMPARE_RESULTS, c.result),
    target: enumNumber(COMPARE_TARGETS, c.target),
    key: c.key,
    range_end: c.rangeEnd,
    target_union: TARGET_FIELDS[c.target],
  };
  switch (c.target) {
    case 'version':
      w.version = int64(c.version);
      break;
    case 'create':
      w.create_revision = int64(c.createRevision);
      break;
    case 'mod':
      w.mod_revision = int64(c.modRevision);
      break;
    case 'value':
      w.value = c.value;
      break;
    case 'lease':
      w.lease = leaseId(c.lease);
      break;
  }
  return w;
}

function encodeRequestOp(op: RequestOp): WireRequestOp {
  if ('range' in op) return { request_range: encodeRangeRequest(op.range), request: 'request_range' };
  if ('put' in op) return { request_put: encodePutRequest(op.put), request: 'request_put' };
  if ('deleteRange' in op) return { request_delete_range: encodeDeleteRangeRequest(op.deleteRange), request: 'request_delete_range' };
  return { request_txn: encodeTxnRequest(op.txn), request: 'request_txn' };
}

export function encodeTxnRequest(r: TxnRequest): WireTxnRequest {
  return { compare: r.compare.map(encodeCompare), success: r.success.map(encodeRequestOp), failure: r.failure.map(encodeRequestOp) };
}

export function encodeCompactionRequest(r: CompactionRequest): WireCompactionRequest {
  return { revision: int64(r.revision), physical: r.physical };
}

export function encodeLeaseGrantRequest(r: LeaseGrantRequest): WireLeaseGrantRequest {
  return { TTL: int64(r.ttl), ID: leaseId(r.id) };
}

export function encodeLeaseIdRequest(r: LeaseRevokeRequest): WireLeaseIdRequest {
  return { ID: leaseId(r.id) };
}

export function encodeLeaseTimeToLiveRequest(r: LeaseTimeToLiveRequest): WireLeaseTimeToLiveRequest {
  return { ID: leaseId(r.id), keys: r.keys };
}

export function encodeAlarmRequest(r: AlarmRequest): WireAlarmRequest {
  return { action: enumNumber(ALARM_ACTIONS, r.action), memberID: uint64(r.memberId), alarm: enumNumber(ALARM_TYPES, r.alarm) };
}

/** A create request with the start revision to ask for (a resumed watch asks for a later one than it was created with). */
export function encodeWatchCreateRequest(r: WatchCreateRequest, startRevision = r.startRevision): WireWatchCreateRequest {
  return {
    key: r.key,
    range_end: r.rangeEnd,
    start_revision: int64(startRevision),
    progress_notify: r.progressNotify,
    filters: r.filters.map((f) => enumNumber(WATCH_FILTERS, f)),
    prev_kv: r.prevKv,
    watch_id: int64(r.watchId),
    fragment: r.fragment,
  };
}
