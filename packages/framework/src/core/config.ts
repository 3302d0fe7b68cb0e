import { RaftError } from './errors.js';
import type { Storage } from './storage.js';
import { ReadOnlyOption, type Message, type NodeId } from './types.js';
import { isNodeId } from './node-id.js';

export interface RaftConfig {
  /** This node's id (> 0). */
  id: NodeId;
  /** Ticks without hearing from a leader before a follower campaigns; randomized in [electionTick, 2*electionTick). */
  electionTick: number;
  /** Ticks between leader heartbeats. Must be < electionTick. */
  heartbeatTick: number;
  storage: Storage;
  /** The last index already applied to the state machine (on restart; 0 for a new node). */
  applied?: number;
  /** Max bytes of entry data per Append message (at least one entry is always sent). */
  maxSizePerMsg?: number;
  /** Max bytes of committed entries handed out in one Ready. */
  maxCommittedSizePerReady?: number;
  /** Max bytes of uncommitted proposals the leader accepts before dropping new ones (0 = no limit). */
  maxUncommittedEntriesSize?: number;
  /** Max Append messages in flight to one follower in the replicate state. */
  maxInflightMsgs?: number;
  /** Max bytes of entries in flight to one follower (0 = no limit). */
  maxInflightBytes?: number;
  /** A leader that has not heard from a quorum for an election timeout steps down. */
  checkQuorum?: boolean;
  /** Run a pre-vote round so a rejoining partitioned node cannot disrupt the cluster. */
  preVote?: boolean;
  readOnlyOption?: ReadOnlyOption;
  /**
   * Lease length in ticks for lease reads. Must be below electionTick: followers promise not to
   * vote for another candidate for electionTick ticks after hearing from the leader, and the
   * lease counts from when the leader *sent* the heartbeat, so clock-rate drift between nodes
   * must stay within electionTick - leaseTicks.
   */
  leaseTicks?: number;
  /** Seeded random source in [0, 1) for election jitter. The core never calls Math.random. */
  random: () => number;
  /** A leader removed from the configuration steps down (default true). */
  stepDownOnRemoval?: boolean;
  /**
   * TEST ONLY: disables one safety rule so the simulator can prove that its checker catches
   * the resulting violations. Never set it outside tests.
   */
  testingMutation?: SafetyMutation;
  /**
   * Called with each message from a peer that is dropped because what it claims does not fit
   * what this node knows (core/message-check.ts): a sender that is not a member, an index beyond
   * the leader's log, a relayed request, ... The host counts and logs them.
   */
  onDroppedMessage?: (m: Message, reason: string) => void;
}

export type SafetyMutation = 'none' | 'commit-previous-term' | 'vote-ignores-log';

export type ResolvedRaftConfig = Required<RaftConfig>;

export function resolveConfig(c: RaftConfig): ResolvedRaftConfig {
  const r: ResolvedRaftConfig = {
    applied: 0,
    maxSizePerMsg: 1 << 20,
    maxCommittedSizePerReady: 8 << 20,
    maxUncommittedEntriesSize: 0,
    maxInflightMsgs: 256,
    maxInflightBytes: 0,
    checkQuorum: true,
    preVote: true,
    readOnlyOption: ReadOnlyOption.Safe,
    leaseTicks: Math.max(1, c.electionTick - 2),
    stepDownOnRemoval: true,
    testingMutation: 'none',
    onDroppedMessage: () => {},
    ...c,
  };
  const bad = (msg: string) => new RaftError('config_invalid', msg);
  if (!isNodeId(r.id)) throw bad(`id must be a positive integer, got ${r.id}`);
  if (!Number.isInteger(r.heartbeatTick) || r.heartbeatTick <= 0) throw bad('heartbeatTick must be a positive integer');
  if (!Number.isInteger(r.electionTick) || r.electionTick <= r.heartbeatTick) {
    throw bad('electionTick must be an integer greater than heartbeatTick');
  }
  if (r.maxInflightMsgs <= 0) throw bad('maxInflightMsgs must be positive');
  if (r.maxInflightBytes !== 0 && r.maxInflightBytes < r.maxSizePerMsg) {
    throw bad('maxInflightBytes must be 0 (no limit) or at least maxSizePerMsg');
  }
  if (r.readOnlyOption === ReadOnlyOption.LeaseBased) {
    if (!r.checkQuorum) throw bad('lease reads need checkQuorum');
    if (!(r.leaseTicks > 0 && r.leaseTicks < r.electionTick)) throw bad('leaseTicks must be in (0, electionTick)');
  }
  if (typeof r.random !== 'function') throw bad('random must be a function returning [0, 1)');
  return r;
}
