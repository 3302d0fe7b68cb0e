// One round of the host's pipeline over every group that has work: a leader's appends go out,
// everything is persisted in one transaction (one fsync), entries already durable are applied
// while that write is in flight, then the mirror is updated, dependent messages are sent, and
// the rest is applied, answered and advanced. The ordering rules here are what makes the host
// safe (persist before send, nothing applied before it is durable): keep them in this file.
import { performance } from 'node:perf_hooks';
import { EntryType, MessageType, Role, type Entry, type HardState, type NodeId, type Ready } from '../core/types.js';
import type { GroupWrite, LogStore } from '../storage/log-store.js';
import type { Envelope, PeerTransport } from '../transport/transport.js';
import type { AddressBook } from './address-book.js';
import { HostError } from './errors.js';
import type { Logger } from './logger.js';
import { learnMemberAddresses } from './member-addresses.js';
import type { HostMetrics } from './metrics.js';
import type { RaftGroup } from './raft-group.js';
import type { SnapshotFiles } from './snapshot-files.js';
import type { Snapshotter } from './snapshotter.js';
import { restoreReceived } from './snapshot-io.js';
import { stageTracing, traceStage } from '../common/stage-trace.js';
import { lastWrittenIndex, messageSpan } from './stage-spans.js';
import { CommitHold } from './commit-hold.js';

const EMPTY = new Uint8Array(0);
/** The most committed entries a write-less round applies before it sends its messages. */
const APPLY_BEFORE_SEND_MAX = 64;

export interface RoundWork {
  g: RaftGroup;
  rd: Ready;
}

export interface RoundPipelineOptions {
  self: NodeId;
  logStore: LogStore;
  snapshots: SnapshotFiles;
  transport: PeerTransport;
  addresses: AddressBook;
  metrics: HostMetrics;
  log: Logger;
  snapshotter: Snapshotter;
  /** A write that nothing waited for failed: durability is unknown, the node must stop. */
  fatal(e: Error): void;
  /** The group was advanced and may have more work. */
  requeue(g: RaftGroup): void;
  /** How long a leader's empty Append (a commit index alone) may wait for one with entries; 0 sends at once. */
  commitHoldMs: number;
  /** Whether the group has proposals in flight: only then may its empty Appends be held. */
  mayHoldCommit(group: string): boolean;
}

export class RoundPipeline {
  private readonly hold: CommitHold;
  /** Write-less rounds' messages waiting for the next turn (see run, sendAfterApply). */
  private deferred: Envelope[] = [];

  constructor(private readonly o: RoundPipelineOptions) {
    this.hold = new CommitHold(o.commitHoldMs, (envs) => this.sendNow(envs));
  }

  /**
   * Sends a round's messages, except the empty Appends of groups with proposals still waiting:
   * those wait a little for a later Append (commit-hold.ts). A group with none waiting sends at
   * once, so an idle follower learns the commit index (and serves local reads of it) as soon as
   * the client has its answer.
   */
  private send(envs: Envelope[]): void {
    const now = this.hold.filter(envs, this.o.mayHoldCommit);
    if (now.length > 0) this.sendNow(now);
  }

  private sendNow(envs: Envelope[]): void {
    if (stageTracing) for (const { message } of envs) traceStage(`sent-${MessageType[message.type]}`, messageSpan(message));
    this.o.transport.send(envs);
    this.o.metrics.messagesSent.inc(envs.length);
  }

  /** Sends a write-less round's messages on the next turn of the event loop, after its answers. */
  private defer(envs: Envelope[]): void {
    if (this.deferred.length === 0) setImmediate(this.sendDeferred);
    this.deferred.push(...envs);
  }

  private readonly sendDeferred = (): void => {
    const envs = this.deferred;
    this.deferred = [];
    if (envs.length > 0) this.send(envs);
  };

  /** Sends what is deferred or held now (the node is stopping: followers learn the last commit index). */
  flushHeld(): void {
    this.sendDeferred();
    this.hold.flush();
  }

  /** The group left this node: what was held for it is dropped. */
  forgetGroup(group: string): void {
    this.hold.forget(group);
  }

  async run(work: RoundWork[], writes: GroupWrite[]): Promise<void> {
    const { o } = this;
    const t0 = performance.now();
    traceStage('round');

    // 0. A leader's Appends and heartbeats go out before its own write (Raft thesis 10.2.1): the
    // core counts the leader's copy, but nothing it commits is applied or told to followers
    // before this round's write is durable. Not when the term or vote changes in this round.
    const early: Envelope[] = [];
    const sentEarly = new Set<RaftGroup>();
    for (const { g, rd } of work) {
      if (g.role !== Role.Leader || rd.snapshot) continue;
      if (rd.hardState && !onlyCommitMoved(g.storage.currentHardState(), rd.hardState)) continue;
      sentEarly.add(g);
      for (const m of rd.messages) {
        if (m.type === MessageType.Append || m.type === MessageType.Heartbeat) early.push({ group: g.name, message: m });
      }
    }

    // 1. Persist: received snapshots' files first, then one transaction for every group.
    let entryCount = 0;
    for (const { g, rd } of work) {
      // A snapshot the transport streamed to disk is in the snapshot files already.
      if (rd.snapshot && !rd.snapshot.stored) await o.snapshots.save(g.name, rd.snapshot.metadata, rd.snapshot.data);
      let hs = rd.hardState;
      if (hs && !rd.snapshot && rd.entries.length === 0 && onlyCommitMoved(g.storage.currentHardState(), hs)) {
        // A commit index alone need not be durable at once (a restarted node learns it again),
        // and a transaction of its own would hold up the next write that matters behind its fsync.
        g.unsavedHardState = hs;
        hs = undefined;
      } else if (!hs && rd.entries.length > 0) {
        hs = g.unsavedHardState;
      }
      if (hs) g.unsavedHardState = undefined;
      if (rd.snapshot || rd.entries.length > 0 || hs) {
        const w: GroupWrite = { group: g.name, entries: rd.entries };
        if (rd.snapshot) w.snapshot = rd.snapshot.metadata;
        if (hs) w.hardState = hs;
        writes.push(w);
        entryCount += rd.entries.length;
      }
    }
    // Committed entries already in the durable log do not depend on this round's write: they
    // are applied (and their callers answered) while it is in flight, so a proposal waits for
    // one local fsync, not for the next round's as well.
    const appliedEarly = work.map(() => 0);
    const sendEarly = () => {
      if (early.length === 0) return;
      this.send(early);
    };
    if (writes.length > 0) {
      const tw = performance.now();
      const written = o.logStore.write(writes);
      if (stageTracing) traceStage('handed', lastWrittenIndex(writes));
      // The storage worker starts on the write first: the socket writes take a while here.
      sendEarly();
      // Only entries, votes, terms and snapshots must be durable before anything depends on
      // them; a commit index alone can be re-learned after a crash, so a round that changes
      // nothing else goes on while its write completes (writes stay in order).
      const mustSync = pendingSync(writes) || work.some(({ rd }) => rd.mustSync);
      if (mustSync) {
        // A failed write is handled by the await below; this only keeps it from being unhandled
        // while the early applies run.
        written.catch(() => undefined);
        for (let i = 0; i < work.length; i++) {
          const { g, rd } = work[i]!;
          const n = rd.snapshot ? 0 : durablePrefix(g, rd.committedEntries);
          if (n > 0) await this.apply(g, rd.committedEntries.slice(0, n));
          appliedEarly[i] = n;
        }
        await written;
        if (stageTracing) traceStage('written', lastWrittenIndex(writes));
        o.metrics.fsyncSeconds.observe((performance.now() - tw) / 1000);
        this.pruneSnapshots(writes);
      } else {
        written.catch((e: Error) => {
          o.log.error({ err: e.message }, 'log write failed; the node stops');
          o.fatal(e);
        });
      }
      o.metrics.roundEntries.observe(entryCount);
    }
    // A round that writes nothing but commits entries (an acknowledgement moved the commit index)
    // has nothing to send that a client waits for, while those entries have callers waiting: they
    // are applied, and the answers written, before the messages go, since socket writes to the
    // peers take 0.1-0.3 ms here. The answers are written from promise continuations, so the
    // messages wait for the next turn of the event loop (setImmediate), not just the end of this
    // function. Not when the apply is long: followers learn the commit index (and serve reads by
    // it) from these. A round that commits nothing (heartbeats, read confirmations) sends at once.
    const committedCount = work.reduce((n, { rd }) => n + rd.committedEntries.length, 0);
    const sendAfterApply = writes.length === 0 && committedCount > 0 && committedCount <= APPLY_BEFORE_SEND_MAX;

    // 2. Mirror what is now durable, 3. send what depended on it.
    const out: Envelope[] = [];
    for (const { g, rd } of work) {
      if (rd.snapshot) g.storage.applySnapshot({ metadata: rd.snapshot.metadata, data: EMPTY });
      g.storage.append(rd.entries);
      if (rd.hardState) g.storage.setHardState(rd.hardState);
      const skipEarly = sentEarly.has(g);
      for (const m of rd.messages) {
        if (skipEarly && (m.type === MessageType.Append || m.type === MessageType.Heartbeat)) continue;
        if (m.type === MessageType.Snapshot) void o.snapshotter.send(g, m);
        else out.push({ group: g.name, message: m });
      }
    }
    const sendRest = () => {
      if (out.length === 0) return;
      this.send(out);
    };
    if (!sendAfterApply) {
      // With a write, the early messages went out right after it was handed to storage.
      if (writes.length === 0) sendEarly();
      sendRest();
    }

    // 4. Apply, answer, advance.
    for (let i = 0; i < work.length; i++) {
      const { g, rd } = work[i]!;
      if (rd.softState) this.onSoftState(g, rd.softState.role, rd.softState.lead);
      if (rd.snapshot) {
        await restoreReceived(g.sm, o.snapshots, g.name, rd.snapshot);
        g.restoredTo(rd.snapshot.metadata.index, rd.snapshot.metadata.history);
        g.snapshotIndex = rd.snapshot.metadata.index;
      }
      const n = appliedEarly[i]!;
      await this.apply(g, n === 0 ? rd.committedEntries : rd.committedEntries.slice(n));
      g.onReadStates(rd.readStates);
      g.releaseReads();
      g.node.advance(rd);
      g.advanced();
      o.requeue(g);
    }
    if (sendAfterApply) {
      const envs = [...early, ...out];
      if (envs.length > 0) this.defer(envs);
    }
    for (const { g } of work) o.snapshotter.maybeSnapshot(g);
    o.metrics.roundSeconds.observe((performance.now() - t0) / 1000);
  }

  /**
   * Once a new log base (a local snapshot's compaction, or a snapshot from the leader) is
   * durable, the snapshots before it are never read again: a restart starts from the base. For
   * an on-disk machine each is a full copy of its state. Not awaited; a stream still reading an
   * older file keeps its open handle.
   */
  private pruneSnapshots(writes: GroupWrite[]): void {
    for (const w of writes) {
      const base = w.compact?.snapshot.index ?? w.snapshot?.index;
      if (base === undefined || base === 0) continue;
      this.o.snapshots.prune(w.group, base).then(
        (removed) => removed > 0 && this.o.log.debug({ group: w.group, before: base, removed }, 'old snapshots deleted'),
        (e: Error) => this.o.log.warn({ group: w.group, err: e.message }, 'old snapshots could not be deleted'),
      );
    }
  }

  /** Applies committed entries to the group's state machine and learns new members' addresses. */
  async apply(g: RaftGroup, entries: Entry[]): Promise<void> {
    if (entries.length === 0) return;
    if (stageTracing) traceStage('apply', `${entries[0]!.index}-${entries[entries.length - 1]!.index}`);
    const applied = await g.applyCommitted(entries);
    if (applied > 0) this.o.metrics.applied.inc({ group: g.name }, applied);
    learnMemberAddresses(g.name, entries, { self: this.o.self, transport: this.o.transport, addresses: this.o.addresses, log: this.o.log });
  }

  private onSoftState(g: RaftGroup, role: Role, lead: NodeId): void {
    const { metrics, log, self } = this.o;
    if (role !== Role.Leader) {
      // Waiting callers learn now instead of at their deadline; the outcome is unknown, as for
      // a timeout: retrying with the same client id and sequence is exactly-once.
      g.failPending(
        new HostError(
          'timeout',
          `node ${self} lost the leadership of group "${g.name}" before the request completed; it may still commit: retry (with the same client id and sequence)`,
        ),
      );
    }
    if (role === Role.Candidate) metrics.elections.inc({ group: g.name });
    if (lead !== 0) metrics.leaderChanges.inc({ group: g.name });
    log.info({ group: g.name, role, leader: lead, term: g.node.term }, 'role changed');
  }
}

/**
 * How many of the committed entries (a prefix, up to the first membership change) are already
 * in the durable log mirror. A follower's mirror may still hold a conflicting entry at an index
 * that this round's write replaces, so the last entry of the prefix must match by term too (log
 * matching then covers the rest).
 */
export function durablePrefix(g: RaftGroup, committed: Entry[]): number {
  if (committed.length === 0) return 0;
  const last = g.storage.lastIndex();
  // Membership changes take effect in the core at advance(), after the write: answering one
  // earlier would let its caller's next change be refused as "not applied yet".
  const conf = committed.findIndex((e) => e.type !== EntryType.Normal);
  let n = conf < 0 ? committed.length : conf;
  while (n > 0 && committed[n - 1]!.index > last) n--;
  while (n > 0) {
    const e = committed[n - 1]!;
    let term: number;
    try {
      term = g.storage.term(e.index);
    } catch {
      return 0;
    }
    if (term === e.term) return n;
    n--;
  }
  return 0;
}

/** Term and vote as last persisted: at most the commit index differs. */
function onlyCommitMoved(durable: Readonly<HardState>, next: HardState): boolean {
  return next.term === durable.term && next.vote === durable.vote;
}

/** Writes other than a bare commit-index change. */
function pendingSync(writes: GroupWrite[]): boolean {
  return writes.some((w) => w.entries.length > 0 || w.snapshot !== undefined || w.compact !== undefined || w.remove === true || w.type !== undefined);
}
