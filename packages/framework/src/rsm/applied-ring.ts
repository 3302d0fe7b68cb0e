import type { AppliedEntry } from './applied-entry.js';

/**
 * The last N applied entries, so a watch can resume from a recent index without reading the log.
 * Invariant: the ring holds every applied command entry with index >= `coveredFrom`, in index order.
 */
export class AppliedRing {
  private readonly buf: (AppliedEntry | undefined)[];
  /** Roughly the JSON bytes of each held entry, in the same slots as `buf`. */
  private readonly bytes: Float64Array;
  private head = 0;
  private count = 0;
  /** The lowest index the ring can answer from (entries below it were evicted or never seen). */
  coveredFrom: number;

  constructor(
    readonly capacity: number,
    coveredFrom = 0,
  ) {
    this.buf = new Array<AppliedEntry | undefined>(capacity);
    this.bytes = new Float64Array(capacity);
    this.coveredFrom = coveredFrom;
  }

  get size(): number {
    return this.count;
  }

  /** Adds the next applied entry; `bytes` is roughly the size of its JSON. */
  push(e: AppliedEntry, bytes: number): void {
    if (this.capacity === 0) {
      this.coveredFrom = e.index + 1;
      return;
    }
    if (this.count === this.capacity) {
      const evicted = this.buf[this.head]!;
      this.coveredFrom = evicted.index + 1;
      this.buf[this.head] = e;
      this.bytes[this.head] = bytes;
      this.head = (this.head + 1) % this.capacity;
      return;
    }
    const slot = (this.head + this.count) % this.capacity;
    this.buf[slot] = e;
    this.bytes[slot] = bytes;
    this.count++;
  }

  /** Forgets everything; the ring answers from `coveredFrom` on (after a snapshot was restored). */
  reset(coveredFrom: number): void {
    this.buf.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.coveredFrom = coveredFrom;
  }

  private at(i: number): AppliedEntry {
    return this.buf[(this.head + i) % this.capacity]!;
  }

  /** The entries with index >= from, or undefined when some of them are no longer held. */
  from(from: number): AppliedEntry[] | undefined {
    if (from < this.coveredFrom) return undefined;
    const out: AppliedEntry[] = [];
    for (let i = this.position(from); i < this.count; i++) out.push(this.at(i));
    return out;
  }

  /**
   * The newest held entries with index >= from whose sizes add up to at most `maxBytes`, and the
   * index from which they are complete.
   */
  newest(from: number, maxBytes: number): { from: number; entries: AppliedEntry[] } {
    from = Math.max(from, this.coveredFrom);
    const first = this.position(from);
    let oldest = this.count;
    let total = 0;
    while (oldest > first) {
      total += this.bytes[(this.head + oldest - 1) % this.capacity]!;
      if (total > maxBytes) {
        from = this.at(oldest - 1).index + 1;
        break;
      }
      oldest--;
    }
    const entries: AppliedEntry[] = [];
    for (let i = oldest; i < this.count; i++) entries.push(this.at(i));
    return { from, entries };
  }

  /** The position of the first held entry with index >= from. */
  private position(from: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).index < from) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
