// The JSON the metadata store's commands and queries take and answer: what travels in a raft
// log entry and through raftkit's HTTP API (/v1/groups/meta/commands/<name>). Bytes are base64
// strings; int64 ids (leases, members) are decimal strings, since JSON numbers lose them past
// 2^53; revisions and counts are numbers. Fields at etcd's default (false, 0, empty) may be left
// out, and the encoder leaves them out to keep entries small.
import type { AlarmType, CompareResult, CompareTarget, EventType, SortOrder, SortTarget } from '../api/etcd-types.js';
import type { MetaErrorCode } from '../api/meta-error.js';

/** Bytes, base64 (standard alphabet, padded). */
export type B64 = string;
/** A 64-bit integer as a decimal string. */
export type Int64 = string;

export interface WireKeyValue {
  key: B64;
  createRevision: number;
  modRevision: number;
  version: number;
  value: B64;
  lease: Int64;
}

export interface WireRange {
  key: B64;
  rangeEnd?: B64;
  limit?: number;
  revision?: number;
  sortOrder?: SortOrder;
  sortTarget?: SortTarget;
  keysOnly?: boolean;
  countOnly?: boolean;
  minModRevision?: number;
  maxModRevision?: number;
  minCreateRevision?: number;
  maxCreateRevision?: number;
}

export interface WirePut {
  key: B64;
  value?: B64;
  lease?: Int64;
  prevKv?: boolean;
  ignoreValue?: boolean;
  ignoreLease?: boolean;
}

export interface WireDeleteRange {
  key: B64;
  rangeEnd?: B64;
  prevKv?: boolean;
}

export interface WireCompare {
  key: B64;
  rangeEnd?: B64;
  result: CompareResult;
  target: CompareTarget;
  version?: number;
  createRevision?: number;
  modRevision?: number;
  value?: B64;
  lease?: Int64;
}

export type WireOp = { range: WireRange } | { put: WirePut } | { deleteRange: WireDeleteRange } | { txn: WireTxn };

export interface WireTxn {
  compare?: WireCompare[];
  success?: WireOp[];
  failure?: WireOp[];
}

/** The quota a write is checked against: the receiving node's --quota-bytes, carried in the entry so every replica decides alike. */
export interface WithQuota {
  quotaBytes?: number;
}

// ---------------------------------------------------------------- results

export interface WireRangeResult {
  revision: number;
  kvs: WireKeyValue[];
  more: boolean;
  count: number;
}

export interface WirePutResult {
  revision: number;
  prevKv?: WireKeyValue;
}

export interface WireDeleteRangeResult {
  revision: number;
  deleted: number;
  prevKvs: WireKeyValue[];
}

export type WireOpResult = { range: WireRangeResult } | { put: WirePutResult } | { deleteRange: WireDeleteRangeResult } | { txn: WireTxnResult };

export interface WireTxnResult {
  revision: number;
  succeeded: boolean;
  responses: WireOpResult[];
}

export interface WireCompactResult {
  revision: number;
}

export interface WireLeaseGrantResult {
  revision: number;
  id: Int64;
  ttl: number;
}

export interface WireLeaseKeepAliveResult {
  revision: number;
  id: Int64;
  /** 0: no such lease. */
  ttl: number;
}

export interface WireLeaseExpireResult {
  revision: number;
  expired: Int64[];
}

export interface WireLeaseTimeToLiveResult {
  revision: number;
  id: Int64;
  found: boolean;
  grantedTtl: number;
  /** Entry time (ms) of the last renewal and of the expiry; the node turns them into seconds left. */
  renewedAt: number;
  expiresAt: number;
  keys: B64[];
}

export interface WireAlarmMember {
  memberId: Int64;
  alarm: AlarmType;
}

export interface WireAlarmResult {
  revision: number;
  alarms: WireAlarmMember[];
}

export interface WireMember {
  id: number;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  httpUrls: string[];
}

export interface WireEvent {
  type: EventType;
  kv: WireKeyValue;
  prevKv?: WireKeyValue;
}

/** A refused command or query: etcd's error code (MetaError), the same on every replica. */
export interface WireError {
  error: MetaErrorCode;
  message?: string;
}

export function isWireError(v: unknown): v is WireError {
  return typeof v === 'object' && v !== null && typeof (v as { error?: unknown }).error === 'string';
}
