// raftkit's errors as etcd's: what the node answers when the log or a leader fails it.
import { RaftkitError } from '@raftkit/framework';
import { MetaError } from '../api/meta-error.js';

/**
 * - no leader (an election, a joining node without the group yet) → `no_leader`, nothing was proposed;
 * - a deadline, or a command whose fate is unknown (the leader lost, a forward broken after
 *   sending) → `timeout` (etcd's "request timed out": the write may or may not be applied);
 * - bad arguments → `invalid_argument` with the reason; anything else → `internal`.
 */
export function metaErrorOf(e: unknown): MetaError {
  if (e instanceof MetaError) return e;
  if (e instanceof RaftkitError) {
    switch (e.code) {
      case 'timeout':
        return new MetaError('timeout');
      case 'unavailable':
        return e.details['outcome'] === 'unknown' ? new MetaError('timeout') : new MetaError('no_leader');
      case 'not_leader':
      case 'unknown_group':
        return new MetaError('no_leader');
      case 'bad_request':
        return new MetaError('invalid_argument', `etcdserver: ${e.message}`);
      default:
        return new MetaError('internal', `etcdserver: ${e.message}`);
    }
  }
  return new MetaError('internal', `etcdserver: ${(e as Error)?.message ?? String(e)}`);
}

/** etcd's answer to a client that went away or gave up. */
export function canceledOrTimeout(signal: AbortSignal | undefined): MetaError {
  return signal?.aborted ? new MetaError('canceled') : new MetaError('timeout');
}
