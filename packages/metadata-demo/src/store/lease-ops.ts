// Leases in log time: a lease's clock is the entries' timestamps (the leader's clock carried in
// the log). A grant or keep-alive sets renewedAt to its entry's timestamp; the lease expires only
// through a leaseExpire entry, and then only if its expiry is at or before that entry's
// timestamp, so a keep-alive committed before the expiry entry wins. See the README's "Leases".
import { MetaError } from '../api/meta-error.js';
import type { EntryWriter } from './entry-writer.js';
import { freeIdOfEntry, type EntryStamp } from './ids.js';
import type { MvccStore } from './mvcc-store.js';

/** etcd's MaxLeaseTTL (seconds): a grant above it is refused with lease_ttl_too_large. */
export const MAX_LEASE_TTL = 9_000_000_000;
const LEASE_SALT = 0x6c65617365n; // "lease"

export function grantLease(store: MvccStore, e: EntryWriter, req: { id: bigint; ttl: number }, at: EntryStamp): { revision: number; id: bigint; ttl: number } {
  if (req.ttl > MAX_LEASE_TTL) throw new MetaError('lease_ttl_too_large');
  // The node raises a short TTL to its minimum before proposing; the store's own floor is 1 s.
  const ttl = Math.max(1, Math.floor(req.ttl));
  const id = req.id !== 0n ? req.id : freeIdOfEntry(at, LEASE_SALT, (x) => store.lease(x) !== undefined);
  if (store.lease(id)) throw new MetaError('lease_exists');
  e.leaseInsert(id, ttl, at.timestamp);
  return { revision: store.counters.revision, id, ttl };
}

/** Deletes the lease and its keys; the keys go in one revision (none if it had no keys). */
function revoke(store: MvccStore, e: EntryWriter, id: bigint): void {
  e.revision((w) => {
    for (const key of store.leaseKeys(id)) w.deleteKey(store.get(key)!);
  });
  e.leaseDelete(id);
}

export function revokeLease(store: MvccStore, e: EntryWriter, id: bigint): { revision: number } {
  if (!store.lease(id)) throw new MetaError('lease_not_found');
  revoke(store, e, id);
  return { revision: store.counters.revision };
}

/** A renewal: the lease's clock restarts at the entry's timestamp. ttl 0: no such lease (etcd answers so on the stream). */
export function keepAliveLease(store: MvccStore, e: EntryWriter, id: bigint, now: number): { revision: number; id: bigint; ttl: number } {
  const l = store.lease(id);
  if (!l) return { revision: store.counters.revision, id, ttl: 0 };
  e.leaseRenew(id, l.ttl, now);
  return { revision: store.counters.revision, id, ttl: l.ttl };
}

/**
 * Revokes those of `ids` whose expiry is at or before `now` (the expiry entry's timestamp), each
 * in its own revision as etcd's separate revokes; a lease renewed since the leader chose it, or
 * gone, is left alone. Answers the ids revoked.
 */
export function expireLeases(store: MvccStore, e: EntryWriter, ids: readonly bigint[], now: number): { revision: number; expired: bigint[] } {
  const expired: bigint[] = [];
  for (const id of ids) {
    const l = store.lease(id);
    if (!l || l.expiresAt > now) continue;
    revoke(store, e, id);
    expired.push(id);
  }
  return { revision: store.counters.revision, expired };
}
