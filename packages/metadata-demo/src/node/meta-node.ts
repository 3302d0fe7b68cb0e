// One node of the metadata center: the MetaBackend the gRPC server and the JSON gateway call,
// over this node's NodeRaftService and its instance of the machine. Writes are proposed through
// the log: by this node when it leads, else forwarded to the leader (leader-forwarding.ts).
// Linearizable reads first do a ReadIndex round (from any member: the framework's linearizable
// query of a cheap `revision`), then read this node's store directly, without copying the
// answer through JSON; serializable reads skip the round. Watches are served from this node's
// applied state (watch/). The lease expiry driver runs here and acts while this node leads.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GroupInfo, Logger } from '@raftkit/framework';
import type { ClusterSecret, NodeRaftService } from '@raftkit/framework/server';
import type { PeerClient } from '@raftkit/framework/api';
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
  Member,
  MemberListResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  StatusResponse,
  TxnRequest,
  TxnResponse,
  WatchCreateRequest,
} from '../api/etcd-types.js';
import type { CallOptions, MetaBackend, WatchHandle, WatchSink } from '../api/meta-backend.js';
import { MetaError } from '../api/meta-error.js';
import { decodeDeleteRangeResult, decodePutResult, decodeTxnResult, encodeDeleteRange, encodePut, encodeTxn } from '../codec/wire-codec.js';
import {
  isWireError,
  type WireAlarmResult,
  type WireCompactResult,
  type WireDeleteRangeResult,
  type WireLeaseGrantResult,
  type WireLeaseKeepAliveResult,
  type WirePutResult,
  type WireTxnResult,
} from '../codec/wire-types.js';
import { LeaseExpiryDriver } from '../leases/expiry-driver.js';
import { grantedTtl, remainingSeconds } from '../leases/lease-rules.js';
import type { MetaMachine } from '../machine/meta.machine.js';
import { isReadOnlyTxn, isSerializableTxn, readOnlyTxn } from '../store/kv-ops.js';
import { MAX_LEASE_TTL } from '../store/lease-ops.js';
import { DEFAULT_QUOTA_BYTES } from '../store/quota.js';
import { checkDeleteRange, checkPut, checkRange, checkTxn, DEFAULT_MAX_TXN_OPS } from '../store/request-rules.js';
import type { MemberRecord } from '../store/store-types.js';
import { DEFAULT_PROGRESS_NOTIFY_MS, WatchHub } from '../watch/watch-hub.js';
import { canceledOrTimeout, metaErrorOf } from './errors.js';
import { forwardRoute, forwardWrite, type ForwardOutcome } from './leader-forwarding.js';
import { deleteRangeResponse, putResponse, rangeResponse, txnResponse } from './responses.js';

/** The etcd version this server claims (etcdctl prints it; clients gate nothing we lack on it). */
export const ETCD_VERSION = '3.4.0';

export interface MetaNodeOptions {
  service: NodeRaftService;
  /** The group holding the store (default "meta"). */
  group?: string;
  /** This node's machine instance of the group, once it runs (a joining node gets it later). */
  machine: () => MetaMachine | undefined;
  /** How this node calls the leader's API (scheme, CA, the cluster token): forwarded writes go through it. */
  peers: PeerClient;
  logger: Logger;
  /** --quota-bytes: carried in each write this node proposes. */
  quotaBytes?: number;
  /** --max-txn-ops. */
  maxTxnOps?: number;
  /** etcd's progress-notify interval for watches. */
  progressNotifyMs?: number;
  /** The election timeout (minimum lease TTL, the expiry driver's grace); default the node's. */
  electionMs?: number;
  /** How long a request waits without a deadline of its own (default 5 s). */
  requestTimeoutMs?: number;
  /** The expiry driver's period (default 100 ms). */
  leaseCheckMs?: number;
  /** This member's name (MemberList); default "node-<id>". */
  name?: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Writes whose second application changes nothing the first did not: a keep-alive renews to the entry's time again. */
const IDEMPOTENT_WRITES = new Set(['leaseKeepAlive']);
/** How often a forwarded idempotent write checks whether the lead moved. */
const LEADER_CHECK_MS = 50;

/** `p`, or a MetaError when the deadline passes or the signal aborts first. */
function within<T>(p: Promise<T>, deadline: number, signal: AbortSignal | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fail = () => reject(canceledOrTimeout(signal));
    const timer = setTimeout(fail, Math.max(0, deadline - Date.now()));
    const onAbort = () => fail();
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    p.then(
      (v) => {
        done();
        resolve(v);
      },
      (e: unknown) => {
        done();
        reject(metaErrorOf(e));
      },
    );
  });
}

export class MetaNode implements MetaBackend {
  readonly group: string;
  readonly nodeId: number;
  readonly name: string;
  readonly electionMs: number;
  private readonly quotaBytes: number;
  private readonly maxTxnOps: number;
  private readonly timeoutMs: number;
  private readonly driver: LeaseExpiryDriver;
  private hubOf: { machine: MetaMachine; hub: WatchHub } | undefined;
  private groupCache: { at: number; info: GroupInfo | undefined } | undefined;
  private publishTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: MetaNodeOptions) {
    this.group = o.group ?? 'meta';
    this.nodeId = o.service.nodeId;
    this.name = o.name ?? `node-${this.nodeId}`;
    this.electionMs = o.electionMs ?? o.service.status().timing?.electionMs ?? 1000;
    this.quotaBytes = o.quotaBytes ?? DEFAULT_QUOTA_BYTES;
    this.maxTxnOps = o.maxTxnOps ?? DEFAULT_MAX_TXN_OPS;
    this.timeoutMs = o.requestTimeoutMs ?? 5_000;
    this.driver = new LeaseExpiryDriver({
      isLeader: () => this.isLeader(),
      candidates: (now, limit) => {
        const m = o.machine();
        return m?.store.isOpen ? m.store.expiredLeases(now, limit) : [];
      },
      confirmLeadership: async () => {
        await o.service.query(this.group, 'revision', {}, 'linearizable');
      },
      // The leader's own proposal, never forwarded: a node that lost the lead proposes nothing.
      expire: async (ids) => {
        const out = await o.service.command(this.group, 'leaseExpire', { ids: ids.map(String) });
        if (isWireError(out.result)) throw new MetaError(out.result.error, out.result.message);
      },
      graceMs: this.electionMs,
      periodMs: o.leaseCheckMs ?? 100,
      logger: o.logger,
    });
  }

  /** Starts the lease expiry driver. */
  start(): void {
    this.driver.start();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.driver.stop();
    this.hubOf?.hub.close();
    this.hubOf = undefined;
    if (this.publishTimer) clearTimeout(this.publishTimer);
  }

  /** The leader's side of forwarded writes, for RaftServerOptions.routes; callers prove `secret`. */
  forwardRoute(secret: ClusterSecret): (req: IncomingMessage, res: ServerResponse) => boolean {
    return forwardRoute({ service: this.o.service, group: this.group, secret, logger: this.o.logger });
  }

  /**
   * Publishes this member's client URLs into the replicated state (etcd's publish): retried
   * until it commits, skipped when the state already holds the same.
   */
  publish(urls: Pick<MemberRecord, 'peerUrls' | 'clientUrls' | 'httpUrls'>): void {
    const record: MemberRecord = { id: this.nodeId, name: this.name, ...urls };
    const attempt = async () => {
      this.publishTimer = undefined;
      if (this.closed) return;
      const m = this.o.machine();
      const have = m?.store.isOpen ? m.store.members().find((x) => x.id === record.id) : undefined;
      if (have && JSON.stringify(have) === JSON.stringify(record)) return;
      try {
        await this.write('publishMember', record, {});
        this.o.logger.info({ member: record }, 'meta: published this member');
        return;
      } catch (e) {
        this.o.logger.debug({ err: (e as Error).message }, 'meta: publishing this member failed; retrying');
      }
      if (!this.closed) {
        this.publishTimer = setTimeout(() => void attempt(), 500);
        this.publishTimer.unref();
      }
    };
    void attempt();
  }

  // ---------------------------------------------------------------- plumbing

  private machine(): MetaMachine {
    const m = this.o.machine();
    if (!m || !m.store.isOpen) throw new MetaError('no_leader', 'etcdserver: no leader (this node does not hold the group yet)');
    return m;
  }

  private isLeader(): boolean {
    return this.o.service.leaderOf(this.group)?.id === this.nodeId;
  }

  /** This node's view of the group (cached for a few ms: every answer's header reads the term). */
  private groupInfo(): GroupInfo | undefined {
    const now = Date.now();
    if (!this.groupCache || now - this.groupCache.at > 20) {
      this.groupCache = { at: now, info: this.o.service.status().groups.find((g) => g.group === this.group) };
    }
    return this.groupCache.info;
  }

  header(revision: number): ResponseHeader {
    const m = this.o.machine();
    return { clusterId: m?.store.isOpen ? m.store.counters.clusterId : 0n, memberId: BigInt(this.nodeId), revision, raftTerm: this.groupInfo()?.term ?? 0 };
  }

  private readonly headerOf = (revision: number) => this.header(revision);

  private deadline(o: CallOptions | undefined): number {
    return o?.deadline ?? Date.now() + this.timeoutMs;
  }

  /** A ReadIndex round: afterwards this node's store holds every write acknowledged before the call. */
  private async barrier(o: CallOptions | undefined): Promise<void> {
    if (o?.signal?.aborted) throw new MetaError('canceled');
    await within(this.o.service.query(this.group, 'revision', {}, 'linearizable'), this.deadline(o), o?.signal);
  }

  /**
   * Proposes a command and answers its result (a refused one throws its MetaError): on this
   * node when it leads, else at the leader; while there is no leader it waits (at most a few
   * election timeouts, within the deadline) and then answers no_leader.
   */
  async write<T>(command: string, args: object, o: CallOptions | undefined): Promise<T> {
    const deadline = this.deadline(o);
    const noLeaderBy = Math.min(deadline, Date.now() + 3 * this.electionMs);
    for (;;) {
      if (o?.signal?.aborted) throw new MetaError('canceled');
      if (Date.now() >= deadline) throw new MetaError('timeout');
      const leader = this.o.service.leaderOf(this.group);
      let result: unknown;
      let done = false;
      if (leader?.id === this.nodeId) {
        try {
          const out = await within(this.o.service.command(this.group, command, args, { timeoutMs: Math.max(1, deadline - Date.now()) }), deadline, o?.signal);
          result = out.result;
          done = true;
        } catch (e) {
          const err = metaErrorOf(e);
          // Refused before proposing (the lead moved a moment ago): try where it went.
          if (err.code !== 'no_leader') throw err;
        }
      } else if (leader?.url) {
        const out = IDEMPOTENT_WRITES.has(command)
          ? await this.forwardFollowingLeader(leader.id, { peers: this.o.peers, leaderUrl: leader.url, command, args, deadline, signal: o?.signal, from: this.nodeId })
          : await forwardWrite({ peers: this.o.peers, leaderUrl: leader.url, command, args, deadline, signal: o?.signal, from: this.nodeId });
        if (out.kind === 'result') {
          result = out.result;
          done = true;
          // As etcd answers a write only once the receiving member applied it: a read on this
          // node afterwards (even serializable) sees it, and the header's ids are this node's.
          await this.waitApplied(out.index, deadline);
        }
      } else if (Date.now() >= noLeaderBy) {
        throw new MetaError('no_leader');
      }
      if (done) {
        if (isWireError(result)) throw new MetaError(result.error, result.message);
        return result as T;
      }
      await sleep(Math.min(25, Math.max(1, deadline - Date.now())));
    }
  }

  /**
   * Forwards a write that may safely be applied twice: if the lead moves while it is in flight
   * (the leader it went to is paused, or cut off), it is sent again to the new leader instead of
   * waiting out the deadline on the old one. A keep-alive that waited there would let the lease
   * expire on the new leader's clock (found with a SIGSTOP of the leader).
   */
  private async forwardFollowingLeader(to: number, f: Parameters<typeof forwardWrite>[0]): Promise<ForwardOutcome> {
    const moved = new AbortController();
    const check = setInterval(() => {
      if (this.o.service.leaderOf(this.group)?.id !== to) moved.abort();
    }, LEADER_CHECK_MS);
    try {
      return await forwardWrite({ ...f, signal: f.signal ? AbortSignal.any([f.signal, moved.signal]) : moved.signal });
    } catch (e) {
      if (moved.signal.aborted && !f.signal?.aborted && Date.now() < f.deadline) return { kind: 'retry' };
      throw e;
    } finally {
      clearInterval(check);
    }
  }

  /** Resolves once this node's store applied `index` (or at the deadline: the write itself succeeded). */
  private waitApplied(index: number, deadline: number): Promise<void> {
    const m = this.o.machine();
    if (!m || !m.store.isOpen || m.store.counters.appliedIndex >= index) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        off();
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, deadline - Date.now()));
      const off = m.onApplied((applied) => {
        if (applied >= index) finish();
      });
    });
  }

  private hub(): WatchHub {
    const machine = this.machine();
    if (this.hubOf?.machine !== machine) {
      this.hubOf?.hub.close();
      const hub = new WatchHub({
        machine,
        header: this.headerOf,
        progressNotifyMs: this.o.progressNotifyMs ?? DEFAULT_PROGRESS_NOTIFY_MS,
        onError: (e) => this.o.logger.warn({ err: (e as Error).message }, 'meta: a watch failed'),
      });
      this.hubOf = { machine, hub };
    }
    return this.hubOf.hub;
  }

  // ---------------------------------------------------------------- KV

  async range(r: RangeRequest, o?: CallOptions): Promise<RangeResponse> {
    checkRange(r);
    if (!r.serializable) await this.barrier(o);
    const m = this.machine();
    return rangeResponse(this.headerOf, m.store.range(r, { maxBytes: m.maxRangeBytes }));
  }

  async put(r: PutRequest, o?: CallOptions): Promise<PutResponse> {
    checkPut(r);
    const res = await this.write<WirePutResult>('put', { ...encodePut(r), quotaBytes: this.quotaBytes }, o);
    return putResponse(this.headerOf, decodePutResult(res));
  }

  async deleteRange(r: DeleteRangeRequest, o?: CallOptions): Promise<DeleteRangeResponse> {
    checkDeleteRange(r);
    const res = await this.write<WireDeleteRangeResult>('deleteRange', encodeDeleteRange(r), o);
    return deleteRangeResponse(this.headerOf, decodeDeleteRangeResult(res));
  }

  async txn(r: TxnRequest, o?: CallOptions): Promise<TxnResponse> {
    checkTxn(r, this.maxTxnOps);
    if (isReadOnlyTxn(r)) {
      // As etcd: a txn that only reads is answered here after the read barrier (none if serializable).
      if (!isSerializableTxn(r)) await this.barrier(o);
      const m = this.machine();
      return txnResponse(this.headerOf, readOnlyTxn(m.store, r, m.maxRangeBytes));
    }
    const res = await this.write<WireTxnResult>('txn', { ...encodeTxn(r), quotaBytes: this.quotaBytes }, o);
    return txnResponse(this.headerOf, decodeTxnResult(res));
  }

  async compact(r: CompactionRequest, o?: CallOptions): Promise<CompactionResponse> {
    const res = await this.write<WireCompactResult>('compact', { revision: r.revision }, o);
    return { header: this.header(res.revision) };
  }

  // ---------------------------------------------------------------- leases

  async leaseGrant(r: LeaseGrantRequest, o?: CallOptions): Promise<LeaseGrantResponse> {
    if (r.ttl > MAX_LEASE_TTL) throw new MetaError('lease_ttl_too_large');
    const args = { ttl: grantedTtl(r.ttl, this.electionMs), quotaBytes: this.quotaBytes, ...(r.id !== 0n ? { id: r.id.toString() } : {}) };
    const res = await this.write<WireLeaseGrantResult>('leaseGrant', args, o);
    return { header: this.header(res.revision), id: BigInt(res.id), ttl: res.ttl, error: '' };
  }

  async leaseRevoke(r: LeaseRevokeRequest, o?: CallOptions): Promise<LeaseRevokeResponse> {
    const res = await this.write<WireCompactResult>('leaseRevoke', { id: r.id.toString() }, o);
    return { header: this.header(res.revision) };
  }

  /** A keep-alive is a log entry: answered once the renewal is committed and applied. */
  async leaseKeepAlive(id: bigint, o?: CallOptions): Promise<LeaseKeepAliveResponse> {
    const res = await this.write<WireLeaseKeepAliveResult>('leaseKeepAlive', { id: id.toString() }, o);
    return { header: this.header(res.revision), id, ttl: res.ttl };
  }

  async leaseTimeToLive(r: LeaseTimeToLiveRequest, o?: CallOptions): Promise<LeaseTimeToLiveResponse> {
    await this.barrier(o);
    const { store } = this.machine();
    const header = this.header(store.counters.revision);
    const l = store.lease(r.id);
    if (!l) return { header, id: r.id, ttl: -1, grantedTtl: 0, keys: [] };
    return { header, id: r.id, ttl: remainingSeconds(l.expiresAt, Date.now()), grantedTtl: l.ttl, keys: r.keys ? store.leaseKeys(r.id) : [] };
  }

  async leaseLeases(o?: CallOptions): Promise<LeaseLeasesResponse> {
    await this.barrier(o);
    const { store } = this.machine();
    return { header: this.header(store.counters.revision), leases: store.leaseIds().map((id) => ({ id })) };
  }

  // ---------------------------------------------------------------- cluster and maintenance

  async memberList(): Promise<MemberListResponse> {
    const { store } = this.machine();
    const published = new Map(store.members().map((m) => [m.id, m]));
    const members: Member[] = (this.groupInfo()?.members ?? []).map((gm) => {
      const p = published.get(gm.id);
      return {
        id: BigInt(gm.id),
        name: p?.name ?? '',
        peerUrls: gm.address ? [this.o.peers.baseUrl(gm.address)] : (p?.peerUrls ?? []),
        clientUrls: p?.clientUrls ?? [],
        isLearner: gm.role !== 'voter',
      };
    });
    return { header: this.header(store.counters.revision), members };
  }

  async status(): Promise<StatusResponse> {
    const { store } = this.machine();
    const g = this.groupInfo();
    const files = store.fileBytes();
    const errors: string[] = [];
    if (!g?.leader) errors.push(new MetaError('no_leader').message);
    for (const a of store.alarms()) errors.push(`memberID:${a.memberId} alarm:${a.alarm.toUpperCase()} `);
    return {
      header: this.header(store.counters.revision),
      version: ETCD_VERSION,
      dbSize: files.size,
      leader: BigInt(g?.leader ?? 0),
      raftIndex: g?.commit ?? 0,
      raftTerm: g?.term ?? 0,
      raftAppliedIndex: g?.applied ?? 0,
      errors,
      dbSizeInUse: files.inUse,
      isLearner: g?.role === 'learner',
    };
  }

  async alarm(r: AlarmRequest, o?: CallOptions): Promise<AlarmResponse> {
    if (r.action === 'get') {
      await this.barrier(o);
      const { store } = this.machine();
      const all = store.alarms().filter((a) => r.alarm === 'none' || a.alarm === r.alarm);
      return { header: this.header(store.counters.revision), alarms: all.map((a) => ({ memberId: a.memberId, alarm: a.alarm })) };
    }
    const res = await this.write<WireAlarmResult>('alarm', { action: r.action, memberId: r.memberId.toString(), alarm: r.alarm }, o);
    return { header: this.header(res.revision), alarms: res.alarms.map((a) => ({ memberId: BigInt(a.memberId), alarm: a.alarm })) };
  }

  // ---------------------------------------------------------------- watches

  watch(r: WatchCreateRequest, sink: WatchSink): WatchHandle & { resume(): void } {
    return this.hub().watch(r, sink);
  }
}
