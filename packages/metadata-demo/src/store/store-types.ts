// What the store answers and records, in etcd's terms (bytes as Buffers, lease ids as bigints).
import type { AlarmType, EventType, KeyValue } from '../api/etcd-types.js';

/** The store's counters: in memory between entries, written to `state` inside each entry's transaction. */
export interface StoreCounters {
  /** The raft index of the last entry applied (0 when new). */
  appliedIndex: number;
  /** etcd's store revision: 1 when empty, +1 for each entry (or txn, or lease revoke) that changes keys. */
  revision: number;
  /** The last compaction's revision (0: never compacted); reads and watches below it are refused. */
  compactRevision: number;
  /** The replicated size the quota is checked against (see quota.ts). */
  sizeBytes: number;
  /** Chosen by the first entry the store applies; 0n before. */
  clusterId: bigint;
}

export interface ChangeEvent {
  type: EventType;
  kv: KeyValue;
  prevKv?: KeyValue;
}

/** The changes one revision made, in sub-revision order. */
export interface RevisionChanges {
  revision: number;
  events: ChangeEvent[];
}

export interface RangeResult {
  /** The store's revision the range was answered at (etcd's header revision, not the one read). */
  revision: number;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

export interface PutResult {
  revision: number;
  prevKv?: KeyValue;
}

export interface DeleteRangeResult {
  revision: number;
  deleted: number;
  prevKvs: KeyValue[];
}

export type OpResult = { range: RangeResult } | { put: PutResult } | { deleteRange: DeleteRangeResult } | { txn: TxnResult };

export interface TxnResult {
  revision: number;
  succeeded: boolean;
  responses: OpResult[];
}

export interface LeaseRecord {
  id: bigint;
  /** Seconds, as granted (after the minimum). */
  ttl: number;
  /** Entry timestamp (ms) of the grant or the last keep-alive. */
  renewedAt: number;
  /** renewedAt + ttl seconds. */
  expiresAt: number;
}

export interface MemberRecord {
  id: number;
  name: string;
  peerUrls: string[];
  /** gRPC client URLs (etcd's client_urls). */
  clientUrls: string[];
  /** The node's HTTP API (raftkit's API and etcd's JSON gateway). */
  httpUrls: string[];
}

export interface AlarmRecord {
  memberId: bigint;
  alarm: Exclude<AlarmType, 'none'>;
}

/** A change read back from the history (for a watch catching up). */
export interface StoredEvent extends ChangeEvent {
  revision: number;
}
