// MetaClient: etcd's v3 API over gRPC as a MetaBackend, so the recipes (and anything else written
// against MetaBackend) run against a remote raftkit-meta cluster, or a real etcd, unchanged.
// - Endpoints: calls go to one endpoint and move to the next when it fails. Reads and lease
//   renewals are sent again on any unavailability (a refused connection, a dropped one, etcd's
//   "no leader", "request timed out", a node that does not answer within attemptTimeoutMs).
//   Writes are sent again only when nothing was applied: the request never left (no connection:
//   the endpoint is checked before sending) or the server answered "no leader" (raftkit-meta
//   proposes nothing then). A write whose fate is unknown fails with etcd's "request timed out".
// - Deadlines: each call's CallOptions.deadline, or callTimeoutMs from its start, covers every
//   attempt; CallOptions.signal cancels it.
// - One Watch stream carries every watch (watch-mux.ts) and one LeaseKeepAlive stream every
//   keep-alive (keepalive-mux.ts).
// - Failures are MetaErrors, their code read back from etcd's message and status (errors.ts).
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
} from '../api/etcd-types.js';
import type { CallOptions, MetaBackend, WatchHandle, WatchSink } from '../api/meta-backend.js';
import * as dec from '../wire/decode-responses.js';
import * as enc from '../wire/encode-requests.js';
import type { ServiceName } from '../wire/proto.js';
import { Endpoints, parseEndpoint } from './endpoints.js';
import type { CallKind } from './errors.js';
import { KeepAliveMux } from './keepalive-mux.js';
import { methodOf, unaryCall, type CallSettings } from './unary.js';
import { WatchMux } from './watch-mux.js';

export interface MetaClientOptions {
  /** gRPC endpoints, "host:port" or "http://host:port" (a list, or comma-separated). */
  endpoints: string | readonly string[];
  /** Deadline of a call that gives none (default 5000 ms). */
  callTimeoutMs?: number;
  /** Longest wait for one attempt of a read or a keep-alive before trying the next endpoint (default 2000 ms). */
  attemptTimeoutMs?: number;
  /** Longest wait for an endpoint to connect before trying the next one (default 1000 ms). */
  connectTimeoutMs?: number;
  /** HTTP/2 ping interval on open connections (default 5000 ms, etcdctl's is 2000). */
  keepAliveTimeMs?: number;
  /** A connection whose ping is not answered within this is dropped, its streams move on (default 5000 ms). */
  keepAliveTimeoutMs?: number;
}

export class MetaClient implements MetaBackend {
  readonly endpoints: readonly string[];
  private readonly channels: Endpoints;
  private readonly settings: CallSettings;
  private readonly watches: WatchMux;
  private readonly keepAlives: KeepAliveMux;
  private closed = false;

  constructor(o: MetaClientOptions) {
    const list = typeof o.endpoints === 'string' ? o.endpoints.split(',') : o.endpoints;
    this.endpoints = list.map(parseEndpoint);
    this.settings = {
      callTimeoutMs: positive(o.callTimeoutMs, 5000, 'callTimeoutMs'),
      attemptTimeoutMs: positive(o.attemptTimeoutMs, 2000, 'attemptTimeoutMs'),
      connectTimeoutMs: positive(o.connectTimeoutMs, 1000, 'connectTimeoutMs'),
    };
    this.channels = new Endpoints(this.endpoints, {
      keepAliveTimeMs: positive(o.keepAliveTimeMs, 5000, 'keepAliveTimeMs'),
      keepAliveTimeoutMs: positive(o.keepAliveTimeoutMs, 5000, 'keepAliveTimeoutMs'),
    });
    this.watches = new WatchMux(this.channels, this.settings);
    this.keepAlives = new KeepAliveMux(this.channels, this.settings);
  }

  /** The endpoint calls go to now. */
  get currentEndpoint(): string {
    return this.endpoints[this.channels.current]!;
  }

  /** Watches open on this client (not cancelled or ended). */
  get watchCount(): number {
    return this.watches.watchCount;
  }

  /** Ends the watches (each gets a canceled response), fails the calls in flight, closes the connections. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watches.close();
    this.keepAlives.close();
    this.channels.close();
  }

  private async call<T>(service: ServiceName, method: string, request: object, kind: CallKind, o: CallOptions | undefined, decode: (raw: unknown) => T): Promise<T> {
    const ctx = { endpoints: this.channels, settings: this.settings, isClosed: () => this.closed };
    return decode(await unaryCall(ctx, methodOf(service, method), request, kind, o));
  }

  range(r: RangeRequest, o?: CallOptions): Promise<RangeResponse> {
    return this.call('KV', 'Range', enc.encodeRangeRequest(r), 'read', o, dec.decodeRangeResponse);
  }

  put(r: PutRequest, o?: CallOptions): Promise<PutResponse> {
    return this.call('KV', 'Put', enc.encodePutRequest(r), 'write', o, dec.decodePutResponse);
  }

  deleteRange(r: DeleteRangeRequest, o?: CallOptions): Promise<DeleteRangeResponse> {
    return this.call('KV', 'DeleteRange', enc.encodeDeleteRangeRequest(r), 'write', o, dec.decodeDeleteRangeResponse);
  }

  txn(r: TxnRequest, o?: CallOptions): Promise<TxnResponse> {
    return this.call('KV', 'Txn', enc.encodeTxnRequest(r), 'write', o, dec.decodeTxnResponse);
  }

  compact(r: CompactionRequest, o?: CallOptions): Promise<CompactionResponse> {
    return this.call('KV', 'Compact', enc.encodeCompactionRequest(r), 'write', o, dec.decodeCompactionResponse);
  }

  leaseGrant(r: LeaseGrantRequest, o?: CallOptions): Promise<LeaseGrantResponse> {
    return this.call('Lease', 'LeaseGrant', enc.encodeLeaseGrantRequest(r), 'write', o, dec.decodeLeaseGrantResponse);
  }

  leaseRevoke(r: LeaseRevokeRequest, o?: CallOptions): Promise<LeaseRevokeResponse> {
    return this.call('Lease', 'LeaseRevoke', enc.encodeLeaseIdRequest(r), 'write', o, dec.decodeLeaseRevokeResponse);
  }

  leaseKeepAlive(id: bigint, o?: CallOptions): Promise<LeaseKeepAliveResponse> {
    return this.keepAlives.renew(id, o);
  }

  leaseTimeToLive(r: LeaseTimeToLiveRequest, o?: CallOptions): Promise<LeaseTimeToLiveResponse> {
    return this.call('Lease', 'LeaseTimeToLive', enc.encodeLeaseTimeToLiveRequest(r), 'read', o, dec.decodeLeaseTimeToLiveResponse);
  }

  leaseLeases(o?: CallOptions): Promise<LeaseLeasesResponse> {
    return this.call('Lease', 'LeaseLeases', {}, 'read', o, dec.decodeLeaseLeasesResponse);
  }

  memberList(o?: CallOptions): Promise<MemberListResponse> {
    return this.call('Cluster', 'MemberList', {}, 'read', o, dec.decodeMemberListResponse);
  }

  status(o?: CallOptions): Promise<StatusResponse> {
    return this.call('Maintenance', 'Status', {}, 'read', o, dec.decodeStatusResponse);
  }

  alarm(r: AlarmRequest, o?: CallOptions): Promise<AlarmResponse> {
    return this.call('Maintenance', 'Alarm', enc.encodeAlarmRequest(r), r.action === 'get' ? 'read' : 'write', o, dec.decodeAlarmResponse);
  }

  /**
   * A watch on the client's stream. `watchId` is the server's id once it has answered the create
   * (-1 before; it changes when the watch is resumed on another endpoint); `r.watchId` is not sent
   * (the server picks, ids on a shared stream are its business).
   */
  watch(r: WatchCreateRequest, sink: WatchSink): WatchHandle & { resume(): void } {
    return this.watches.watch(r, sink);
  }
}

function positive(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`MetaClient: ${name} must be a positive number of ms, got ${String(v)}`);
  return v;
}
