import { NotLeaderError, RaftError } from '../core/errors.js';
import { type MemoryStorage } from '../core/memory-storage.js';
import { RawNode } from '../core/raw-node.js';
import type { RaftConfig } from '../core/config.js';
import { EntryType, MessageType, Role, type Entry, type HardState, type Message, type NodeId, type ReadState, type SnapshotHistory, type SnapshotMetadata } from '../core/types.js';
import { HistoryChecksum } from '../common/history-checksum.js';
import { HostError } from './errors.js';
import type { GroupStateMachine } from './state-machine.js';
import { traceStage } from '../common/stage-trace.js';

/** A full snapshot being made, or made, for followers (see Snapshotter). */
export interface FollowerSnapshot {
  /** Its index, once the state was captured (the applied index then); 0 before. */
  index: number;
  /** Its file is written. */
  done: boolean;
  /** Resolves with its metadata once its file is written; rejects if it could not be. */
  written: Promise<SnapshotMetadata>;
  /** Deletes it when no follower asked for it for a while. */
  timer: NodeJS.Timeout | undefined;
}

export interface ProposalResult {
  index: number;
  result: unknown;
}

interface PendingProposal {
  term: number;
  resolve(r: ProposalResult): void;
  reject(e: Error): void;
  deadline: number;
}

interface PendingRead {
  resolve(index: number): void;
  reject(e: Error): void;
  deadline: number;
  index: number;
  /** This node's term when the read was asked: a confirmation from an older leader is not for it. */
  term: number;
}

/** Messages that keep a quiesced group asleep: the leader's keep-alives carry no new work. */
const QUIET_TYPES = new Set([MessageType.Heartbeat, MessageType.HeartbeatResponse]);

/**
 * A quiesced group's leader node still shows it is alive: every this many election timeouts the
 * host sends one heartbeat to each peer from some quiesced group it leads (one per peer, not one
 * per group), and a quiesced follower whose leader's node was silent for that long plus two
 * election timeouts wakes up (its election timer runs again). While its node is alive, a leader
 * of a quiesced group is still its leader: leadership changes only through messages, and those
 * wake the group. So a dead leader of a quiet group is noticed within (QUIET_BEAT_ELECTIONS + 2)
 * election timeouts, and replaced within about two more.
 */
export const QUIET_BEAT_ELECTIONS = 3;

/**
 * The runtime of one group on this host: its core, the in-memory mirror of its durable log,
 * its state machine, and the callers waiting for proposals and reads.
 */
export class RaftGroup {
  readonly node: RawNode;
  /** What the core reads: a mirror of the durable log (snapshot data is kept on disk only). */
  readonly storage: MemoryStorage;
  appliedIndex: number;
  /** The last index handed to the state machine (ahead of appliedIndex while an apply runs). */
  handedIndex: number;
  /** Chained checksums of every entry handed to the state machine since the group's start or last restore (GET /v1/status). */
  readonly history: HistoryChecksum;
  /** Index of the latest local snapshot (compaction base). */
  snapshotIndex: number;
  private readonly proposals = new Map<number, PendingProposal>();
  /** ReadIndex requests waiting for their read state, by context. */
  private readonly readRequests = new Map<string, PendingRead>();
  /** Reads that have a read index and wait for the state machine to reach it. */
  private readsWaitingApply: PendingRead[] = [];
  private readSeq = 0;
  private answerAfterAdvance: { waiter: PendingProposal; answer: ProposalResult }[] = [];
  /** Ticks without any work (entries, proposals, reads, elections). */
  idleTicks = 0;
  quiesced = false;
  /** True while the group has a Ready in flight in the host's round. */
  inRound = false;
  removed = false;
  /** Applied entries beyond the snapshot interval before the next snapshot (set by the host). */
  snapshotSlack = 0;
  /** Bytes of the entries applied since the last snapshot was captured (a snapshot is due past --snapshot-bytes). */
  appliedBytesSinceSnapshot = 0;
  /**
   * A hard state whose only change since the last write is the commit index: it goes with the
   * group's next write (or the idle flush) instead of a transaction and an fsync of its own.
   */
  unsavedHardState: HardState | undefined;
  /** The snapshot being serialised and written, if any. */
  snapshotting: Promise<number> | undefined;
  /** A written snapshot waiting to become the log's base in the next round. */
  pendingCompaction: SnapshotMetadata | undefined;
  /**
   * A full snapshot made for lagging followers, kept for a while (a state machine whose log
   * snapshots hold no state: see Snapshotter.send).
   */
  followerSnapshot: FollowerSnapshot | undefined;

  constructor(
    readonly name: string,
    readonly type: string,
    readonly sm: GroupStateMachine,
    config: Omit<RaftConfig, 'storage' | 'applied'>,
    storage: MemoryStorage,
    applied: number,
    /** The history checksums at `applied`, when the snapshot the group starts from carries them. */
    history: SnapshotHistory | undefined,
    private readonly quiesceTicks: number,
    private readonly electionTick: number,
    /** Random per process start: read contexts of a restarted node never match its old ones. */
    private readonly incarnation: number,
  ) {
    this.storage = storage;
    this.appliedIndex = applied;
    this.handedIndex = applied;
    this.history = new HistoryChecksum(applied, history);
    this.snapshotIndex = storage.snapshot().metadata.index;
    for (const e of storage.entries(Math.max(this.snapshotIndex, storage.firstIndex() - 1) + 1, Math.min(applied, storage.lastIndex()) + 1, Number.MAX_SAFE_INTEGER)) {
      this.appliedBytesSinceSnapshot += e.data.length;
    }
    this.node = new RawNode({ ...config, storage, applied });
  }

  get role(): Role {
    return this.node.role;
  }

  /** Ticks the core unless quiesced. Returns true if the group may have a Ready. */
  /** `silence(id)`: ticks since the host last heard anything from node `id`. */
  tick(silence: (id: NodeId) => number): boolean {
    if (this.quiesced) return this.quietTick(silence);
    this.idleTicks++;
    // Followers quiesce first, the leader well after: a quiet leader must not fall silent while
    // its followers still run election timers.
    const threshold = this.node.role === Role.Leader ? this.quiesceTicks + 3 * this.electionTick : this.quiesceTicks;
    if (this.quiesceTicks > 0 && this.idleTicks >= threshold && this.canQuiesce()) {
      this.quiesced = true;
      return false;
    }
    this.node.tick();
    return true;
  }

  /** A tick while quiesced: the core does not tick, but a dead leader must still be noticed. */
  private quietTick(silence: (id: NodeId) => number): boolean {
    const lead = this.node.lead;
    if (this.node.role === Role.Leader || lead === 0) return false;
    if (silence(lead) < (QUIET_BEAT_ELECTIONS + 2) * this.electionTick) return false;
    this.wake();
    return true;
  }

  /** Proposals made on this node still waiting to be committed and applied. */
  get pendingProposals(): number {
    return this.proposals.size;
  }

  private canQuiesce(): boolean {
    if (this.proposals.size > 0 || this.readRequests.size > 0 || this.readsWaitingApply.length > 0) return false;
    const role = this.node.role;
    if (role === Role.Candidate || role === Role.PreCandidate) return false;
    if (role === Role.Follower && this.node.lead === 0) return false;
    const log = this.node.inspectLog();
    if (log.committed !== log.lastIndex || this.appliedIndex < log.committed) return false;
    if (role === Role.Leader) {
      // Every follower must hold everything, or it would wait for a heartbeat that never comes.
      return this.node.status().progress.every((p) => p.match === log.lastIndex || p.id === this.node.id);
    }
    return true;
  }

  /** Any real work wakes the group. */
  wake(): void {
    this.idleTicks = 0;
    this.quiesced = false;
  }

  step(m: Message): void {
    if (!QUIET_TYPES.has(m.type)) this.wake();
    this.node.step(m);
  }

  propose(data: Uint8Array, timeoutMs: number, now: number): Promise<ProposalResult> {
    this.wake();
    let index: number;
    try {
      index = this.node.propose(data);
    } catch (e) {
      return Promise.reject(translateCoreError(e, this.name));
    }
    traceStage('propose', index);
    return this.awaitIndex(index, this.node.term, timeoutMs, now);
  }

  /** Resolves when the entry (index, term) is applied; rejects if another entry took its place. */
  awaitIndex(index: number, term: number, timeoutMs: number, now: number): Promise<ProposalResult> {
    return new Promise((resolve, reject) => {
      this.proposals.set(index, { term, resolve, reject, deadline: now + timeoutMs });
    });
  }

  /** Resolves with an index once the local state machine may serve a linearizable read. */
  read(timeoutMs: number, now: number, lease = false): Promise<number> {
    this.wake();
    // Unique across the group and across restarts: the leader keys pending reads by context and
    // every member forwards its reads to it, so the context carries this node's id, the random
    // incarnation of this process (a sequence restarts at 0 after a restart, and an answer meant
    // for the previous process may still be on its way) and a sequence.
    const ctx = readContext(this.node.id, this.incarnation, ++this.readSeq);
    return new Promise((resolve, reject) => {
      this.readRequests.set(contextKey(ctx), { resolve, reject, deadline: now + timeoutMs, index: 0, term: this.node.term });
      this.node.readIndex(ctx, { lease });
    });
  }

  onReadStates(states: ReadState[]): void {
    for (const rs of states) {
      const key = contextKey(rs.context);
      const pending = this.readRequests.get(key);
      if (!pending || rs.term < pending.term) continue;
      this.readRequests.delete(key);
      pending.index = rs.index;
      this.readsWaitingApply.push(pending);
    }
  }

  /** Applies committed entries to the state machine and answers the proposals waiting on them. */
  async applyCommitted(entries: Entry[]): Promise<number> {
    // Entries applied ahead of their Ready (see NodeHost.applyAhead) are not applied again.
    let skip = 0;
    while (skip < entries.length && entries[skip]!.index <= this.handedIndex) skip++;
    if (skip > 0) entries = entries.slice(skip);
    if (entries.length === 0) return 0;
    this.handedIndex = entries[entries.length - 1]!.index;
    this.history.fold(entries);
    const user = entries.filter((e) => e.type === EntryType.Normal && e.data.length > 0);
    const results = user.length > 0 ? await this.sm.apply(user) : [];
    let r = 0;
    for (const e of entries) {
      const waiter = this.proposals.get(e.index);
      const isUser = e.type === EntryType.Normal && e.data.length > 0;
      const result = isUser ? results[r++] : undefined;
      if (!waiter) continue;
      this.proposals.delete(e.index);
      if (waiter.term !== e.term) waiter.reject(new HostError('proposal_dropped', `proposal at index ${e.index} was overwritten by a new leader; retry it`));
      // A membership change takes effect in the core at advance(): its caller hears of it then,
      // so that a next change right away is not refused as "not applied yet".
      else if (e.type === EntryType.ConfChange) this.answerAfterAdvance.push({ waiter, answer: { index: e.index, result } });
      else {
        traceStage('done', e.index);
        waiter.resolve({ index: e.index, result });
      }
    }
    this.appliedIndex = entries[entries.length - 1]!.index;
    for (const e of entries) this.appliedBytesSinceSnapshot += e.data.length;
    this.releaseReads();
    return user.length;
  }

  /** Answers the membership changes applied in this round; the host calls it after advance(). */
  advanced(): void {
    if (this.answerAfterAdvance.length === 0) return;
    const answers = this.answerAfterAdvance;
    this.answerAfterAdvance = [];
    for (const a of answers) a.waiter.resolve(a.answer);
  }

  /** The state machine was replaced by a snapshot at `index`, with the history checksums it carries. */
  restoredTo(index: number, history: SnapshotHistory | undefined): void {
    this.appliedIndex = index;
    this.handedIndex = index;
    this.history.restart(index, history);
  }

  releaseReads(): void {
    if (this.readsWaitingApply.length === 0) return;
    const still: PendingRead[] = [];
    for (const r of this.readsWaitingApply) {
      if (r.index <= this.appliedIndex) r.resolve(r.index);
      else still.push(r);
    }
    this.readsWaitingApply = still;
  }

  /** Fails every caller whose deadline passed (a timed-out proposal may still commit later). */
  expire(now: number): void {
    for (const [index, p] of this.proposals) {
      if (p.deadline <= now) {
        this.proposals.delete(index);
        p.reject(new HostError('timeout', `proposal at index ${index} timed out; it may still commit, so retry with the same client id and sequence`));
      }
    }
    for (const [key, r] of this.readRequests) {
      if (r.deadline <= now) {
        this.readRequests.delete(key);
        r.reject(new HostError('timeout', 'read timed out waiting for the leader to confirm its leadership'));
      }
    }
    const still: PendingRead[] = [];
    for (const r of this.readsWaitingApply) {
      if (r.deadline <= now) r.reject(new HostError('timeout', `read timed out waiting for index ${r.index} to apply`));
      else still.push(r);
    }
    this.readsWaitingApply = still;
  }

  /** Fails the proposals and reads waiting on this node's leadership. */
  failPending(err: Error): void {
    if (this.proposals.size === 0 && this.readRequests.size === 0) return;
    for (const p of this.proposals.values()) p.reject(err);
    for (const r of this.readRequests.values()) r.reject(err);
    this.proposals.clear();
    this.readRequests.clear();
  }

  failAll(err: Error): void {
    for (const a of this.answerAfterAdvance) a.waiter.reject(err);
    this.answerAfterAdvance = [];
    for (const p of this.proposals.values()) p.reject(err);
    for (const r of this.readRequests.values()) r.reject(err);
    for (const r of this.readsWaitingApply) r.reject(err);
    this.proposals.clear();
    this.readRequests.clear();
    this.readsWaitingApply = [];
  }

  /** The voters and learners of the current configuration, for routing and status. */
  members(): { voters: NodeId[]; learners: NodeId[]; witnesses: NodeId[]; outgoing: NodeId[] } {
    const cs = this.node.confState();
    const voters = [...new Set([...cs.voters, ...cs.votersOutgoing])].sort((a, b) => a - b);
    return {
      voters,
      learners: [...cs.learners, ...cs.learnersNext].sort((a, b) => a - b),
      witnesses: cs.witnesses,
      outgoing: [...cs.votersOutgoing].sort((a, b) => a - b),
    };
  }
}

/** The context of a linearizable read: node id, process incarnation, sequence (16 bytes). */
export function readContext(node: NodeId, incarnation: number, seq: number): Uint8Array {
  const ctx = new Uint8Array(16);
  const view = new DataView(ctx.buffer);
  view.setUint32(0, node);
  view.setUint32(4, incarnation);
  view.setFloat64(8, seq);
  return ctx;
}

function contextKey(ctx: Uint8Array): string {
  let s = '';
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]!);
  return s;
}

export function translateCoreError(e: unknown, group: string): Error {
  if (e instanceof NotLeaderError) return new HostError('not_leader', `group "${group}": ${e.message}`, e.leader);
  if (e instanceof RaftError && e.code === 'proposal_dropped') return new HostError('proposal_dropped', `group "${group}": ${e.message}`);
  if (e instanceof RaftError && e.code === 'conf_change_invalid') return new HostError('bad_request', `group "${group}": ${e.message}`);
  return e instanceof Error ? e : new Error(String(e));
}
