// The etcd v3 API's messages as this package handles them, independent of the wire: the gRPC
// server (src/grpc) and the JSON gateway (src/gateway) decode into these and encode from them;
// the node (src/node) answers them. Field for field etcd's etcdserverpb/mvccpb messages
// (api/etcdserverpb/rpc.proto, api/mvccpb/kv.proto), camelCased. Keys and values are bytes;
// revisions, versions, counts and TTLs are numbers (they stay far below 2^53); lease and member
// ids are int64/uint64 chosen at random by etcd and its clients, so they are bigints.

export interface ResponseHeader {
  clusterId: bigint;
  memberId: bigint;
  /** The store's revision when the request was served. */
  revision: number;
  raftTerm: number;
}

export interface KeyValue {
  key: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Buffer;
  /** 0n: no lease. */
  lease: bigint;
}

export type SortOrder = 'none' | 'ascend' | 'descend';
export type SortTarget = 'key' | 'version' | 'create' | 'mod' | 'value';

/**
 * A key range as etcd encodes it: `rangeEnd` empty is the single key `key`; `rangeEnd` = [0x00]
 * is every key >= `key` (and `key` = [0x00] too is every key); otherwise [key, rangeEnd).
 */
export interface KeyRange {
  key: Buffer;
  rangeEnd: Buffer;
}

export interface RangeRequest extends KeyRange {
  /** 0: no limit. */
  limit: number;
  /** 0: the current revision. */
  revision: number;
  sortOrder: SortOrder;
  sortTarget: SortTarget;
  /** Served from this node's state without a ReadIndex round. */
  serializable: boolean;
  keysOnly: boolean;
  countOnly: boolean;
  /** 0: no bound. */
  minModRevision: number;
  maxModRevision: number;
  minCreateRevision: number;
  maxCreateRevision: number;
}

export interface RangeResponse {
  header: ResponseHeader;
  kvs: KeyValue[];
  /** More keys matched than were returned (limit or the size cap). */
  more: boolean;
  /** How many keys matched in all. */
  count: number;
}

export interface PutRequest {
  key: Buffer;
  value: Buffer;
  lease: bigint;
  prevKv: boolean;
  ignoreValue: boolean;
  ignoreLease: boolean;
}

export interface PutResponse {
  header: ResponseHeader;
  prevKv?: KeyValue;
}

export interface DeleteRangeRequest extends KeyRange {
  prevKv: boolean;
}

export interface DeleteRangeResponse {
  header: ResponseHeader;
  deleted: number;
  prevKvs: KeyValue[];
}

export type RequestOp = { range: RangeRequest } | { put: PutRequest } | { deleteRange: DeleteRangeRequest } | { txn: TxnRequest };
export type ResponseOp = { range: RangeResponse } | { put: PutResponse } | { deleteRange: DeleteRangeResponse } | { txn: TxnResponse };

export type CompareResult = 'equal' | 'greater' | 'less' | 'not_equal';
export type CompareTarget = 'version' | 'create' | 'mod' | 'value' | 'lease';

export interface Compare extends KeyRange {
  result: CompareResult;
  target: CompareTarget;
  /** The operand of `target` (etcd's target_union); the others are ignored. */
  version: number;
  createRevision: number;
  modRevision: number;
  value: Buffer;
  lease: bigint;
}

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

export interface TxnResponse {
  header: ResponseHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactionRequest {
  revision: number;
  /** etcd waits for the compaction to reach the disk; here it always has when the answer comes. */
  physical: boolean;
}

export interface CompactionResponse {
  header: ResponseHeader;
}

export interface LeaseGrantRequest {
  /** Seconds. */
  ttl: number;
  /** 0n: the store picks one. */
  id: bigint;
}

export interface LeaseGrantResponse {
  header: ResponseHeader;
  id: bigint;
  ttl: number;
  error: string;
}

export interface LeaseRevokeRequest {
  id: bigint;
}

export interface LeaseRevokeResponse {
  header: ResponseHeader;
}

export interface LeaseKeepAliveRequest {
  id: bigint;
}

export interface LeaseKeepAliveResponse {
  header: ResponseHeader;
  id: bigint;
  /** Seconds the lease now has; 0 when it does not exist (etcd answers so rather than failing the stream). */
  ttl: number;
}

export interface LeaseTimeToLiveRequest {
  id: bigint;
  keys: boolean;
}

export interface LeaseTimeToLiveResponse {
  header: ResponseHeader;
  id: bigint;
  /** Seconds left; -1 when the lease does not exist. */
  ttl: number;
  grantedTtl: number;
  keys: Buffer[];
}

export interface LeaseLeasesResponse {
  header: ResponseHeader;
  leases: { id: bigint }[];
}

export interface Member {
  id: bigint;
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

export interface MemberListResponse {
  header: ResponseHeader;
  members: Member[];
}

export interface StatusResponse {
  header: ResponseHeader;
  version: string;
  dbSize: number;
  /** The leader's member id (0n: none known). */
  leader: bigint;
  raftIndex: number;
  raftTerm: number;
  raftAppliedIndex: number;
  errors: string[];
  dbSizeInUse: number;
  isLearner: boolean;
}

export type AlarmType = 'none' | 'nospace' | 'corrupt';
export type AlarmAction = 'get' | 'activate' | 'deactivate';

export interface AlarmRequest {
  action: AlarmAction;
  memberId: bigint;
  alarm: AlarmType;
}

export interface AlarmResponse {
  header: ResponseHeader;
  alarms: { memberId: bigint; alarm: AlarmType }[];
}

export type EventType = 'put' | 'delete';

export interface Event {
  type: EventType;
  /** A delete's kv has the key, modRevision = the deleting revision, and nothing else. */
  kv: KeyValue;
  prevKv?: KeyValue;
}

export type WatchFilter = 'noput' | 'nodelete';

export interface WatchCreateRequest extends KeyRange {
  /** 0: from the next revision. */
  startRevision: number;
  progressNotify: boolean;
  filters: WatchFilter[];
  prevKv: boolean;
  /**
   * On the wire, the client's choice (0 with no other watch: let the server pick). Handed to the
   * backend, the id the stream layer settled on: ids are per stream and etcd assigns them from 0
   * upwards, skipping ids in use.
   */
  watchId: number;
  fragment: boolean;
}

export interface WatchResponse {
  header: ResponseHeader;
  watchId: number;
  created: boolean;
  canceled: boolean;
  /** Set with canceled when the start revision was compacted: the oldest revision still watchable - 1. */
  compactRevision: number;
  cancelReason: string;
  fragment: boolean;
  events: Event[];
}
