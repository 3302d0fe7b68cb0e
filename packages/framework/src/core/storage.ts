import type { ConfState, Entry, HardState, Snapshot } from './types.js';

/**
 * The stable log as the core reads it. Reads are synchronous: the host keeps whatever the core
 * may ask for in memory (or in a cache in front of the durable store).
 *
 * Contract: entries [firstIndex(), lastIndex()] are readable; term(firstIndex() - 1) is the
 * snapshot's term; anything below throws a 'compacted' RaftError, anything above lastIndex()
 * throws 'unavailable'.
 */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at most maxSize bytes of data but always at least one entry. */
  entries(lo: number, hi: number, maxSize: number): Entry[];
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  /** The most recent snapshot. May throw 'snapshot_temporarily_unavailable'. */
  snapshot(): Snapshot;
}
