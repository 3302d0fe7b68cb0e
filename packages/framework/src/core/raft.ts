import { resolveConfig, type RaftConfig, type ResolvedRaftConfig } from './config.js';
import { Changer, restoreConfig, type ChangeResult } from './confchange/changer.js';
import { encodeConfChange } from './confchange/codec.js';
import { ConfChangeTransition, type ConfChange } from './confchange/types.js';
import { NotLeaderError, RaftError, errProposalDropped, invariant } from './errors.js';
import { peerMessageProblem, type MessageCheckView } from './message-check.js';
import { ReadOnly } from './read-only.js';
import { RaftLog } from './raft-log.js';
import { VoteResult } from './quorum/majority.js';
import type { Progress } from './tracker/progress.js';
import { ProgressTracker, toConfState } from './tracker/progress-tracker.js';
import {
  EntryType,
  MessageType,
  NONE,
  ProgressState,
  ReadOnlyOption,
  Role,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type ReadState,
  type Snapshot,
} from './types.js';
import { entrySize } from './util.js';

const EMPTY = new Uint8Array(0);

/** A message with every field at its zero value but the ones given. */
export function makeMessage(m: Partial<Message> & Pick<Message, 'type'>): Message {
  return { from: NONE, to: NONE, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...m };
}

const voteResponseOf = (t: MessageType): MessageType => (t === MessageType.Vote ? MessageType.VoteResponse : MessageType.PreVoteResponse);

/**
 * The Raft protocol for one node of one group, as a deterministic state machine. The role is
 * a swapped pair of functions (stepFn, tickFn) set by the become* methods.
 * Everything it wants done is queued in `msgs`, `readStates` and the log's unstable part, and
 * handed out by RawNode.ready().
 */
export class Raft {
  readonly id: NodeId;
  readonly cfg: ResolvedRaftConfig;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role: Role = Role.Follower;
  readonly log: RaftLog;
  readonly trk: ProgressTracker;
  msgs: Message[] = [];
  readStates: ReadState[] = [];

  /** The target of a leadership transfer in progress, or NONE. */
  leadTransferee: NodeId = NONE;
  /** The log index of the latest conf change; a new one may be proposed once applied passes it. */
  pendingConfIndex = 0;
  /** Bytes of proposals appended by this leader and not yet applied. */
  private uncommittedSize = 0;
  private readonly readOnly = new ReadOnly();
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  private pendingReadIndexMessages: Message[] = [];

  /** Ticks since the last election timeout (leader: since the last check-quorum round). */
  electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  /** A monotonic tick counter: the leader's clock for leases. */
  private ticks = 0;
  /**
   * Set at start-up until one election timeout has passed: a restarted node may have promised
   * a leader, before it crashed, not to vote for anyone else for an election timeout, and lease
   * reads depend on that promise.
   */
  private bootLease: boolean;
  /** A TimeoutNow arrived while committed membership changes were unapplied: campaign once they are. */
  private pendingTimeoutNow = false;
  /** The current campaign was started by a TimeoutNow (a leadership transfer). */
  private transferCampaign = false;
  /** This node was a data voter until it applied a configuration that removed or demoted it. */
  private removedVoter = false;
  /** This leader applied a configuration without itself as a voter and is handing off. */
  private removedFromConfig = false;
  /** This leader sent a TimeoutNow this term: its target may win at any time, so no more leases. */
  private sentTimeoutNow = false;

  private stepFn: (m: Message) => void = this.stepFollower;
  private tickFn: () => void = this.tickElection;

  constructor(config: RaftConfig) {
    this.cfg = resolveConfig(config);
    this.id = this.cfg.id;
    // Only a node that has followed a leader (its term got past the founding term 1, durably,
    // before it answered that leader) can have made the promise; any node may, since lease reads
    // may be used by whichever node leads.
    const { hardState: initialHard } = this.cfg.storage.initialState();
    this.bootLease = this.cfg.checkQuorum && initialHard.term > 1;
    this.log = new RaftLog(this.cfg.storage, this.cfg.maxCommittedSizePerReady);
    this.trk = new ProgressTracker(this.cfg.maxInflightMsgs, this.cfg.maxInflightBytes);
    const { hardState, confState } = this.cfg.storage.initialState();
    this.switchToConfig(restoreConfig(this.trk, confState, this.log.lastIndex()));
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) {
      const first = this.log.firstIndex() - 1;
      const last = this.log.lastIndex();
      if (hardState.commit < first || hardState.commit > last) {
        throw new RaftError('config_invalid', `hard state commit ${hardState.commit} is outside the log [${first}, ${last}]`);
      }
      this.log.committed = hardState.commit;
      this.term = hardState.term;
      this.vote = hardState.vote;
    }
    if (this.cfg.applied > 0) this.log.appliedTo(this.cfg.applied);
    this.becomeFollower(this.term, NONE);
  }

  // ---------------------------------------------------------------- state helpers

  confState(): ConfState {
    return toConfState(this.trk.config);
  }

  /** May this node become leader: a data-holding voter of the current configuration. */
  private isDataVoter(): boolean {
    const c = this.trk.config;
    return c.voters.has(this.id) && !c.witnesses.has(this.id) && !c.learners.has(this.id);
  }

  /**
   * May this node campaign: a data-holding voter of its applied configuration, or a data voter
   * that applied its own removal. The latter matters when the others have not learned that the
   * removal committed: they still count us in their configuration's quorum, and our log may hold
   * entries they need. If elected we only hand leadership to a remaining voter.
   */
  promotable(): boolean {
    return (this.isDataVoter() || this.removedVoter) && this.log.unstable.snapshot === undefined;
  }

  private send(m: Message): void {
    m.from = this.id;
    const t = m.type;
    if (t === MessageType.Vote || t === MessageType.VoteResponse || t === MessageType.PreVote || t === MessageType.PreVoteResponse) {
      invariant(m.term !== 0, `${MessageType[t]} must carry a term`);
    } else if (t !== MessageType.Propose && t !== MessageType.ReadIndex) {
      m.term = this.term;
    }
    this.msgs.push(m);
  }

  /** Ticks without hearing from a leader after which this node campaigns (randomised per term). */
  get electionTimeout(): number {
    return this.randomizedElectionTimeout;
  }

  private resetRandomizedElectionTimeout(): void {
    const e = this.cfg.electionTick;
    this.randomizedElectionTimeout = e + Math.floor(this.cfg.random() * e);
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const last = this.log.lastIndex();
    this.trk.forEach((id, pr) => {
      pr.becomeProbe();
      pr.match = id === this.id ? last : 0;
      pr.next = last + 1;
      pr.recentActive = false;
      pr.sentCommit = 0;
      pr.leaseAckTick = -1;
    });
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly.clear();
    this.pendingReadIndexMessages = [];
    this.pendingTimeoutNow = false;
    this.sentTimeoutNow = false;
    this.removedFromConfig = false;
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.stepFn = this.stepFollower;
    this.tickFn = this.tickElection;
    this.reset(term);
    this.lead = lead;
    if (lead !== NONE) this.bootLease = false;
    this.role = Role.Follower;
  }

  private becomeCandidate(): void {
    invariant(this.role !== Role.Leader, 'leader cannot become candidate');
    this.stepFn = this.stepCandidate;
    this.tickFn = this.tickElection;
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = Role.Candidate;
  }

  private becomePreCandidate(): void {
    invariant(this.role !== Role.Leader, 'leader cannot become pre-candidate');
    // A pre-candidate changes neither term nor vote: losing the pre-vote must leave no trace.
    this.stepFn = this.stepCandidate;
    this.tickFn = this.tickElection;
    this.trk.resetVotes();
    this.lead = NONE;
    this.role = Role.PreCandidate;
  }

  private becomeLeader(): void {
    invariant(this.role !== Role.Follower, 'follower cannot become leader without an election');
    this.stepFn = this.stepLeader;
    this.tickFn = this.tickHeartbeat;
    this.reset(this.term);
    this.lead = this.id;
    this.role = Role.Leader;
    const self = this.trk.progress.get(this.id);
    if (self) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // Changes in the uncommitted tail may be unapplied: allow a new one only after all of it.
    this.pendingConfIndex = this.log.lastIndex();
    // The no-op of this term: commits everything before it (Figure 8) and enables reads.
    this.appendEntries([{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY }], true);
    if (!this.isDataVoter()) {
      this.removedFromConfig = true;
      this.handOffAfterRemoval();
    }
  }

  // ---------------------------------------------------------------- ticks

  tick(): void {
    this.ticks++;
    this.tickFn();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTick) this.bootLease = false;
    // A removed voter waits longer: it is needed only when the remaining voters are stuck.
    const patience = this.removedVoter ? 3 : 1;
    if (this.promotable() && this.electionElapsed >= patience * this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) this.checkQuorum();
      // A transfer that has not finished within an election timeout is abandoned.
      if (this.role === Role.Leader && this.leadTransferee !== NONE) this.abortLeaderTransfer();
      if (this.role === Role.Leader && this.removedFromConfig && this.cfg.stepDownOnRemoval) this.handOffAfterRemoval();
    }
    if (this.role !== Role.Leader) return;
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  private checkQuorum(): void {
    if (!this.trk.quorumActive(this.id)) {
      this.becomeFollower(this.term, NONE);
      return;
    }
    this.trk.forEach((id, pr) => {
      if (id !== this.id) pr.recentActive = false;
    });
  }

  // ---------------------------------------------------------------- elections

  hup(transfer: boolean): void {
    if (this.role === Role.Leader || !this.promotable()) return;
    if (this.hasUnappliedConfChanges()) return;
    if (this.cfg.preVote && !transfer) this.campaign(true, false);
    else this.campaign(false, transfer);
  }

  /** A node must not campaign while a committed conf change is unapplied: its config may be stale. */
  private hasUnappliedConfChanges(): boolean {
    if (this.log.applied >= this.log.committed) return false;
    const lo = Math.max(this.log.applied + 1, this.log.firstIndex());
    if (lo > this.log.committed) return false;
    for (const e of this.log.slice(lo, this.log.committed + 1, Number.MAX_SAFE_INTEGER)) {
      if (e.type === EntryType.ConfChange) return true;
    }
    return false;
  }

  private campaign(pre: boolean, transfer: boolean): void {
    let term: number;
    let type: MessageType;
    if (pre) {
      this.becomePreCandidate();
      term = this.term + 1;
      type = MessageType.PreVote;
    } else {
      this.becomeCandidate();
      term = this.term;
      type = MessageType.Vote;
    }
    this.transferCampaign = transfer;
    if (this.poll(this.id, true) === VoteResult.Won) {
      // A single-voter configuration wins at once.
      if (pre) this.campaign(false, transfer);
      else this.becomeLeader();
      return;
    }
    const index = this.log.lastIndex();
    const logTerm = this.log.lastTerm();
    const ids = [...this.trk.config.voters.ids()].sort((a, b) => a - b);
    for (const id of ids) {
      if (id === this.id) continue;
      const m = makeMessage({ type, to: id, term, index, logTerm });
      if (transfer) m.transfer = true;
      this.send(m);
    }
  }

  private poll(id: NodeId, granted: boolean): VoteResult {
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes().result;
  }

  /** Leader stickiness: a node that heard from a leader within an election timeout ignores campaigns. */
  private inLease(): boolean {
    return this.cfg.checkQuorum && (this.lead !== NONE || this.bootLease) && this.electionElapsed < this.cfg.electionTick;
  }

  // ---------------------------------------------------------------- step

  /** Messages from peers dropped by the check of what they claim (core/message-check.ts). */
  droppedMessages = 0;

  /** Steps a message that came from a peer: what it claims is checked first, and a bad one is dropped whole. */
  stepPeer(m: Message): void {
    const view: MessageCheckView = {
      id: this.id,
      term: this.term,
      lead: this.lead,
      role: this.role,
      lastIndex: this.log.lastIndex(),
      ticks: this.ticks,
      committed: this.log.committed,
      leaderAlive: this.role === Role.Leader || (this.lead !== NONE && this.electionElapsed < this.cfg.electionTick),
      committedTerm: this.log.termOrUndefined(this.log.committed) ?? 0,
      isMember: (id) => this.trk.progress.has(id),
    };
    const problem = peerMessageProblem(view, m);
    if (problem !== undefined) {
      this.droppedMessages++;
      this.cfg.onDroppedMessage(m, problem);
      return;
    }
    this.step(m);
  }

  step(m: Message): void {
    if (m.term === 0) {
      // A local message.
    } else if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        if (!m.transfer && this.inLease()) return;
      }
      if (m.type === MessageType.PreVote) {
        // A pre-vote never changes our term.
      } else if (m.type === MessageType.PreVoteResponse && !m.reject) {
        // Granted pre-votes carry the future term; the term changes only when the election starts.
      } else if (m.type === MessageType.Append || m.type === MessageType.Heartbeat || m.type === MessageType.Snapshot) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.Append)) {
        // A stale leader (e.g. one back from a partition) learns of the new term and steps down.
        this.send(makeMessage({ type: MessageType.AppendResponse, to: m.from }));
      } else if (m.type === MessageType.PreVote) {
        this.send(makeMessage({ type: MessageType.PreVoteResponse, to: m.from, term: this.term, reject: true, ...this.commitHint(m.index) }));
      }
      return;
    }

    switch (m.type) {
      case MessageType.Hup:
        this.hup(false);
        return;
      case MessageType.Vote:
      case MessageType.PreVote: {
        const canVote = this.vote === m.from || (this.vote === NONE && this.lead === NONE) || (m.type === MessageType.PreVote && m.term > this.term);
        const logOk = this.cfg.testingMutation === 'vote-ignores-log' || this.log.isUpToDate(m.index, m.logTerm);
        if (canVote && logOk) {
          // Answer with the message's term so a pre-candidate can count it for its next term.
          this.send(makeMessage({ type: voteResponseOf(m.type), to: m.from, term: m.term, ...this.commitHint(m.index) }));
          if (m.type === MessageType.Vote) {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.send(makeMessage({ type: voteResponseOf(m.type), to: m.from, term: this.term, reject: true, ...this.commitHint(m.index) }));
        }
        return;
      }
      case MessageType.VoteResponse:
      case MessageType.PreVoteResponse:
        this.learnCommitFromVoter(m);
        this.stepFn(m);
        return;
      default:
        this.stepFn(m);
    }
  }

  /**
   * What a vote answer tells the candidate besides the vote: an index this node knows committed
   * (its commit index, capped at the candidate's last index) and the term of its entry there.
   * Nothing if that term is compacted away.
   */
  private commitHint(candidateLast: number): Pick<Message, 'commit' | 'logTerm'> | undefined {
    const commit = Math.min(this.log.committed, candidateLast);
    const logTerm = commit > 0 ? this.log.termOrUndefined(commit) : undefined;
    return logTerm === undefined ? undefined : { commit, logTerm };
  }

  /**
   * A candidate (or one that just lost) adopts a voter's commit hint when its own log has that
   * entry with the same term: by Log Matching its log then equals the voter's up to there, and
   * all of that is committed. This matters after a membership change that the voter knows
   * committed and we do not: e.g. a voter that applied its own removal (and perhaps restarted,
   * forgetting it was a voter) while we still count it, and a witness, in our quorum. Our
   * campaigns fail until we apply the change; its vote answers let us. Like hup(), a campaign
   * does not go on while a committed membership change is unapplied.
   */
  private learnCommitFromVoter(m: Message): void {
    if (this.role === Role.Leader || m.commit <= this.log.committed || !this.log.matchTerm(m.commit, m.logTerm)) return;
    this.log.commitTo(m.commit);
    if (this.role === Role.Follower || !this.hasUnappliedConfChanges()) return;
    const transfer = this.role === Role.Candidate && this.transferCampaign;
    this.becomeFollower(this.term, NONE);
    // A transfer's campaign runs again once the change is applied, as after a TimeoutNow.
    if (transfer) this.pendingTimeoutNow = true;
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.Beat:
        this.bcastHeartbeat();
        return;
      case MessageType.CheckQuorum:
        this.checkQuorum();
        return;
      case MessageType.ReadIndex:
        this.handleReadIndex(m);
        return;
    }
    const pr = this.trk.progress.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case MessageType.AppendResponse:
        this.handleAppendResponse(m, pr);
        return;
      case MessageType.HeartbeatResponse:
        this.handleHeartbeatResponse(m, pr);
        return;
      case MessageType.SnapshotStatus:
        if (pr.state !== ProgressState.Snapshot) return;
        if (m.reject) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        // Wait for the next heartbeat response before probing again.
        pr.msgAppFlowPaused = true;
        return;
      case MessageType.Unreachable:
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        return;
      case MessageType.TransferLeader:
        this.handleTransferLeader(m.from);
        return;
    }
  }

  private stepCandidate(m: Message): void {
    const myVoteResponse = this.role === Role.PreCandidate ? MessageType.PreVoteResponse : MessageType.VoteResponse;
    switch (m.type) {
      case MessageType.Append:
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snapshot:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case myVoteResponse: {
        const result = this.poll(m.from, !m.reject);
        if (result === VoteResult.Won) {
          if (this.role === Role.PreCandidate) this.campaign(false, false);
          else this.becomeLeader();
        } else if (result === VoteResult.Lost) {
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Append:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Snapshot:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.TransferLeader:
        // Only a local request gets here (core/message-check.ts drops one from a peer).
        if (this.lead === NONE) return;
        this.send({ ...m, to: this.lead, term: 0 });
        this.msgs[this.msgs.length - 1]!.from = m.from;
        return;
      case MessageType.TimeoutNow:
        // The leader hands off right after applying a change (e.g. its own removal); we may have
        // learned of the commit but not applied it yet.
        if (this.hasUnappliedConfChanges()) this.pendingTimeoutNow = true;
        else this.hup(true);
        return;
      case MessageType.ReadIndex: {
        if (this.lead === NONE) return;
        // A lease belongs to the leader's own clock: a forwarded read is a plain ReadIndex.
        const { lease: _lease, ...forward } = m;
        this.send({ ...forward, to: this.lead });
        this.msgs[this.msgs.length - 1]!.from = m.from === NONE ? this.id : m.from;
        return;
      }
      case MessageType.ReadIndexResponse:
        this.readStates.push({ index: m.index, context: m.context ?? EMPTY, term: m.term });
        return;
    }
  }

  // ---------------------------------------------------------------- follower handlers

  private handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      this.send(makeMessage({ type: MessageType.AppendResponse, to: m.from, index: this.log.committed }));
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send(makeMessage({ type: MessageType.AppendResponse, to: m.from, index: lastNew }));
      return;
    }
    // Fast backtracking: tell the leader the last index whose term is <= the probed term.
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send(makeMessage({ type: MessageType.AppendResponse, to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term }));
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(m.commit);
    const r = makeMessage({ type: MessageType.HeartbeatResponse, to: m.from });
    if (m.context) r.context = m.context;
    if (m.leaseTick !== undefined) r.leaseTick = m.leaseTick;
    this.send(r);
  }

  private handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (!s) return;
    if (this.restore(s)) {
      this.send(makeMessage({ type: MessageType.AppendResponse, to: m.from, index: this.log.lastIndex() }));
    } else {
      this.send(makeMessage({ type: MessageType.AppendResponse, to: m.from, index: this.log.committed }));
    }
  }

  /** Installs a snapshot from the leader; false if it is not newer than what we have. */
  private restore(s: Snapshot): boolean {
    const { index, term } = s.metadata;
    if (index <= this.log.committed) return false;
    if (this.role !== Role.Follower) {
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    if (this.log.matchTerm(index, term)) {
      // We have the entry: fast-forward the commit instead of throwing the log away.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(s);
    this.switchToConfig(restoreConfig(this.trk, s.metadata.confState, this.log.lastIndex()));
    return true;
  }

  // ---------------------------------------------------------------- leader: replication

  /** Appends entries to the leader's log; returns the index of the first. */
  private appendEntries(ents: Entry[], internal = false): number {
    let size = 0;
    for (const e of ents) size += e.data.length;
    const limit = this.cfg.maxUncommittedEntriesSize;
    if (!internal && limit > 0 && this.uncommittedSize > 0 && this.uncommittedSize + size > limit) {
      throw errProposalDropped('too many uncommitted entries');
    }
    this.uncommittedSize += size;
    let index = this.log.lastIndex();
    const first = index + 1;
    for (const e of ents) {
      e.term = this.term;
      e.index = ++index;
    }
    this.log.append(ents);
    this.trk.progress.get(this.id)?.maybeUpdate(index);
    this.maybeCommit();
    return first;
  }

  private maybeCommit(): boolean {
    const c = this.trk.committed();
    if (this.cfg.testingMutation === 'commit-previous-term') {
      if (c > this.log.committed && c <= this.log.lastIndex()) {
        this.log.commitTo(c);
        this.onCommitAdvanced();
        return true;
      }
      return false;
    }
    if (this.log.maybeCommit(c, this.term)) {
      this.onCommitAdvanced();
      return true;
    }
    return false;
  }

  private onCommitAdvanced(): void {
    if (this.pendingReadIndexMessages.length > 0 && this.committedEntryInCurrentTerm()) {
      const pending = this.pendingReadIndexMessages;
      this.pendingReadIndexMessages = [];
      for (const m of pending) this.sendReadIndexResponse(m);
    }
  }

  /**
   * Sends an Append (or a snapshot) to `to` if its flow control allows. With sendIfEmpty false
   * it sends only when there are entries to send. Returns whether a message was sent.
   */
  private sendAppend(to: NodeId, pr: Progress, sendIfEmpty: boolean): boolean {
    if (pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.termOrUndefined(prevIndex);
    if (prevTerm === undefined) return this.sendSnapshot(to, pr);
    let ents: Entry[] = [];
    if (pr.next <= this.log.lastIndex()) {
      try {
        ents = this.log.entriesFrom(pr.next, this.cfg.maxSizePerMsg);
      } catch (e) {
        if (e instanceof RaftError && e.code === 'compacted') return this.sendSnapshot(to, pr);
        throw e;
      }
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const e of ents) bytes += entrySize(e);
    if (pr.isWitness) ents = ents.map(stripForWitness);
    const commit = this.log.committed;
    this.send(makeMessage({ type: MessageType.Append, to, index: prevIndex, logTerm: prevTerm, entries: ents, commit }));
    pr.sentCommit = Math.max(pr.sentCommit, commit);
    pr.sentEntries(prevIndex + ents.length, ents.length, bytes);
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) return false;
    let snap: Snapshot;
    try {
      snap = this.log.snapshot();
    } catch (e) {
      if (e instanceof RaftError && e.code === 'snapshot_temporarily_unavailable') return false;
      throw e;
    }
    invariant(snap.metadata.index > 0, 'need a non-empty snapshot to send');
    if (pr.isWitness) snap = { metadata: snap.metadata, data: EMPTY };
    pr.becomeSnapshot(snap.metadata.index);
    this.send(makeMessage({ type: MessageType.Snapshot, to, snapshot: snap }));
    return true;
  }

  /**
   * Batching: proposals and acknowledgements only mark work; this sends, once per Ready, one
   * round of Appends to every follower that has new entries or has not seen the commit index.
   */
  flushAppends(): void {
    if (this.role !== Role.Leader) return;
    const last = this.log.lastIndex();
    const committed = this.log.committed;
    this.trk.forEach((id, pr) => {
      if (id === this.id) return;
      if (pr.next > last && pr.sentCommit >= committed) return;
      let sendIfEmpty = pr.sentCommit < committed || pr.state === ProgressState.Probe;
      while (this.sendAppend(id, pr, sendIfEmpty)) {
        sendIfEmpty = false;
        if (pr.state !== ProgressState.Replicate || pr.next > last) break;
      }
    });
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      let next = m.rejectHint;
      if (m.logTerm > 0) next = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, next)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      }
      return;
    }
    if (pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === ProgressState.Probe)) {
      if (pr.state === ProgressState.Probe) {
        pr.becomeReplicate();
      } else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= this.log.firstIndex()) {
        // The follower caught up (by the snapshot or otherwise): back to normal replication.
        pr.becomeProbe();
        pr.becomeReplicate();
      } else if (pr.state === ProgressState.Replicate) {
        pr.inflights.freeLE(m.index);
      }
      this.maybeCommit();
      if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
    }
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.msgAppFlowPaused = false;
    if (m.leaseTick !== undefined && m.leaseTick > pr.leaseAckTick) pr.leaseAckTick = m.leaseTick;
    if (pr.match < this.log.lastIndex()) this.resendAfterHeartbeat(m.from, pr);
    if (!m.context) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (!acks) return;
    if (!this.trk.config.voters.quorumActive((id) => id === this.id || acks.has(id))) return;
    for (const rs of this.readOnly.advance(m.context)) this.answerRead(rs.req, rs.index);
  }

  /**
   * A follower behind the leader answered a heartbeat: the Appends that should have carried its
   * entries may have been lost. Probe again; in replicate state send an empty Append at `next`
   * (outside the inflight window, so a window full of lost messages cannot stall it forever):
   * a follower with a gap rejects it and the leader falls back to probing.
   */
  private resendAfterHeartbeat(to: NodeId, pr: Progress): void {
    if (pr.state === ProgressState.Replicate) {
      const prevIndex = pr.next - 1;
      const prevTerm = this.log.termOrUndefined(prevIndex);
      if (prevTerm === undefined) {
        // Compacted past what it has: only a snapshot can help, and a full window must not block it.
        pr.becomeProbe();
        this.sendAppend(to, pr, true);
        return;
      }
      const commit = Math.min(this.log.committed, prevIndex);
      this.send(makeMessage({ type: MessageType.Append, to, index: prevIndex, logTerm: prevTerm, commit }));
      return;
    }
    this.sendAppend(to, pr, true);
  }

  private bcastHeartbeat(): void {
    const ctx = this.readOnly.lastPendingContext();
    this.trk.forEach((id, pr) => {
      if (id === this.id) return;
      const commit = Math.min(pr.match, this.log.committed);
      const m = makeMessage({ type: MessageType.Heartbeat, to: id, commit, leaseTick: this.ticks });
      if (ctx) m.context = ctx;
      pr.sentCommit = Math.max(pr.sentCommit, commit);
      this.send(m);
    });
  }

  // ---------------------------------------------------------------- leader: reads

  private committedEntryInCurrentTerm(): boolean {
    return this.log.termOrUndefined(this.log.committed) === this.term;
  }

  private handleReadIndex(m: Message): void {
    if (this.trk.isSingleton()) {
      this.answerRead(m, this.log.committed);
      return;
    }
    // A new leader does not know the commit index until an entry of its term commits.
    if (!this.committedEntryInCurrentTerm()) {
      this.pendingReadIndexMessages.push(m);
      return;
    }
    this.sendReadIndexResponse(m);
  }

  private sendReadIndexResponse(m: Message): void {
    const index = this.log.committed;
    const leaseOk = this.cfg.readOnlyOption === ReadOnlyOption.LeaseBased || (m.lease === true && this.cfg.checkQuorum);
    if (leaseOk && this.leaseValid()) {
      this.answerRead(m, index);
      return;
    }
    this.readOnly.add(index, m);
    const ctx = m.context!;
    const acks = this.readOnly.recvAck(this.id, ctx);
    if (acks && this.trk.config.voters.quorumActive((id) => acks.has(id))) {
      for (const rs of this.readOnly.advance(ctx)) this.answerRead(rs.req, rs.index);
      return;
    }
    this.bcastHeartbeat();
  }

  /**
   * The lease holds while a quorum acknowledged a heartbeat sent less than leaseTicks ago: each
   * of them promised not to vote for another leader for an election timeout after receiving it.
   * Once a TimeoutNow was sent the target may campaign at once (bypassing that promise), so no
   * lease for the rest of the term.
   */
  private leaseValid(): boolean {
    if (this.leadTransferee !== NONE || this.sentTimeoutNow) return false;
    const start = this.trk.quorumLeaseTick(this.id, this.ticks);
    return start >= 0 && start + this.cfg.leaseTicks > this.ticks;
  }

  private answerRead(req: Message, index: number): void {
    const context = req.context ?? EMPTY;
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index, context, term: this.term });
    } else {
      const r = makeMessage({ type: MessageType.ReadIndexResponse, to: req.from, index });
      r.context = context;
      this.send(r);
    }
  }

  // ---------------------------------------------------------------- leader: transfer

  private handleTransferLeader(target: NodeId): void {
    const c = this.trk.config;
    if (!c.voters.has(target) || c.witnesses.has(target) || c.learners.has(target)) return;
    if (this.leadTransferee !== NONE) {
      if (this.leadTransferee === target) return;
      this.abortLeaderTransfer();
    }
    if (target === this.id) return;
    // The transfer must finish within one election timeout.
    this.electionElapsed = 0;
    this.leadTransferee = target;
    const pr = this.trk.progress.get(target)!;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(target);
  }

  private sendTimeoutNow(to: NodeId): void {
    // The message may be delayed past an aborted transfer and still make `to` campaign.
    this.sentTimeoutNow = true;
    this.send(makeMessage({ type: MessageType.TimeoutNow, to }));
    // A removed leader's successor has everything it has: its job is done. (The successor may not
    // know the removal committed; it then campaigns in the old configuration, where we still vote.)
    if (this.removedFromConfig) this.becomeFollower(this.term, NONE);
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  // ---------------------------------------------------------------- proposals

  propose(datas: Uint8Array[]): number {
    if (this.role !== Role.Leader) throw new NotLeaderError(this.lead);
    if (this.leadTransferee !== NONE) throw errProposalDropped(`leadership is being transferred to node ${this.leadTransferee}`);
    if (this.removedFromConfig) throw errProposalDropped('this leader was removed from the configuration and is handing off');
    const ents = datas.map((data): Entry => ({ term: 0, index: 0, type: EntryType.Normal, data }));
    return this.appendEntries(ents);
  }

  proposeConfChange(cc: ConfChange): number {
    if (this.role !== Role.Leader) throw new NotLeaderError(this.lead);
    if (this.leadTransferee !== NONE) throw errProposalDropped(`leadership is being transferred to node ${this.leadTransferee}`);
    if (this.removedFromConfig) throw errProposalDropped('this leader was removed from the configuration and is handing off');
    if (this.pendingConfIndex > this.log.applied) {
      throw errProposalDropped(`a configuration change at index ${this.pendingConfIndex} is not applied yet`);
    }
    // Validate against the current configuration now: it is the one the change will apply to.
    new Changer(this.trk, this.log.lastIndex()).apply(cc);
    const index = this.appendEntries([{ term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc) }]);
    this.pendingConfIndex = index;
    return index;
  }

  // ---------------------------------------------------------------- applying

  /** Called as the application applies entries up to `index` (bytes of user data applied). */
  appliedTo(index: number, appliedBytes: number): void {
    this.log.appliedTo(index);
    if (this.pendingTimeoutNow && this.role === Role.Follower && !this.hasUnappliedConfChanges()) {
      this.pendingTimeoutNow = false;
      this.hup(true);
    }
    if (this.role === Role.Leader) {
      this.uncommittedSize = Math.max(0, this.uncommittedSize - appliedBytes);
      // Leave an auto-leave joint configuration once everything up to it is applied.
      if (this.trk.config.autoLeave && index >= this.pendingConfIndex) {
        const leave: ConfChange = { transition: ConfChangeTransition.Auto, changes: [] };
        this.pendingConfIndex = this.appendEntries([{ term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(leave) }], true);
      }
    }
  }

  /** Applies a committed membership change; an invalid one is skipped the same way on every node. */
  applyConfChange(cc: ConfChange): ConfState {
    let result: ChangeResult;
    try {
      result = new Changer(this.trk, this.log.lastIndex()).apply(cc);
    } catch (e) {
      if (e instanceof RaftError && e.code === 'conf_change_invalid') return this.confState();
      throw e;
    }
    this.switchToConfig(result);
    return this.confState();
  }

  private switchToConfig(result: ChangeResult): void {
    const wasDataVoter = this.isDataVoter();
    this.trk.config = result.config;
    this.trk.progress = result.progress;
    if (this.isDataVoter()) this.removedVoter = false;
    else if (wasDataVoter) this.removedVoter = true;
    const c = this.trk.config;
    const member = c.voters.has(this.id) || c.learners.has(this.id) || c.learnersNext.has(this.id);
    if (this.role !== Role.Leader) return;
    if (!member || c.learners.has(this.id)) {
      // Keep leading (without counting ourselves) until a remaining voter takes over: stepping
      // down at once can leave the others unable to learn that the change committed, stuck in
      // a configuration whose quorum needs us.
      this.removedFromConfig = true;
      if (this.cfg.stepDownOnRemoval) this.handOffAfterRemoval();
      this.maybeCommit();
      return;
    }
    if (this.leadTransferee !== NONE && !c.voters.has(this.leadTransferee)) this.abortLeaderTransfer();
    // The quorum changed: the commit index may move (flushAppends sends it).
    this.maybeCommit();
  }

  /**
   * A removed (or demoted) leader hands leadership to the most caught-up remaining data voter
   * through a normal transfer: it catches the target up, then sends TimeoutNow. If no voter can
   * take over it steps down. Retried after each election timeout until someone wins.
   */
  private handOffAfterRemoval(): void {
    if (this.leadTransferee !== NONE) return;
    const c = this.trk.config;
    let best: NodeId = NONE;
    let bestMatch = -1;
    this.trk.forEach((id, pr) => {
      if (id === this.id || !c.voters.has(id) || c.witnesses.has(id) || c.learners.has(id)) return;
      if (pr.match > bestMatch) {
        best = id;
        bestMatch = pr.match;
      }
    });
    if (best === NONE) {
      this.becomeFollower(this.term, NONE);
      return;
    }
    this.handleTransferLeader(best);
  }
}

function stripForWitness(e: Entry): Entry {
  if (e.type !== EntryType.Normal || e.data.length === 0) return e;
  return { term: e.term, index: e.index, type: EntryType.Metadata, data: EMPTY };
}
