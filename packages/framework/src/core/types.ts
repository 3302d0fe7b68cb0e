// Plain data types shared by every part of the Raft core. Nothing here does I/O; every
// value is a plain object so the host can serialise it and the simulator can clone it.

/** A node id: a positive integer, unique in a group. 0 means "nobody". */
export type NodeId = number;
export const NONE: NodeId = 0;

export enum EntryType {
  /** A user proposal (or the leader's empty no-op when data is empty). */
  Normal = 0,
  /** A membership change; data is an encoded ConfChange (see confchange/codec.ts). */
  ConfChange = 1,
  /**
   * A Normal entry whose payload was stripped for a witness: it keeps term and index so the
   * witness can vote and count towards commit, but it never holds the data.
   */
  Metadata = 2,
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: NONE, commit: 0 });

/**
 * A membership configuration. In a joint configuration `votersOutgoing` is non-empty and
 * decisions need a majority of both `voters` and `votersOutgoing`.
 * Invariants: voters ∩ learners = ∅; learnersNext ⊆ votersOutgoing (they become learners on
 * leaving the joint state); witnesses ⊆ voters ∪ votersOutgoing.
 */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
  votersOutgoing: NodeId[];
  learnersNext: NodeId[];
  witnesses: NodeId[];
  /** Leave the joint configuration automatically once it is applied. */
  autoLeave: boolean;
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
  /**
   * Carried for the host, never read by the core: the chained checksums of the history applied
   * up to `index` (common/history-checksum.ts), so that a replica restored from this snapshot
   * continues the chain instead of starting a new one. Absent in snapshots made without it.
   */
  history?: SnapshotHistory;
}

/** The applied history's chained checksums at a snapshot's index; `from` is where the chain starts. */
export interface SnapshotHistory {
  from: number;
  /** Unsigned 32-bit values. */
  termChecksum: number;
  dataChecksum: number;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  /** The application's state at metadata.index; empty for a witness. */
  data: Uint8Array;
  /**
   * Set by the host, never read by the core: the data is not in memory but already stored in
   * the host's snapshot files under metadata.index and term (a large snapshot streamed to disk).
   */
  stored?: boolean;
}

export enum MessageType {
  // Local messages: never sent over the network.
  Hup = 0,
  Beat = 1,
  Propose = 2,
  CheckQuorum = 3,
  Unreachable = 4,
  SnapshotStatus = 5,
  // Network messages.
  Append = 10,
  AppendResponse = 11,
  Vote = 12,
  VoteResponse = 13,
  PreVote = 14,
  PreVoteResponse = 15,
  Snapshot = 16,
  Heartbeat = 17,
  HeartbeatResponse = 18,
  TransferLeader = 19,
  TimeoutNow = 20,
  ReadIndex = 21,
  ReadIndexResponse = 22,
}

/**
 * One message. Fields unused by a type are left at their zero value; `entries` is always an
 * array (empty when unused) so that encoders need no branches.
 */
export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  /**
   * Append: term of the entry at `index`; Vote: term of the candidate's last entry; reject: hint
   * term; VoteResponse / PreVoteResponse: term of the entry at `commit`.
   */
  logTerm: number;
  /** Append: index preceding `entries`; Vote: candidate's last index; AppendResponse: matched index. */
  index: number;
  entries: Entry[];
  /**
   * Append / Heartbeat: the leader's commit index (for a heartbeat, capped at the follower's
   * match); VoteResponse / PreVoteResponse: an index the voter knows committed, capped at the
   * candidate's last index (0: none), which the candidate adopts if its log has it with the same term.
   */
  commit: number;
  reject: boolean;
  /** AppendResponse reject: the follower's hint for where the leader should probe next. */
  rejectHint: number;
  snapshot?: Snapshot;
  /** ReadIndex / Heartbeat: opaque request context (read id), echoed in the response. */
  context?: Uint8Array;
  /** Heartbeat: the leader's tick when it sent it, echoed back to extend the lease. */
  leaseTick?: number;
  /** Vote / PreVote caused by a leadership transfer: bypasses leader stickiness. */
  transfer?: boolean;
  /** Local ReadIndex only: may be answered from the leader's lease (never sent over the network). */
  lease?: boolean;
}

export enum Role {
  Follower = 'follower',
  PreCandidate = 'pre-candidate',
  Candidate = 'candidate',
  Leader = 'leader',
}

export interface SoftState {
  lead: NodeId;
  role: Role;
}

/** A linearizable read that may be served once the local applied index reaches `index`. */
export interface ReadState {
  index: number;
  context: Uint8Array;
  /** The term of the leader that confirmed the index: a read created at a later term ignores it. */
  term: number;
}

export enum ReadOnlyOption {
  /** ReadIndex: confirm leadership with a heartbeat round before serving. */
  Safe = 'safe',
  /** Lease: serve if a quorum acknowledged a heartbeat within the lease; else fall back to Safe. */
  LeaseBased = 'lease',
}

/**
 * What the host must do, in order: persist `hardState`, `entries` and `snapshot` (durably),
 * then send `messages`, then apply `snapshot` and `committedEntries` to the state machine,
 * serve `readStates`, and call `advance(ready)`.
 */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  /** Entries to append to stable storage (they may overwrite a conflicting tail). */
  entries: Entry[];
  /** A snapshot received from the leader: persist it, then restore the state machine from it. */
  snapshot?: Snapshot;
  /** Entries known to be committed and not yet handed out, in index order. */
  committedEntries: Entry[];
  messages: Message[];
  readStates: ReadState[];
  /** True if hardState or entries changed such that an fsync is needed before sending. */
  mustSync: boolean;
}

export enum ProgressState {
  Probe = 'probe',
  Replicate = 'replicate',
  Snapshot = 'snapshot',
}

/** A read-only view of one peer's replication state, for status pages. */
export interface ProgressStatus {
  id: NodeId;
  match: number;
  next: number;
  state: ProgressState;
  learner: boolean;
  witness: boolean;
  recentActive: boolean;
  inflight: number;
}

export interface Status {
  id: NodeId;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  leadTransferee: NodeId;
  confState: ConfState;
  /** Only on the leader. */
  progress: ProgressStatus[];
}
