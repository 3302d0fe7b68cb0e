import type { RaftConfig } from './config.js';
import { decodeConfChange } from './confchange/codec.js';
import type { ConfChange } from './confchange/types.js';
import { RaftError, invariant } from './errors.js';
import { Raft, makeMessage } from './raft.js';
import {
  EntryType,
  MessageType,
  type ConfState,
  type HardState,
  type Message,
  type NodeId,
  type ProgressStatus,
  type Ready,
  type Role,
  type SoftState,
  type Status,
} from './types.js';

const LOCAL_TYPES = new Set([MessageType.Hup, MessageType.Beat, MessageType.Propose, MessageType.CheckQuorum, MessageType.Unreachable, MessageType.SnapshotStatus]);

/**
 * The core's public surface for one node of one group: feed it ticks, proposals and messages;
 * collect work with ready(), do it (persist, send, apply), and acknowledge with advance().
 * At most one Ready is outstanding; step(), tick() and propose() may be called meanwhile.
 */
export class RawNode {
  private readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private outstanding: Ready | undefined;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoft = this.softState();
    this.prevHard = this.hardState();
  }

  get id(): NodeId {
    return this.raft.id;
  }
  get role(): Role {
    return this.raft.role;
  }
  get lead(): NodeId {
    return this.raft.lead;
  }
  /** Messages from peers dropped because what they claim does not fit what this node knows. */
  get droppedMessages(): number {
    return this.raft.droppedMessages;
  }

  get term(): number {
    return this.raft.term;
  }

  tick(): void {
    this.raft.tick();
  }

  /** A leader sends a heartbeat to every follower now (a no-op on other roles). */
  heartbeat(): void {
    this.raft.step(makeMessage({ type: MessageType.Beat }));
  }

  /** Starts an election now (if this node may lead). */
  campaign(): void {
    this.raft.step(makeMessage({ type: MessageType.Hup }));
  }

  /** Proposes one entry; returns its log index. Throws NotLeaderError on a non-leader. */
  propose(data: Uint8Array): number {
    return this.raft.propose([data]);
  }

  /** Proposes several entries as one append; returns the index of the first. */
  proposeBatch(datas: Uint8Array[]): number {
    if (datas.length === 0) throw new RaftError('proposal_dropped', 'empty batch');
    return this.raft.propose(datas);
  }

  proposeConfChange(cc: ConfChange): number {
    return this.raft.proposeConfChange(cc);
  }

  /**
   * Steps a message from a peer. Local message types are refused; a message whose claims do not
   * fit what this node knows is dropped (core/message-check.ts) and reported to `onDroppedMessage`.
   */
  step(m: Message): void {
    if (LOCAL_TYPES.has(m.type)) throw new RaftError('step_local_message', `cannot step local message ${MessageType[m.type]}`);
    this.raft.stepPeer(m);
  }

  /**
   * Requests a linearizable read (with `lease`, answered from the leader's lease when valid). The answer arrives in a later Ready's readStates with the same
   * context; a request made while there is no leader is dropped (the caller times out).
   */
  readIndex(context: Uint8Array, opts: { lease?: boolean } = {}): void {
    const m = makeMessage({ type: MessageType.ReadIndex });
    m.context = context;
    // A lease read is answered at once while this leader's lease holds (else as a ReadIndex).
    if (opts.lease) m.lease = true;
    this.raft.step(m);
  }

  transferLeader(to: NodeId): void {
    this.raft.step(makeMessage({ type: MessageType.TransferLeader, from: to }));
  }

  reportUnreachable(id: NodeId): void {
    this.raft.step(makeMessage({ type: MessageType.Unreachable, from: id }));
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.step(makeMessage({ type: MessageType.SnapshotStatus, from: id, reject: !ok }));
  }

  private softState(): SoftState {
    return { lead: this.raft.lead, role: this.raft.role };
  }

  private hardState(): HardState {
    return { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed };
  }

  hasReady(): boolean {
    if (this.outstanding) return false;
    const r = this.raft;
    r.flushAppends();
    const soft = this.softState();
    const hard = this.hardState();
    return (
      soft.lead !== this.prevSoft.lead ||
      soft.role !== this.prevSoft.role ||
      !hardStateEqual(hard, this.prevHard) ||
      r.msgs.length > 0 ||
      r.readStates.length > 0 ||
      r.log.unstable.nextSnapshot() !== undefined ||
      r.log.hasNextUnstableEnts() ||
      r.log.hasNextCommittedEnts()
    );
  }

  ready(): Ready {
    invariant(!this.outstanding, 'ready() called again before advance()');
    const r = this.raft;
    r.flushAppends();
    const entries = r.log.unstable.nextEntries();
    const snapshot = r.log.unstable.nextSnapshot();
    const committedEntries = r.log.nextCommittedEnts();
    const rd: Ready = { entries, committedEntries, messages: r.msgs, readStates: r.readStates, mustSync: entries.length > 0 };
    if (snapshot) rd.snapshot = snapshot;
    const soft = this.softState();
    if (soft.lead !== this.prevSoft.lead || soft.role !== this.prevSoft.role) {
      rd.softState = soft;
      this.prevSoft = soft;
    }
    const hard = this.hardState();
    if (!hardStateEqual(hard, this.prevHard)) {
      rd.hardState = hard;
      if (hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote) rd.mustSync = true;
      this.prevHard = hard;
    }
    if (snapshot) rd.mustSync = true;
    r.msgs = [];
    r.readStates = [];
    r.log.unstable.acceptInProgress();
    if (committedEntries.length > 0) r.log.acceptApplying(committedEntries[committedEntries.length - 1]!.index);
    this.outstanding = rd;
    return rd;
  }

  /**
   * Acknowledges that everything in rd was done: entries and snapshot are durable, messages
   * sent, committed entries applied. Membership changes among them take effect here.
   */
  advance(rd: Ready): void {
    invariant(this.outstanding === rd, 'advance() must be given the outstanding Ready');
    this.outstanding = undefined;
    const r = this.raft;
    if (rd.snapshot) {
      r.log.stableSnapTo(rd.snapshot.metadata.index);
      r.log.applied = Math.max(r.log.applied, rd.snapshot.metadata.index);
      r.log.applying = Math.max(r.log.applying, rd.snapshot.metadata.index);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      r.log.stableTo(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) {
      let bytes = 0;
      for (const e of rd.committedEntries) {
        bytes += e.data.length;
        if (e.type !== EntryType.ConfChange) continue;
        const cc = tryDecodeConfChange(e.data);
        if (cc) r.applyConfChange(cc);
      }
      r.appliedTo(rd.committedEntries[rd.committedEntries.length - 1]!.index, bytes);
    }
  }

  /** The configuration as of the last applied entry. */
  confState(): ConfState {
    return this.raft.confState();
  }

  status(): Status {
    const r = this.raft;
    const progress: ProgressStatus[] = [];
    if (r.role === 'leader') {
      r.trk.forEach((id, pr) =>
        progress.push({
          id,
          match: pr.match,
          next: pr.next,
          state: pr.state,
          learner: pr.isLearner,
          witness: pr.isWitness,
          recentActive: pr.recentActive,
          inflight: pr.inflights.count,
        }),
      );
      progress.sort((a, b) => a.id - b.id);
    }
    return {
      id: r.id,
      hardState: this.hardState(),
      softState: this.softState(),
      applied: r.log.applied,
      leadTransferee: r.leadTransferee,
      confState: r.confState(),
      progress,
    };
  }

  /**
   * The election timer, for debuggers: ticks since the last reset, and the randomised timeout
   * at which a follower campaigns (a leader's elapsed counts toward its check-quorum instead).
   */
  electionTimer(): { elapsed: number; timeout: number } {
    return { elapsed: this.raft.electionElapsed, timeout: this.raft.electionTimeout };
  }

  /** A read-only view of the log for invariant checkers (term is 0 when out of range). */
  /** The commit index (cheap; {@link inspectLog} builds a view of the whole log). */
  get committed(): number {
    return this.raft.log.committed;
  }

  inspectLog(): { firstIndex: number; lastIndex: number; committed: number; applied: number; term(i: number): number } {
    const log = this.raft.log;
    return {
      firstIndex: log.firstIndex(),
      lastIndex: log.lastIndex(),
      committed: log.committed,
      applied: log.applied,
      term: (i: number) => log.termOrUndefined(i) ?? 0,
    };
  }
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** A corrupt conf change decodes the same (badly) everywhere, so every node skips it alike. */
function tryDecodeConfChange(data: Uint8Array): ConfChange | undefined {
  try {
    return decodeConfChange(data);
  } catch (e) {
    if (e instanceof RaftError) return undefined;
    throw e;
  }
}
