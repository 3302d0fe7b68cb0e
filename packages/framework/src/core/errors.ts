// The core's error sentinels. Each has a stable code so callers (and the HTTP layer) can map
// it without string matching.

export type RaftErrorCode =
  | 'not_leader'
  | 'proposal_dropped'
  | 'compacted'
  | 'unavailable'
  | 'snapshot_out_of_date'
  | 'snapshot_temporarily_unavailable'
  | 'config_invalid'
  | 'conf_change_invalid'
  | 'step_local_message'
  | 'step_peer_not_found';

export class RaftError extends Error {
  constructor(
    readonly code: RaftErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RaftError';
  }
}

/** A proposal on a node that is not the leader. `leader` is the known leader (0 if none). */
export class NotLeaderError extends RaftError {
  constructor(readonly leader: number) {
    super('not_leader', leader ? `not the leader; the leader is node ${leader}` : 'not the leader; no leader is known');
    this.name = 'NotLeaderError';
  }
}

export const errCompacted = (index: number): RaftError => new RaftError('compacted', `log entry ${index} was compacted into a snapshot`);
export const errUnavailable = (index: number): RaftError => new RaftError('unavailable', `log entry ${index} is not available yet`);
export const errProposalDropped = (why: string): RaftError => new RaftError('proposal_dropped', `proposal dropped: ${why}`);

/** A broken invariant: the core stops at once rather than continue with corrupt state. */
export function invariant(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(`raft invariant violated: ${what}`);
}
