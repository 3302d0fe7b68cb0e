// Responses from the wire into the etcd types, for the client side (src/client): the inverse of
// encode.ts. Tolerant of what proto-loader leaves out (an absent message is null, an absent
// scalar its default), so it also reads answers of a real etcd. Lease ids are read as int64 (as
// decode-lease.ts reads them), member and cluster ids as uint64.
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
import { ALARM_TYPES, EVENT_TYPES, enumName } from './enums.js';
import { toBigInt, toNumber } from './int64.js';
import type { Int64 } from './wire-types.js';

type Maybe<T> = T | null | undefined;

/** A response as proto-loader hands it over: any field may be missing. */
type Loose = Record<string, unknown>;

const EMPTY = Buffer.alloc(0);

function obj(v: unknown): Loose {
  return typeof v === 'object' && v !== null ? (v as Loose) : {};
}

function buf(v: unknown): Buffer {
  return Buffer.isBuffer(v) ? v : v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : EMPTY;
}

function num(v: unknown): number {
  return toNumber(v as Maybe<Int64>);
}

function big(v: unknown): bigint {
  return toBigInt(v as Maybe<Int64>);
}

function uint(v: unknown): bigint {
  return BigInt.asUintN(64, big(v));
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function decodeHeader(v: unknown): ResponseHeader {
  const h = obj(v);
  return { clusterId: uint(h['cluster_id']), memberId: uint(h['member_id']), revision: num(h['revision']), raftTerm: num(h['raft_term']) };
}

export function decodeKeyValue(v: unknown): KeyValue {
  const kv = obj(v);
  return {
    key: buf(kv['key']),
    createRevision: num(kv['create_revision']),
    modRevision: num(kv['mod_revision']),
    version: num(kv['version']),
    value: buf(kv['value']),
    lease: big(kv['lease']),
  };
}

export function decodeRangeResponse(v: unknown): RangeResponse {
  const r = obj(v);
  return { header: decodeHeader(r['header']), kvs: list(r['kvs']).map(decodeKeyValue), more: r['more'] === true, count: num(r['count']) };
}

export function decodePutResponse(v: unknown): PutResponse {
  const r = obj(v);
  const prev = r['prev_kv'];
  return prev ? { header: decodeHeader(r['header']), prevKv: decodeKeyValue(prev) } : { header: decodeHeader(r['header']) };
}

export function decodeDeleteRangeResponse(v: unknown): DeleteRangeResponse {
  const r = obj(v);
  return { header: decodeHeader(r['header']), deleted: num(r['deleted']), prevKvs: list(r['prev_kvs']).map(decodeKeyValue) };
}

function decodeResponseOp(v: unknown): ResponseOp {
  const op = obj(v);
  if (op['response_range']) return { range: decodeRangeResponse(op['response_range']) };
  if (op['response_put']) return { put: decodePutResponse(op['response_put']) };
  if (op['response_delete_range']) return { deleteRange: decodeDeleteRangeResponse(op['response_delete_range']) };
  if (op['response_txn']) return { txn: decodeTxnResponse(op['response_txn']) };
  // An op answered with nothing set: etcd never sends one; read it as an empty range.
  return { range: { header: decodeHeader(undefined), kvs: [], more: false, count: 0 } };
}

export function decodeTxnResponse(v: unknown): TxnResponse {
  const r = obj(v);
  return { header: decodeHeader(r['header']), succeeded: r['succeeded'] === true, responses: list(r['responses']).map(decodeResponseOp) };
}

export function decodeCompactionResponse(v: unknown): CompactionResponse {
  return { header: decodeHeader(obj(v)['header']) };
}

export function decodeLeaseGrantResponse(v: unknown): LeaseGrantResponse {
  const r = obj(v);
  return { header: decodeHeader(r['header']), id: big(r['ID']), ttl: num(r['TTL']), error: typeof r['error'] === 'string' ? r['error'] : '' };
}

export function decodeLeaseRevokeResponse(v: unknown): LeaseRevokeResponse {
  return { header: decodeHeader(obj(v)['header']) };
}

export function decodeLeaseKeepAliveResponse(v: unknown): LeaseKeepAliveResponse {
  const r = obj(v);
  return { header: decodeHeader(r['header']), id: big(r['ID']), ttl: num(r['TTL']) };
}

export function decodeLeaseTimeToLiveResponse(v: unknown): LeaseTimeToLiveResponse {
  const r = obj(v);
  return { header: decodeHeader(r['header']), id: big(r['ID']), ttl: num(r['TTL']), grantedTtl: num(r['grantedTTL']), keys: list(r['keys']).map(buf) };
}

export function decodeLeaseLeasesResponse(v: unknown): LeaseLeasesResponse {
  const r = obj(v);
  return { header: decodeHeader(r['header']), leases: list(r['leases']).map((l) => ({ id: big(obj(l)['ID']) })) };
}

function strings(v: unknown): string[] {
  return list(v).filter((s): s is string => typeof s === 'string');
}

function decodeMember(v: unknown): Member {
  const m = obj(v);
  return {
    id: uint(m['ID']),
    name: typeof m['name'] === 'string' ? m['name'] : '',
    peerUrls: strings(m['peerURLs']),
    clientUrls: strings(m['clientURLs']),
    isLearner: m['isLearner'] === true,
  };
}

export function decodeMemberListResponse(v: unknown): MemberListResponse {
  const r = obj(v);
  return { header: decodeHeader(r['header']), members: list(r['members']).map(decodeMember) };
}

export function decodeStatusResponse(v: unknown): StatusResponse {
  const r = obj(v);
  return {
    header: decodeHeader(r['header']),
    version: typeof r['version'] === 'string' ? r['version'] : '',
    dbSize: num(r['dbSize']),
    leader: uint(r['leader']),
    raftIndex: num(r['raftIndex']),
    raftTerm: num(r['raftTerm']),
    raftAppliedIndex: num(r['raftAppliedIndex']),
    errors: strings(r['errors']),
    dbSizeInUse: num(r['dbSizeInUse']),
    isLearner: r['isLearner'] === true,
  };
}

export function decodeAlarmResponse(v: unknown): AlarmResponse {
  const r = obj(v);
  return {
    header: decodeHeader(r['header']),
    alarms: list(r['alarms']).map((a) => ({ memberId: uint(obj(a)['memberID']), alarm: enumName(ALARM_TYPES, obj(a)['alarm'] as Maybe<number>) ?? 'none' })),
  };
}

function decodeEvent(v: unknown): Event {
  const e = obj(v);
  const type = enumName(EVENT_TYPES, e['type'] as Maybe<number>) ?? 'put';
  const prev = e['prev_kv'];
  return prev ? { type, kv: decodeKeyValue(e['kv']), prevKv: decodeKeyValue(prev) } : { type, kv: decodeKeyValue(e['kv']) };
}

export function decodeWatchResponse(v: unknown): WatchResponse {
  const r = obj(v);
  return {
    header: decodeHeader(r['header']),
    watchId: num(r['watch_id']),
    created: r['created'] === true,
    canceled: r['canceled'] === true,
    compactRevision: num(r['compact_revision']),
    cancelReason: typeof r['cancel_reason'] === 'string' ? r['cancel_reason'] : '',
    fragment: r['fragment'] === true,
    events: list(r['events']).map(decodeEvent),
  };
}
