import type { NodeId } from '../types.js';
import { majorityActive, majorityCommitted, majorityVoteResult, VoteResult } from './majority.js';

/**
 * A possibly-joint voter configuration: decisions need a majority of `incoming` and, while
 * joint, of `outgoing` too.
 */
export class JointConfig {
  constructor(
    readonly incoming: ReadonlySet<NodeId>,
    readonly outgoing: ReadonlySet<NodeId>,
  ) {}

  get joint(): boolean {
    return this.outgoing.size > 0;
  }

  ids(): Set<NodeId> {
    return new Set([...this.incoming, ...this.outgoing]);
  }

  has(id: NodeId): boolean {
    return this.incoming.has(id) || this.outgoing.has(id);
  }

  committedIndex(matchOf: (id: NodeId) => number | undefined): number {
    const a = majorityCommitted(this.incoming, matchOf);
    const b = majorityCommitted(this.outgoing, matchOf);
    return Math.min(a, b);
  }

  voteResult(votes: ReadonlyMap<NodeId, boolean>): VoteResult {
    const a = majorityVoteResult(this.incoming, votes);
    const b = majorityVoteResult(this.outgoing, votes);
    if (a === b) return a;
    if (a === VoteResult.Lost || b === VoteResult.Lost) return VoteResult.Lost;
    return VoteResult.Pending;
  }

  quorumActive(active: (id: NodeId) => boolean): boolean {
    return majorityActive(this.incoming, active) && majorityActive(this.outgoing, active);
  }
}
