// The metadata store's state machine: one SQLite store (store/) in the group's folder, kept on
// disk by the machine itself (storage: 'disk'). Every command applies in one SQLite transaction
// with its index; an etcd error is a deterministic result `{ error: code }` (the transaction
// rolled back, the index recorded). Everything a command does depends only on its args, the
// entry (index, term, timestamp) and the state. After each command, the revisions it wrote are
// handed to the listeners (this node's watches).
import { Command, Query, StateMachine, type CommandContext, type OnDiskStateMachine } from '@raftkit/framework';
import { MetaError } from '../api/meta-error.js';
import {
  b64,
  decodeDeleteRange,
  decodePut,
  decodeRange,
  decodeTxn,
  encodeDeleteRangeResult,
  encodePutResult,
  encodeRangeResult,
  encodeTxnResult,
  int64,
  unint64,
} from '../codec/wire-codec.js';
import type {
  WireAlarmResult,
  WireCompactResult,
  WireDeleteRangeResult,
  WireError,
  WireLeaseExpireResult,
  WireLeaseGrantResult,
  WireLeaseKeepAliveResult,
  WireLeaseTimeToLiveResult,
  WireMember,
  WirePutResult,
  WireRangeResult,
  WireTxnResult,
} from '../codec/wire-types.js';
import type { EntryWriter } from '../store/entry-writer.js';
import { idOfEntry } from '../store/ids.js';
import { applyDeleteRange, applyPut, applyTxn } from '../store/kv-ops.js';
import { expireLeases, grantLease, keepAliveLease, revokeLease } from '../store/lease-ops.js';
import { MvccStore, type PinnedState } from '../store/mvcc-store.js';
import { DEFAULT_QUOTA_BYTES, LEASE_COST, putCost, txnCost } from '../store/quota.js';
import { checkDeleteRange, checkPut, checkRange, checkTxn } from '../store/request-rules.js';
import type { RevisionChanges } from '../store/store-types.js';
import {
  AlarmArgs,
  CompactArgs,
  DeleteRangeArgs,
  LeaseExpireArgs,
  LeaseGrantArgs,
  LeaseIdArgs,
  LeaseTimeToLiveArgs,
  PublishMemberArgs,
  PutArgs,
  RangeArgs,
  TxnArgs,
} from './meta-args.js';

/** The default size cap of one range's answer (--max-range-bytes). */
export const DEFAULT_MAX_RANGE_BYTES = 32 * 1024 * 1024;

export interface MetaMachineOptions {
  /** The size cap of a range answered by this node (queries; a txn's ranges have a fixed cap). */
  maxRangeBytes?: number;
}

export type ChangesListener = (c: RevisionChanges) => void;

const CLUSTER_SALT = 0x636c7573746572n; // "cluster"

/** The answer of the cheap `revision` query (a leader's quorum check reads it). */
export interface RevisionInfo {
  revision: number;
  compactRevision: number;
  clusterId: string;
}

@StateMachine('meta', { storage: 'disk' })
export class MetaMachine implements OnDiskStateMachine {
  readonly store = new MvccStore();
  readonly maxRangeBytes: number;
  private readonly changeListeners = new Set<ChangesListener>();
  private readonly restoreListeners = new Set<() => void>();
  private readonly appliedListeners = new Set<(index: number) => void>();

  constructor(options: MetaMachineOptions = {}) {
    this.maxRangeBytes = options.maxRangeBytes ?? DEFAULT_MAX_RANGE_BYTES;
  }

  /** Called after every command with each revision it wrote, in order. */
  onChanges(listener: ChangesListener): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Called after a snapshot from another replica replaced the store. */
  onRestored(listener: () => void): () => void {
    this.restoreListeners.add(listener);
    return () => this.restoreListeners.delete(listener);
  }

  /** Called after every command entry this machine applied (and after a snapshot install), with the store's applied index. */
  onApplied(listener: (index: number) => void): () => void {
    this.appliedListeners.add(listener);
    return () => this.appliedListeners.delete(listener);
  }

  private notifyApplied(): void {
    for (const l of this.appliedListeners) {
      try {
        l(this.store.counters.appliedIndex);
      } catch {
        // the waiter's own failure
      }
    }
  }

  /**
   * Runs one command's body in its entry's transaction. A MetaError rolls the body back and
   * becomes the result `{ error }`; the entry's index is still recorded. Anything else is a bug:
   * it propagates (the framework answers command_failed; the index is not recorded, so the
   * entry is applied again after a restart, to the same outcome).
   */
  private run<T>(ctx: CommandContext, body: (e: EntryWriter) => T): T | WireError {
    let out: { result: T; changes: RevisionChanges[] };
    try {
      out = this.store.entry(ctx.index, (e) => {
        this.stampCluster(ctx);
        return body(e);
      });
    } catch (err) {
      if (!(err instanceof MetaError)) throw err;
      this.store.entry(ctx.index, () => this.stampCluster(ctx));
      this.notifyApplied();
      return errorOf(err);
    }
    for (const c of out.changes) {
      for (const l of this.changeListeners) {
        try {
          l(c);
        } catch {
          // A watcher's failure must not fail the entry; the watch layer owns its errors.
        }
      }
    }
    this.notifyApplied();
    return out.result;
  }

  /** The first entry the store applies names the cluster. */
  private stampCluster(ctx: CommandContext): void {
    if (this.store.counters.clusterId === 0n) this.store.counters.clusterId = idOfEntry(ctx, CLUSTER_SALT);
  }

  /**
   * etcd's quota: with the NOSPACE alarm up, writes that add data are refused; a write that
   * would take the store past the quota raises the alarm (in the same entry, so on every
   * replica) and is refused. Deletes, compactions and revokes always pass.
   */
  private quotaRefusal(e: EntryWriter, cost: number, quotaBytes: number | undefined): WireError | undefined {
    if (cost === 0) return undefined;
    if (this.store.hasAlarm('nospace')) return { error: 'no_space' };
    if (this.store.counters.sizeBytes + cost > (quotaBytes ?? DEFAULT_QUOTA_BYTES)) {
      e.alarmActivate(0n, 'nospace');
      return { error: 'no_space' };
    }
    return undefined;
  }

  // ---------------------------------------------------------------- commands

  @Command({ args: PutArgs })
  put(a: PutArgs, ctx: CommandContext): WirePutResult | WireError {
    const p = decodePut(a);
    return this.run(ctx, (e) => {
      checkPut(p);
      return this.quotaRefusal(e, putCost(p), a.quotaBytes) ?? encodePutResult(applyPut(this.store, e, p));
    });
  }

  @Command({ args: DeleteRangeArgs })
  deleteRange(a: DeleteRangeArgs, ctx: CommandContext): WireDeleteRangeResult | WireError {
    const d = decodeDeleteRange(a);
    return this.run(ctx, (e) => {
      checkDeleteRange(d);
      return encodeDeleteRangeResult(applyDeleteRange(e, d));
    });
  }

  @Command({ args: TxnArgs })
  txn(a: TxnArgs, ctx: CommandContext): WireTxnResult | WireError {
    const t = decodeTxn(a);
    return this.run(ctx, (e) => {
      // The op count is the receiving node's flag, checked there; the rest is the same everywhere.
      checkTxn(t, Infinity);
      return this.quotaRefusal(e, txnCost(t), a.quotaBytes) ?? encodeTxnResult(applyTxn(this.store, e, t));
    });
  }

  @Command({ args: CompactArgs })
  compact(a: CompactArgs, ctx: CommandContext): WireCompactResult | WireError {
    return this.run(ctx, (e) => {
      e.compact(a.revision);
      return { revision: this.store.counters.revision };
    });
  }

  @Command({ args: LeaseGrantArgs })
  leaseGrant(a: LeaseGrantArgs, ctx: CommandContext): WireLeaseGrantResult | WireError {
    return this.run(ctx, (e) => {
      const refused = this.quotaRefusal(e, LEASE_COST, a.quotaBytes);
      if (refused) return refused;
      const g = grantLease(this.store, e, { id: unint64(a.id), ttl: a.ttl }, ctx);
      return { revision: g.revision, id: int64(g.id), ttl: g.ttl };
    });
  }

  @Command({ args: LeaseIdArgs })
  leaseRevoke(a: LeaseIdArgs, ctx: CommandContext): WireCompactResult | WireError {
    return this.run(ctx, (e) => revokeLease(this.store, e, BigInt(a.id)));
  }

  /** A keep-alive is an entry: the lease's renewal is the entry's timestamp. */
  @Command({ args: LeaseIdArgs })
  leaseKeepAlive(a: LeaseIdArgs, ctx: CommandContext): WireLeaseKeepAliveResult | WireError {
    return this.run(ctx, (e) => {
      const k = keepAliveLease(this.store, e, BigInt(a.id), ctx.timestamp);
      return { revision: k.revision, id: int64(k.id), ttl: k.ttl };
    });
  }

  /** Proposed by the leader's expiry driver; revokes only the ids expired by this entry's timestamp. */
  @Command({ args: LeaseExpireArgs })
  leaseExpire(a: LeaseExpireArgs, ctx: CommandContext): WireLeaseExpireResult | WireError {
    return this.run(ctx, (e) => {
      const x = expireLeases(
        this.store,
        e,
        a.ids.map((id) => BigInt(id)),
        ctx.timestamp,
      );
      return { revision: x.revision, expired: x.expired.map(int64) };
    });
  }

  @Command({ args: AlarmArgs })
  alarm(a: AlarmArgs, ctx: CommandContext): WireAlarmResult | WireError {
    return this.run(ctx, (e) => {
      const memberId = unint64(a.memberId);
      const alarm = a.alarm ?? 'none';
      switch (a.action) {
        case 'get':
          return this.alarmList(alarm);
        case 'activate':
          if (alarm === 'none') return { revision: this.store.counters.revision, alarms: [] };
          e.alarmActivate(memberId, alarm);
          return { revision: this.store.counters.revision, alarms: [{ memberId: int64(memberId), alarm }] };
        case 'deactivate':
          if (alarm === 'none' || !e.alarmDeactivate(memberId, alarm)) return { revision: this.store.counters.revision, alarms: [] };
          return { revision: this.store.counters.revision, alarms: [{ memberId: int64(memberId), alarm }] };
      }
    });
  }

  /** A node's client URLs, published when it starts (etcd's publish). */
  @Command({ args: PublishMemberArgs })
  publishMember(a: PublishMemberArgs, ctx: CommandContext): WireCompactResult | WireError {
    return this.run(ctx, (e) => {
      e.memberUpsert({ id: a.id, name: a.name, peerUrls: a.peerUrls, clientUrls: a.clientUrls, httpUrls: a.httpUrls });
      return { revision: this.store.counters.revision };
    });
  }

  // ---------------------------------------------------------------- queries

  @Query({ args: RangeArgs })
  range(a: RangeArgs): WireRangeResult | WireError {
    try {
      const r = decodeRange(a);
      checkRange(r);
      return encodeRangeResult(this.store.range(r, { maxBytes: this.maxRangeBytes }));
    } catch (e) {
      if (e instanceof MetaError) return errorOf(e);
      throw e;
    }
  }

  @Query({ args: LeaseTimeToLiveArgs })
  leaseTimeToLive(a: LeaseTimeToLiveArgs): WireLeaseTimeToLiveResult {
    const id = BigInt(a.id);
    const l = this.store.lease(id);
    const revision = this.store.counters.revision;
    if (!l) return { revision, id: a.id, found: false, grantedTtl: 0, renewedAt: 0, expiresAt: 0, keys: [] };
    const keys = a.keys ? this.store.leaseKeys(id).map(b64) : [];
    return { revision, id: a.id, found: true, grantedTtl: l.ttl, renewedAt: l.renewedAt, expiresAt: l.expiresAt, keys };
  }

  @Query()
  leaseLeases(): { revision: number; ids: string[] } {
    return { revision: this.store.counters.revision, ids: this.store.leaseIds().map(int64) };
  }

  @Query()
  members(): WireMember[] {
    return this.store.members();
  }

  @Query()
  alarms(): WireAlarmResult {
    return this.alarmList('none');
  }

  /** The cheapest read there is: what a linearizable barrier asks for. */
  @Query()
  revision(): RevisionInfo {
    const c = this.store.counters;
    return { revision: c.revision, compactRevision: c.compactRevision, clusterId: int64(c.clusterId) };
  }

  private alarmList(alarm: 'none' | 'nospace' | 'corrupt'): WireAlarmResult {
    const all = this.store.alarms().filter((x) => alarm === 'none' || x.alarm === alarm);
    return { revision: this.store.counters.revision, alarms: all.map((x) => ({ memberId: int64(x.memberId), alarm: x.alarm })) };
  }

  // ---------------------------------------------------------------- on-disk state

  open(dir: string): number {
    return this.store.open(dir);
  }

  /** Lets the framework compact the log with snapshots that hold no copy of the database. */
  sync(): void {
    this.store.sync();
  }

  prepareSnapshot(): PinnedState {
    return this.store.pin();
  }

  saveSnapshot(pinned: unknown, file: string): Promise<void> {
    return this.store.savePinned(pinned as PinnedState, file);
  }

  releaseSnapshot(pinned: unknown): void {
    this.store.release(pinned as PinnedState);
  }

  async recoverFromSnapshot(file: string): Promise<void> {
    await this.store.recover(file);
    for (const l of this.restoreListeners) {
      try {
        l();
      } catch {
        // as for changes
      }
    }
    this.notifyApplied();
  }

  close(): void {
    this.store.close();
  }
}

/** etcd's message travels only where it is not the code's fixed text. */
export function errorOf(e: MetaError): WireError {
  const plain = new MetaError(e.code);
  return e.message === plain.message ? { error: e.code } : { error: e.code, message: e.message };
}
