// Ids the store picks itself (a lease granted without one, the cluster id): derived from the
// entry that picks them, so every replica picks the same, and spread like etcd's random ids.
const MASK64 = (1n << 64n) - 1n;
export const MAX_INT63 = (1n << 63n) - 1n;

/** splitmix64's finaliser: a well-mixed 64-bit value of a 64-bit input. */
export function mix64(x: bigint): bigint {
  let z = (x + 0x9e3779b97f4a7c15n) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

export interface EntryStamp {
  index: number;
  term: number;
  timestamp: number;
}

/** A positive int63 from an entry (etcd's lease ids are positive int64s). */
export function idOfEntry(e: EntryStamp, salt: bigint): bigint {
  const id = mix64(mix64(BigInt(e.index) ^ salt) ^ (BigInt(e.term) << 32n) ^ BigInt(e.timestamp)) & MAX_INT63;
  return id === 0n ? 1n : id;
}

/** The entry's id, or the next free one after it. */
export function freeIdOfEntry(e: EntryStamp, salt: bigint, taken: (id: bigint) => boolean): bigint {
  let id = idOfEntry(e, salt);
  while (taken(id)) id = id === MAX_INT63 ? 1n : id + 1n;
  return id;
}
