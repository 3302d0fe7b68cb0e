// What the gRPC server and the JSON gateway call: one node of the metadata center. Every node
// answers every call: writes are proposed through the raft log (forwarded to the leader when
// this node does not lead), reads are linearizable (a ReadIndex round) unless `serializable`,
// watches are served from this node's own applied state. Failures are MetaErrors.
import type {
  AlarmRequest,
  AlarmResponse,
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  MemberListResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  StatusResponse,
  TxnRequest,
  TxnResponse,
  WatchCreateRequest,
  WatchResponse,
} from './etcd-types.js';

/** Per-call options: the client's deadline and cancellation. */
export interface CallOptions {
  /** Absolute deadline (ms since the epoch); the call fails with MetaError 'timeout' after it. */
  deadline?: number;
  /** Aborted when the client goes away; the call should stop waiting (a write may still apply). */
  signal?: AbortSignal;
}

/** A watch on one stream; responses go to the sink the watch was created with. */
export interface WatchHandle {
  readonly watchId: number;
  /** Stops the watch; the sink gets no more responses (the stream layer answers the cancel). */
  cancel(): void;
  /** Asks for a progress notification (an empty response with the current revision in its header). */
  requestProgress(): void;
}

export interface WatchSink {
  /**
   * One response: the `created` confirmation first, then events (in revision order, each
   * revision whole and once), progress notifications, or a final `canceled` one. Returns false
   * when the stream's buffer is full: the watch then waits for `resume()` before sending more
   * (slow watchers are held back, not dropped, as etcd's unsynced watchers are).
   */
  send(response: WatchResponse): boolean;
}

export interface MetaBackend {
  range(r: RangeRequest, o?: CallOptions): Promise<RangeResponse>;
  put(r: PutRequest, o?: CallOptions): Promise<PutResponse>;
  deleteRange(r: DeleteRangeRequest, o?: CallOptions): Promise<DeleteRangeResponse>;
  txn(r: TxnRequest, o?: CallOptions): Promise<TxnResponse>;
  compact(r: CompactionRequest, o?: CallOptions): Promise<CompactionResponse>;

  leaseGrant(r: LeaseGrantRequest, o?: CallOptions): Promise<LeaseGrantResponse>;
  leaseRevoke(r: LeaseRevokeRequest, o?: CallOptions): Promise<LeaseRevokeResponse>;
  /** One keep-alive of a stream; answered once the renewal is committed. */
  leaseKeepAlive(id: bigint, o?: CallOptions): Promise<LeaseKeepAliveResponse>;
  leaseTimeToLive(r: LeaseTimeToLiveRequest, o?: CallOptions): Promise<LeaseTimeToLiveResponse>;
  leaseLeases(o?: CallOptions): Promise<LeaseLeasesResponse>;

  memberList(o?: CallOptions): Promise<MemberListResponse>;
  status(o?: CallOptions): Promise<StatusResponse>;
  alarm(r: AlarmRequest, o?: CallOptions): Promise<AlarmResponse>;

  /**
   * Starts a watch. Throws MetaError for a bad request (the stream layer answers it as etcd
   * does: a created+canceled response with the reason). A start revision below the compaction
   * is not an error here: the sink gets created, then canceled with compactRevision set.
   * `resume` is called by the stream layer when a sink that returned false can take more.
   */
  watch(r: WatchCreateRequest, sink: WatchSink): WatchHandle & { resume(): void };
}
