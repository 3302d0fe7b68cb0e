import type { NodeId } from '../types.js';

export enum VoteResult {
  Pending = 'pending',
  Lost = 'lost',
  Won = 'won',
}

/**
 * The index that a majority of `voters` has reached. An empty config commits everything
 * (so a joint config with one empty half behaves like its other half).
 */
export function majorityCommitted(voters: ReadonlySet<NodeId>, matchOf: (id: NodeId) => number | undefined): number {
  const n = voters.size;
  if (n === 0) return Number.MAX_SAFE_INTEGER;
  const matches: number[] = [];
  for (const id of voters) matches.push(matchOf(id) ?? 0);
  matches.sort((a, b) => b - a);
  return matches[n >> 1]!;
}

export function majorityVoteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return VoteResult.Won;
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = (voters.size >> 1) + 1;
  if (granted >= q) return VoteResult.Won;
  if (granted + missing >= q) return VoteResult.Pending;
  return VoteResult.Lost;
}

/** True if the ids for which `active` holds form a majority. */
export function majorityActive(voters: ReadonlySet<NodeId>, active: (id: NodeId) => boolean): boolean {
  if (voters.size === 0) return true;
  let n = 0;
  for (const id of voters) if (active(id)) n++;
  return n >= (voters.size >> 1) + 1;
}
