// Lease numbers as etcd computes them.

/**
 * etcd's minimum TTL: 1.5 election timeouts, rounded up to whole seconds. A shorter lease could
 * expire during an election, before its holder had any chance to reach the new leader.
 */
export function minLeaseTtl(electionMs: number): number {
  return Math.max(1, Math.ceil((1.5 * electionMs) / 1000));
}

/** The TTL a grant gets: at least the minimum (etcd raises it silently). */
export function grantedTtl(requested: number, electionMs: number): number {
  return Math.max(requested, minLeaseTtl(electionMs));
}

/**
 * Seconds left before `expiresAt` by `now`, as etcd answers TimeToLive: whole seconds,
 * truncated (etcd's int64(Remaining().Seconds())), never below 0 for a lease that still exists.
 */
export function remainingSeconds(expiresAt: number, now: number): number {
  return Math.max(0, Math.trunc((expiresAt - now) / 1000));
}
