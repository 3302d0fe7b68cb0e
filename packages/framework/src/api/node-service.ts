import type { HistoryChecksumView } from '../common/history-checksum.js';
import type { NodeId } from '../core/types.js';
import type { AppliedEntry } from '../rsm/applied-entry.js';
import type { GroupSchema } from '../fsm/schema.js';

export type { AppliedEntry } from '../rsm/applied-entry.js';
export type { GroupSchema, OperationSchema, SchemaField } from '../fsm/schema.js';
import type { RequestKey } from '../rsm/request-table.js';

export type Consistency = 'linearizable' | 'lease' | 'local';

export interface CommandOptions {
  /** Exactly-once: the client's id and a sequence that increases per client. */
  clientId?: string;
  sequence?: number;
  /**
   * Without a client id: the internal key that makes the command at-most-once inside the cluster
   * (given by the first node that received it, when it forwarded the command). Absent: a command
   * this node proposes itself, which no node ever sends again.
   */
  request?: RequestKey;
  timeoutMs?: number;
}

export interface CommandOutcome {
  result: unknown;
  /** The raft log index of the command's entry (the same index the watch shows). */
  index: number;
}

export interface QueryOutcome {
  result: unknown;
  /** The applied index the query was served at. */
  index: number;
}

export interface MemberInfo {
  id: NodeId;
  role: 'voter' | 'learner' | 'witness';
  address?: string;
}

/** A member's role in a group. */
export type MemberRole = 'voter' | 'learner' | 'witness';

/** A founding member of a group, as `POST /v1/groups` takes it (role defaults to voter). */
export interface GroupMemberSpec {
  id: NodeId;
  address: string;
  role?: MemberRole;
}

/**
 * One item of a membership change: the role a member should have afterwards. A new member
 * needs its `address`; `removed` takes a member out; voter/learner on an existing member
 * promotes or demotes it.
 */
export interface MembershipChangeItem {
  id: NodeId;
  role: MemberRole | 'removed';
  address?: string;
}

/**
 * How a change is applied: `auto` (default) makes a single voter change directly and anything
 * larger through a joint configuration left automatically; `joint` always goes through a joint
 * configuration left automatically; `explicit` enters the joint configuration and stays in it
 * until a change with no items (leave) is made.
 */
export type MembershipTransition = 'auto' | 'joint' | 'explicit';

export interface GroupInfo {
  group: string;
  type: string;
  role: string;
  term: number;
  leader: NodeId;
  leaderUrl?: string;
  commit: number;
  applied: number;
  firstIndex: number;
  lastIndex: number;
  members: MemberInfo[];
  /** In a joint configuration: the voters of the outgoing configuration (absent otherwise). */
  jointOutgoing?: NodeId[];
  /** Chained checksums of this replica's applied history (absent on a service that keeps none). */
  history?: HistoryChecksumView;
  /** Only for a group of a remote state machine type (`--remote-machine`): how its machine is doing. */
  machine?: object;
}

/**
 * The raft timing a node runs with. Every node of a cluster must run with the same one: leases
 * and quiet groups assume the other nodes time out as this one does.
 */
export interface NodeTiming {
  /** The period of the host's tick timer; the other two are whole numbers of ticks. */
  tickMs: number;
  heartbeatMs: number;
  /** The election timeout's lower bound: a follower campaigns after a silence in [electionMs, 2 x electionMs). */
  electionMs: number;
}

export interface NodeStatus {
  id: NodeId;
  address: string;
  /** Absent on a service that does not know it (e.g. a test double). */
  timing?: NodeTiming;
  groups: GroupInfo[];
}

/** A live subscription to a group's applied entries, starting at `from`. */
export interface WatchSubscription {
  /** Called for every applied entry in index order, without gaps. */
  onEntry: (entry: AppliedEntry) => void;
  /** Called once when the stream ends for a reason (compacted, group removed, node stopping, too slow). */
  onClose: (code: string, message: string, details?: Record<string, unknown>) => void;
}

export interface WatchHandle {
  cancel(): void;
  /**
   * Optional flow control: stop calling `onEntry` (also when called from inside it) until
   * `resume()`. The stream pauses while its socket does not drain, so a backlog is sent at the
   * reader's pace instead of being buffered.
   */
  pause?(): void;
  resume?(): void;
}

/**
 * What the HTTP API (and Nest's RaftService) needs from a node. Errors are RaftkitError with a
 * code (see api/errors.ts) that maps to an HTTP status.
 */
export interface NodeService {
  readonly nodeId: NodeId;
  /** Runs a command through Raft on this node, which must lead the group (else 'not_leader'). */
  command(group: string, name: string, args: unknown, opts?: CommandOptions): Promise<CommandOutcome>;
  /** Serves a query at the given consistency; linearizable/lease need this node to lead (else 'not_leader'). */
  query(group: string, name: string, args: unknown, consistency: Consistency): Promise<QueryOutcome>;
  schema(group: string): GroupSchema;
  status(): NodeStatus;
  /** The leader of a group and its API base URL ("http://host:port"), if known. */
  leaderOf(group: string): { id: NodeId; url?: string } | undefined;
  /**
   * Creates a group on every member (this node forwards the creation to the others) unless
   * `localOnly` (how one member asks another). Creating an existing group of the same type is
   * not an error, so a failed creation can be retried.
   */
  createGroup(group: string, type: string, members: GroupMemberSpec[], opts?: { localOnly?: boolean }): Promise<void>;
  addMember(group: string, id: NodeId, address: string, role: MemberRole): Promise<void>;
  /**
   * Several membership changes as one (through joint consensus when more than one voter
   * changes); an empty list leaves an explicit joint configuration. Resolves once applied (for
   * an automatic joint change: once the joint configuration was left), with the group's members.
   */
  changeMembership(group: string, changes: MembershipChangeItem[], transition?: MembershipTransition): Promise<GroupInfo>;
  removeMember(group: string, id: NodeId): Promise<void>;
  promote(group: string, id: NodeId): Promise<void>;
  demote(group: string, id: NodeId): Promise<void>;
  transferLeader(group: string, to: NodeId): Promise<void>;
  snapshot(group: string): Promise<{ index: number }>;
  /** Throws 'compacted' (with firstIndex) when `from` is below what the log still holds. */
  watch(group: string, from: number, sub: WatchSubscription): WatchHandle;
  /** Prometheus text exposition. */
  metrics(): Promise<string>;
  /** Ready: a member of at least one group with a known leader. */
  ready(): boolean;
  /**
   * Optional: the last index this node applied in a group (throws 'unknown_group'). The HTTP watch
   * uses it for the default `from` (applied + 1); without it the watch reads `status()`.
   */
  appliedIndex?(group: string): number;
  /**
   * Optional: resolves true once this node applied a command entry at `index` or later in the
   * group, false after `timeoutMs` (throws 'unknown_group'). Without it (and appliedIndex), a forwarding node relays answers without the read-your-writes hold.
   */
  whenApplied?(group: string, index: number, timeoutMs: number): Promise<boolean>;
}
