import { JointConfig } from '../quorum/joint.js';
import { type VoteResult } from '../quorum/majority.js';
import type { ConfState, NodeId } from '../types.js';
import { Progress } from './progress.js';

/** A membership configuration as the tracker uses it (sets instead of arrays). */
export interface TrackerConfig {
  voters: JointConfig;
  learners: Set<NodeId>;
  /** Outgoing voters that become learners when the joint configuration is left. */
  learnersNext: Set<NodeId>;
  witnesses: Set<NodeId>;
  autoLeave: boolean;
}

export function emptyTrackerConfig(): TrackerConfig {
  return { voters: new JointConfig(new Set(), new Set()), learners: new Set(), learnersNext: new Set(), witnesses: new Set(), autoLeave: false };
}

export function toConfState(c: TrackerConfig): ConfState {
  const sorted = (s: Iterable<NodeId>) => [...s].sort((a, b) => a - b);
  return {
    voters: sorted(c.voters.incoming),
    votersOutgoing: sorted(c.voters.outgoing),
    learners: sorted(c.learners),
    learnersNext: sorted(c.learnersNext),
    witnesses: sorted(c.witnesses),
    autoLeave: c.autoLeave,
  };
}

/** The configuration, every member's Progress and the votes of the current election. */
export class ProgressTracker {
  config: TrackerConfig = emptyTrackerConfig();
  progress = new Map<NodeId, Progress>();
  votes = new Map<NodeId, boolean>();

  constructor(
    readonly maxInflight: number,
    readonly maxInflightBytes: number,
  ) {}

  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && !this.config.voters.joint;
  }

  isVoter(id: NodeId): boolean {
    return this.config.voters.has(id);
  }

  committed(): number {
    return this.config.voters.committedIndex((id) => this.progress.get(id)?.match);
  }

  /** True if a quorum was heard from recently (check-quorum). `self` always counts. */
  quorumActive(self: NodeId): boolean {
    return this.config.voters.quorumActive((id) => id === self || this.progress.get(id)?.recentActive === true);
  }

  /** The latest tick that a quorum has acknowledged as a lease start, or -1. */
  quorumLeaseTick(self: NodeId, now: number): number {
    return this.config.voters.committedIndex((id) => (id === self ? now : (this.progress.get(id)?.leaseAckTick ?? -1)));
  }

  forEach(f: (id: NodeId, pr: Progress) => void): void {
    for (const [id, pr] of this.progress) f(id, pr);
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.config.voters.ids()) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return { granted, rejected, result: this.config.voters.voteResult(this.votes) };
  }

  newProgress(next: number, learner: boolean, witness: boolean): Progress {
    return new Progress(next, this.maxInflight, this.maxInflightBytes, learner, witness);
  }
}
