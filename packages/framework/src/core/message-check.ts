// What a message from a peer claims, checked against what this node knows before it may change
// any state. Raft trusts its members, but a node must not let one bad message (a forged reply, a
// message from a node that is not a member, a relayed request) stall a replica or a group: a
// message that fails here is dropped whole and reported through RaftConfig.onDroppedMessage.
// Pure: the view is what the Raft knows now.
import { isSnapshotHistory } from './snapshot-history.js';
import { MessageType, NONE, Role, type Message, type NodeId } from './types.js';

/** What the check needs to know about the receiving node. */
export interface MessageCheckView {
  readonly id: NodeId;
  readonly term: number;
  readonly lead: NodeId;
  readonly role: Role;
  /** Its last log index, and its tick counter (the clock of heartbeat lease ticks). */
  readonly lastIndex: number;
  readonly ticks: number;
  /** Its commit index and the term of that entry (0 when unknown): every later leader's log holds that entry. */
  readonly committed: number;
  readonly committedTerm: number;
  /** It leads, or heard from its leader within an election timeout: no other leader is taken from a non-member. */
  readonly leaderAlive: boolean;
  /** Whether `id` is a voter, learner or witness in its configuration (joint halves included). */
  isMember(id: NodeId): boolean;
}

const LOCAL_ONLY = new Set([MessageType.Hup, MessageType.Beat, MessageType.Propose, MessageType.CheckQuorum, MessageType.Unreachable, MessageType.SnapshotStatus]);
const FROM_A_LEADER = new Set([MessageType.Append, MessageType.Heartbeat, MessageType.Snapshot]);

const count = (n: unknown): boolean => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** Why `m`, received from the network, must be dropped; undefined when it may be stepped. */
export function peerMessageProblem(v: MessageCheckView, m: Message): string | undefined {
  const type = MessageType[m.type] ?? String(m.type);
  if (LOCAL_ONLY.has(m.type)) return `${type} is a local message and never comes from a peer`;
  if (!count(m.from) || m.from === NONE) return `sender ${String(m.from)} is not a node id`;
  if (m.from === v.id) return `a ${type} claiming to come from this node itself`;
  if (m.to !== v.id) return `a ${type} addressed to node ${m.to}, not this node`;
  for (const f of ['term', 'index', 'logTerm', 'commit', 'rejectHint'] as const) {
    if (!count(m[f])) return `${type}.${f} is not a non-negative integer`;
  }
  if (!v.isMember(m.from) && m.from !== v.lead && v.isMember(v.id)) {
    // This node may lag behind a configuration that added the sender: once its own leader is
    // silent for an election timeout, a leader's message of a term whose leader this node does
    // not know yet is taken, and so is a campaign (the term, lease and log rules decide on it), are taken from
    // anyone; so is everything while this node does not know itself as a member yet (it is
    // joining and waits for the leader's log or snapshot), and from the leader it follows.
    // Replies, reads, transfers and
    // anything of a known term from a non-member are not.
    const leaderOfANewTerm = FROM_A_LEADER.has(m.type) && !v.leaderAlive && (m.term > v.term || (m.term === v.term && v.lead === NONE));
    // A campaign flagged as a leadership transfer skips the receivers' leader lease, and a leader
    // only hands over to a member it knows: from a non-member it could only depose a live leader.
    const campaign = (m.type === MessageType.Vote || m.type === MessageType.PreVote) && m.transfer !== true;
    const mayBeNewer = leaderOfANewTerm || campaign;
    if (!mayBeNewer) return `node ${m.from} is not a member of this group`;
  }
  if (FROM_A_LEADER.has(m.type) && m.term === v.term) {
    if (v.role === Role.Leader) return `node ${m.from} sent a ${type} of term ${m.term}, which this node leads`;
    if (v.lead !== NONE && v.lead !== m.from) return `node ${m.from} sent a ${type} of term ${m.term}, whose leader is node ${v.lead}`;
  }
  switch (m.type) {
    case MessageType.Append: {
      if (m.logTerm > m.term) return `Append: the previous entry's term ${m.logTerm} is after the message's term ${m.term}`;
      // Terms never decrease along a log, and a leader's log holds every committed entry.
      if (m.index >= v.committed && m.logTerm < v.committedTerm)
        return `Append: term ${m.logTerm} at index ${m.index} is before the term ${v.committedTerm} of committed entry ${v.committed}`;
      let prevTerm = m.logTerm;
      for (let i = 0; i < m.entries.length; i++) {
        const e = m.entries[i]!;
        if (e.index !== m.index + 1 + i) return `Append: entry ${i} has index ${e.index}, expected ${m.index + 1 + i}`;
        if (e.term < prevTerm || e.term > m.term) return `Append: entry ${e.index} has term ${e.term}, outside [${prevTerm}, ${m.term}]`;
        if (e.index > v.committed && e.term < v.committedTerm)
          return `Append: entry ${e.index} has term ${e.term}, before the term ${v.committedTerm} of committed entry ${v.committed}`;
        prevTerm = e.term;
      }
      return undefined;
    }
    case MessageType.Heartbeat:
      // A leader caps a heartbeat's commit at what the follower holds.
      if (m.commit > v.lastIndex) return `Heartbeat: commit ${m.commit} is beyond this node's last index ${v.lastIndex}`;
      return undefined;
    case MessageType.Snapshot: {
      const md = m.snapshot?.metadata;
      if (!md) return 'Snapshot without a snapshot';
      if (!count(md.index) || md.index < 1 || !count(md.term) || md.term < 1) return `Snapshot: bad metadata index ${md.index} term ${md.term}`;
      if (md.term > m.term) return `Snapshot: its term ${md.term} is after the message's term ${m.term}`;
      if (md.index >= v.committed && md.term < v.committedTerm) return `Snapshot: ${md.index}@${md.term} is before the term ${v.committedTerm} of committed entry ${v.committed}`;
      if (md.history !== undefined && !isSnapshotHistory(md.history, md.index)) {
        return `Snapshot: its history checksums must start at or before its index ${md.index} and be unsigned 32-bit values`;
      }
      const cs = md.confState;
      if (!cs || !Array.isArray(cs.voters) || cs.voters.length === 0) return 'Snapshot: its configuration has no voters';
      for (const id of [...cs.voters, ...(cs.learners ?? []), ...(cs.votersOutgoing ?? []), ...(cs.learnersNext ?? []), ...(cs.witnesses ?? [])]) {
        if (!count(id) || id === NONE) return `Snapshot: configuration member ${String(id)} is not a node id`;
      }
      return undefined;
    }
    case MessageType.AppendResponse:
      if (v.role !== Role.Leader || m.term !== v.term) return undefined;
      if (m.index > v.lastIndex) return `AppendResponse: node ${m.from} claims index ${m.index}, beyond this leader's last index ${v.lastIndex}`;
      if (m.reject && m.rejectHint > v.lastIndex) return `AppendResponse: reject hint ${m.rejectHint} is beyond this leader's last index ${v.lastIndex}`;
      if (m.logTerm > m.term) return `AppendResponse: hint term ${m.logTerm} is after the message's term ${m.term}`;
      return undefined;
    case MessageType.HeartbeatResponse:
      if (v.role === Role.Leader && m.leaseTick !== undefined && (!count(m.leaseTick) || m.leaseTick > v.ticks)) {
        return `HeartbeatResponse: lease tick ${m.leaseTick} is ahead of this leader's clock ${v.ticks}`;
      }
      return undefined;
    case MessageType.Vote:
    case MessageType.PreVote:
      if (m.logTerm > m.term) return `${type}: the candidate's last term ${m.logTerm} is after the term it asks for ${m.term}`;
      return undefined;
    case MessageType.VoteResponse:
    case MessageType.PreVoteResponse:
      if (m.logTerm > m.term) return `${type}: the commit hint's term ${m.logTerm} is after the message's term ${m.term}`;
      return undefined;
    case MessageType.TimeoutNow:
      // (A node that has not heard from its leader since it started knows none yet.)
      if (m.from !== v.lead && !(v.lead === NONE && m.term >= v.term)) return `TimeoutNow from node ${m.from}, which is not this node's leader (${v.lead})`;
      return undefined;
    case MessageType.ReadIndex:
    case MessageType.TransferLeader:
      // Only a leader serves these from a peer; a follower never relays another node's request
      // (the relay would carry that node's identity over its own link).
      if (v.role !== Role.Leader) return `a ${type} from node ${m.from} reached a non-leader; it is not relayed`;
      // A read is matched to its answer by its context: one without is nobody's read.
      if (m.type === MessageType.ReadIndex && !(m.context instanceof Uint8Array)) return `ReadIndex from node ${m.from} without a read context`;
      return undefined;
    case MessageType.ReadIndexResponse:
      if (m.from !== v.lead) return `ReadIndexResponse from node ${m.from}, which is not this node's leader (${v.lead})`;
      return undefined;
    default:
      return undefined;
  }
}
