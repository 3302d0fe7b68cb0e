// The last revisions a node applied, kept in memory for watches that fell behind. A watch whose
// stream was full catches up from where it stopped; reading those pages from SQLite for each of
// hundreds of watches on the same keys was most of a node's work under bench:meta's fan-out
// (each watch read and decoded the same rows). From here, the events are the very objects live
// watches got, so their wire form is made once too. Bounded by revisions and bytes; a watch
// further behind reads the history table as before.
import type { RevisionChanges } from '../store/store-types.js';
import type { PageLimits } from '../store/mvcc-store.js';

const EVENT_OVERHEAD = 64;

function sizeOf(c: RevisionChanges): number {
  let n = 0;
  for (const e of c.events) n += EVENT_OVERHEAD + e.kv.key.length + e.kv.value.length + (e.prevKv ? e.prevKv.key.length + e.prevKv.value.length : 0);
  return n;
}

export class RecentHistory {
  /** Consecutive revisions, oldest first, from `start`. */
  private revisions: RevisionChanges[] = [];
  private sizes: number[] = [];
  private start = 0;
  private bytes = 0;

  constructor(
    private readonly maxRevisions: number,
    private readonly maxBytes: number,
  ) {}

  get oldest(): number | undefined {
    return this.revisions[this.start]?.revision;
  }

  get newest(): number | undefined {
    return this.revisions.length > this.start ? this.revisions[this.revisions.length - 1]!.revision : undefined;
  }

  /** Adds the revision just applied (one after the newest held; otherwise it starts over from it). */
  push(c: RevisionChanges): void {
    const newest = this.newest;
    if (newest !== undefined && c.revision !== newest + 1) this.clear();
    const size = sizeOf(c);
    this.revisions.push(c);
    this.sizes.push(size);
    this.bytes += size;
    while (this.revisions.length - this.start > this.maxRevisions || (this.bytes > this.maxBytes && this.revisions.length - this.start > 1)) {
      this.bytes -= this.sizes[this.start]!;
      this.start++;
    }
    // Drop the evicted slots now and then, not on every push.
    if (this.start > 1024 && this.start * 2 > this.revisions.length) {
      this.revisions = this.revisions.slice(this.start);
      this.sizes = this.sizes.slice(this.start);
      this.start = 0;
    }
  }

  /** Forgets everything (the state was replaced by a snapshot, or history was compacted under it). */
  clear(): void {
    this.revisions = [];
    this.sizes = [];
    this.start = 0;
    this.bytes = 0;
  }

  /** Whether every revision from `from` to `to` is held. */
  covers(from: number, to: number): boolean {
    const oldest = this.oldest;
    const newest = this.newest;
    return oldest !== undefined && newest !== undefined && from >= oldest && to <= newest && from <= to;
  }

  /**
   * Revisions from `from` (covered) up to `to`, as one page of a catch-up: it stops after
   * `limits` (counting events and bytes) but always ends with a whole revision. `through` is the
   * last revision the page covers.
   */
  page(from: number, to: number, limits: PageLimits): { changes: RevisionChanges[]; through: number } {
    const changes: RevisionChanges[] = [];
    let events = 0;
    let bytes = 0;
    let i = this.start + (from - this.oldest!);
    let through = from - 1;
    for (; i < this.revisions.length; i++) {
      const c = this.revisions[i]!;
      if (c.revision > to) break;
      changes.push(c);
      through = c.revision;
      events += c.events.length;
      bytes += this.sizes[i]!;
      if (events >= limits.maxEvents || bytes >= limits.maxBytes) break;
    }
    return { changes, through };
  }
}
