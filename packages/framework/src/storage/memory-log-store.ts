// A LogStore kept in memory, for tests: the same validation and the same semantics as
// SqliteLogStore (conflicting-tail truncation, snapshots, compaction, membership, remove), with
// nothing on disk. close() then open() again recovers what was written, like a restart; every
// payload is copied in and out, so callers can't alias what the store "persisted".
import { cloneConfState, emptyConfState } from '../core/conf-state.js';
import type { ConfState, Entry, HardState, SnapshotMetadata } from '../core/types.js';
import { StorageError } from './errors.js';
import type { GroupWrite, LogStore, RecoveredGroup } from './log-store.js';
import { admitBatch, boundsOf, type GroupBounds } from './validate.js';

interface MemGroup {
  type: string;
  hardState: HardState;
  snapshot: SnapshotMetadata;
  membership?: { confState: ConfState; appliedIndex: number };
  /** Entries still stored, in index order (may start at or below snapshot.index after a partial compaction). */
  entries: Entry[];
}

const copyEntry = (e: Entry): Entry => ({ term: e.term, index: e.index, type: e.type, data: e.data.slice() });
const copySnap = (s: SnapshotMetadata): SnapshotMetadata => {
  const copy: SnapshotMetadata = { index: s.index, term: s.term, confState: cloneConfState(s.confState) };
  if (s.history) copy.history = { ...s.history };
  return copy;
};

export class MemoryLogStore implements LogStore {
  private readonly groups = new Map<string, MemGroup>();
  private readonly bounds = new Map<string, GroupBounds>();
  private isOpen = false;
  private failure: Error | undefined;
  private transactions = 0;
  private tail: Promise<void> = Promise.resolve();

  async open(): Promise<RecoveredGroup[]> {
    if (this.isOpen) throw new StorageError('storage_closed', 'the memory log store is already open');
    this.isOpen = true;
    const out: RecoveredGroup[] = [];
    this.bounds.clear();
    for (const [name, g] of this.groups) {
      const confState = g.membership && g.membership.appliedIndex >= g.snapshot.index ? g.membership.confState : g.snapshot.confState;
      const rec: RecoveredGroup = {
        group: name,
        type: g.type,
        hardState: { ...g.hardState },
        snapshot: copySnap(g.snapshot),
        confState: cloneConfState(confState),
        membershipIndex: g.membership && g.membership.appliedIndex >= g.snapshot.index ? g.membership.appliedIndex : g.snapshot.index,
        entries: g.entries.filter((e) => e.index > g.snapshot.index).map(copyEntry),
      };
      this.bounds.set(name, boundsOf(rec));
      out.push(rec);
    }
    return out;
  }

  write(batch: GroupWrite[]): Promise<void> {
    if (!this.isOpen) return Promise.reject(new StorageError('storage_closed', 'the memory log store is not open'));
    if (this.failure) return Promise.reject(this.failure);
    try {
      admitBatch(batch, this.bounds);
    } catch (e) {
      return Promise.reject(e);
    }
    // Apply at once (a crash after write() but before the promise resolves may keep it, like
    // a disk would); resolve in order, asynchronously.
    for (const gw of batch) this.apply(gw);
    this.transactions++;
    const p = this.tail.then(() => undefined);
    this.tail = p;
    return p;
  }

  private apply(gw: GroupWrite): void {
    let g = this.groups.get(gw.group);
    if (!g) {
      g = { type: gw.type ?? '', hardState: { term: 0, vote: 0, commit: 0 }, snapshot: { index: 0, term: 0, confState: emptyConfState() }, entries: [] };
      this.groups.set(gw.group, g);
    } else if (gw.type !== undefined) {
      g.type = gw.type;
    }
    if (gw.snapshot) {
      g.snapshot = copySnap(gw.snapshot);
      g.entries = [];
    }
    const ents = gw.entries ?? [];
    if (ents.length > 0) {
      const first = ents[0]!.index;
      // Stored entries are contiguous: drop the conflicting tail from `first` on.
      if (g.entries.length > 0) g.entries.length = Math.max(0, Math.min(g.entries.length, first - g.entries[0]!.index));
      for (const e of ents) g.entries.push(copyEntry(e));
    }
    if (gw.hardState) g.hardState = { term: gw.hardState.term, vote: gw.hardState.vote, commit: gw.hardState.commit };
    if (gw.membership) g.membership = { confState: cloneConfState(gw.membership.confState), appliedIndex: gw.membership.appliedIndex };
    if (gw.compact) {
      const to = gw.compact.compactTo;
      g.entries = g.entries.filter((e) => e.index > to);
      g.snapshot = copySnap(gw.compact.snapshot);
    }
    if (gw.remove) this.groups.delete(gw.group);
  }

  /** Approximate bytes held: payloads plus 32 bytes per entry. */
  async sizeOnDisk(): Promise<number> {
    let n = 0;
    for (const g of this.groups.values()) for (const e of g.entries) n += e.data.byteLength + 32;
    return n;
  }

  async close(): Promise<void> {
    await this.tail;
    this.isOpen = false;
  }

  /** For tests of the host: every later write() rejects with `error` (a failed disk). */
  failWrites(error: Error = new StorageError('storage_failed', 'injected storage failure')): void {
    this.failure = error;
  }

  stats(): { transactions: number } {
    return { transactions: this.transactions };
  }
}
