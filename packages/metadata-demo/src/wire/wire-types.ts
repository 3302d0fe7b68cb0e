// etcd's messages in the shape @grpc/proto-loader hands them over and takes them back (see
// proto.ts: field names as in the .proto files, 64-bit integers as decimal strings, bytes as
// Buffer, enums as numbers, a oneof's chosen member named by the oneof's own property). The JSON
// gateway parses into the same shape, so both transports share the codec in decode-*.ts and
// encode.ts. Requests may lack any field (the gateway fills no defaults); responses are complete.

/** An int64/uint64 as a decimal string. */
export type Int64 = string;

type Maybe<T> = T | null | undefined;

// ---- requests (every field optional) ----

export interface WireRangeRequest {
  key?: Maybe<Buffer>;
  range_end?: Maybe<Buffer>;
  limit?: Maybe<Int64>;
  revision?: Maybe<Int64>;
  sort_order?: Maybe<number>;
  sort_target?: Maybe<number>;
  serializable?: Maybe<boolean>;
  keys_only?: Maybe<boolean>;
  count_only?: Maybe<boolean>;
  min_mod_revision?: Maybe<Int64>;
  max_mod_revision?: Maybe<Int64>;
  min_create_revision?: Maybe<Int64>;
  max_create_revision?: Maybe<Int64>;
}

export interface WirePutRequest {
  key?: Maybe<Buffer>;
  value?: Maybe<Buffer>;
  lease?: Maybe<Int64>;
  prev_kv?: Maybe<boolean>;
  ignore_value?: Maybe<boolean>;
  ignore_lease?: Maybe<boolean>;
}

export interface WireDeleteRangeRequest {
  key?: Maybe<Buffer>;
  range_end?: Maybe<Buffer>;
  prev_kv?: Maybe<boolean>;
}

export interface WireRequestOp {
  request_range?: Maybe<WireRangeRequest>;
  request_put?: Maybe<WirePutRequest>;
  request_delete_range?: Maybe<WireDeleteRangeRequest>;
  request_txn?: Maybe<WireTxnRequest>;
  /** The member that is set (proto-loader's `oneofs: true`). */
  request?: Maybe<string>;
}

export interface WireCompare {
  result?: Maybe<number>;
  target?: Maybe<number>;
  key?: Maybe<Buffer>;
  version?: Maybe<Int64>;
  create_revision?: Maybe<Int64>;
  mod_revision?: Maybe<Int64>;
  value?: Maybe<Buffer>;
  lease?: Maybe<Int64>;
  range_end?: Maybe<Buffer>;
  target_union?: Maybe<string>;
}

export interface WireTxnRequest {
  compare?: Maybe<WireCompare[]>;
  success?: Maybe<WireRequestOp[]>;
  failure?: Maybe<WireRequestOp[]>;
}

export interface WireCompactionRequest {
  revision?: Maybe<Int64>;
  physical?: Maybe<boolean>;
}

export interface WireLeaseGrantRequest {
  TTL?: Maybe<Int64>;
  ID?: Maybe<Int64>;
}

export interface WireLeaseIdRequest {
  ID?: Maybe<Int64>;
}

export interface WireLeaseTimeToLiveRequest {
  ID?: Maybe<Int64>;
  keys?: Maybe<boolean>;
}

export interface WireAlarmRequest {
  action?: Maybe<number>;
  memberID?: Maybe<Int64>;
  alarm?: Maybe<number>;
}

export interface WireWatchCreateRequest {
  key?: Maybe<Buffer>;
  range_end?: Maybe<Buffer>;
  start_revision?: Maybe<Int64>;
  progress_notify?: Maybe<boolean>;
  filters?: Maybe<number[]>;
  prev_kv?: Maybe<boolean>;
  watch_id?: Maybe<Int64>;
  fragment?: Maybe<boolean>;
}

export interface WireWatchRequest {
  create_request?: Maybe<WireWatchCreateRequest>;
  cancel_request?: Maybe<{ watch_id?: Maybe<Int64> }>;
  progress_request?: Maybe<object>;
  request_union?: Maybe<string>;
}

// ---- responses (complete) ----

export interface WireResponseHeader {
  cluster_id: Int64;
  member_id: Int64;
  revision: Int64;
  raft_term: Int64;
}

export interface WireKeyValue {
  key: Buffer;
  create_revision: Int64;
  mod_revision: Int64;
  version: Int64;
  value: Buffer;
  lease: Int64;
}

export interface WireRangeResponse {
  header: WireResponseHeader;
  kvs: WireKeyValue[];
  more: boolean;
  count: Int64;
}

export interface WirePutResponse {
  header: WireResponseHeader;
  prev_kv: WireKeyValue | null;
}

export interface WireDeleteRangeResponse {
  header: WireResponseHeader;
  deleted: Int64;
  prev_kvs: WireKeyValue[];
}

export type WireResponseOp =
  | { response_range: WireRangeResponse; response: 'response_range' }
  | { response_put: WirePutResponse; response: 'response_put' }
  | { response_delete_range: WireDeleteRangeResponse; response: 'response_delete_range' }
  | { response_txn: WireTxnResponse; response: 'response_txn' };

export interface WireTxnResponse {
  header: WireResponseHeader;
  succeeded: boolean;
  responses: WireResponseOp[];
}

export interface WireEvent {
  type: number;
  kv: WireKeyValue;
  prev_kv: WireKeyValue | null;
}

export interface WireWatchResponse {
  header: WireResponseHeader;
  watch_id: Int64;
  created: boolean;
  canceled: boolean;
  compact_revision: Int64;
  cancel_reason: string;
  fragment: boolean;
  events: WireEvent[];
}

export interface WireLeaseKeepAliveResponse {
  header: WireResponseHeader;
  ID: Int64;
  TTL: Int64;
}

/** A response of any method, for the transports that only pass it on. */
export type WireMessage = object;
