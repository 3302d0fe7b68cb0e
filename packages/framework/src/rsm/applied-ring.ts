import type { AppliedEntry } from './applied-entry.js';

/**
 * The last N applied entries, so a watch can resume from a recent index without reading the log.
 * Invariant: the ring holds every applied command entry with index >= `coveredFrom`, in index order.
 */
export class AppliedRing {
  private readonly buf: (AppliedEntry | undefined)[];
  private head = 0;
  private count = 0;
  /** The lowest index the ring can answer from (entries below it were evicted or never seen). */
  coveredFrom: number;

  constructor(
    readonly capacity: number,
    coveredFrom = 0,
  ) {
    this.buf = new Array<AppliedEntry | undefined>(capacity);
    this.coveredFrom = coveredFrom;
  }

  get size(): number {
    return this.count;
  }

  push(e: AppliedEntry): void {
    if (this.capacity === 0) {
      this.coveredFrom = e.index + 1;
      return;
    }
    if (this.count === this.capacity) {
      const evicted = this.buf[this.head]!;
      this.coveredFrom = evicted.index + 1;
      this.buf[this.head] = e;
      this.head = (this.head + 1) % this.capacity;
      return;
    }
    this.buf[(this.head + this.count) % this.capacity] = e;
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
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).index < from) lo = mid + 1;
      else hi = mid;
    }
    const out: AppliedEntry[] = [];
    for (let i = lo; i < this.count; i++) out.push(this.at(i));
    return out;
  }
}
