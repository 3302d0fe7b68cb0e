import { cloneConfState, confStateMembers, emptyConfState } from './conf-state.js';
import { RaftError, errCompacted, errUnavailable, invariant } from './errors.js';
import type { Storage } from './storage.js';
import { EMPTY_HARD_STATE, type ConfState, type Entry, type HardState, type Snapshot, type SnapshotMetadata } from './types.js';
import { entrySize } from './util.js';

/**
 * Stable storage kept in memory: what the simulator "persists", and the shape a durable store
 * keeps cached for the core. ents[0] is a dummy entry holding the snapshot's index and term.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = { ...EMPTY_HARD_STATE };
  private snap: Snapshot = { metadata: { index: 0, term: 0, confState: emptyConfState() }, data: new Uint8Array(0) };
  private ents: Entry[] = [{ term: 0, index: 0, type: 0, data: new Uint8Array(0) }];
  /** Head offset into ents: compaction advances it instead of splicing, and slices rarely. */
  private offset = 0;

  /**
   * A new node's storage. A founding member starts from a snapshot at index 1, term 1 holding the
   * founding configuration (and the empty application state): the log proper starts at 2, so a
   * node that joins later with an empty log cannot be caught up from entries — it gets that
   * snapshot, and with it the configuration that no log entry records. A joining node passes an
   * empty configuration and starts at index 0.
   */
  static bootstrap(confState: ConfState): MemoryStorage {
    const s = new MemoryStorage();
    const founding = confStateMembers(confState).length > 0;
    const base = founding ? bootstrapBase(confState) : { index: 0, term: 0, confState: cloneConfState(confState) };
    s.snap = { metadata: base, data: new Uint8Array(0) };
    s.ents = [{ term: base.term, index: base.index, type: 0, data: new Uint8Array(0) }];
    if (founding) s.hardState = bootstrapHardState();
    return s;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.snap.metadata.confState) };
  }

  /** The hard state as set last (not a copy: the host reads it every round). */
  currentHardState(): Readonly<HardState> {
    return this.hardState;
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  private get dummy(): Entry {
    return this.ents[this.offset]!;
  }

  firstIndex(): number {
    return this.dummy.index + 1;
  }

  lastIndex(): number {
    return this.ents[this.ents.length - 1]!.index;
  }

  term(index: number): number {
    const first = this.dummy.index;
    if (index < first) throw errCompacted(index);
    if (index > this.lastIndex()) throw errUnavailable(index);
    return this.ents[this.offset + index - first]!.term;
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    const first = this.dummy.index;
    if (lo <= first) throw errCompacted(lo);
    if (hi > this.lastIndex() + 1) throw errUnavailable(hi - 1);
    if (hi <= lo) return [];
    const start = this.offset + lo - first;
    const end = start + (hi - lo);
    // As limitSize, but walking only as far as maxSize allows: slicing the whole range first made
    // a replay (or a catch-up) of N entries in batches cost O(N²/batch).
    let stop = start + 1;
    let size = entrySize(this.ents[start]!);
    while (stop < end) {
      size += entrySize(this.ents[stop]!);
      if (size > maxSize) break;
      stop++;
    }
    return this.ents.slice(start, stop);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the log with a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    if (snap.metadata.index <= this.snap.metadata.index) {
      throw new RaftError('snapshot_out_of_date', `snapshot ${snap.metadata.index} is older than ${this.snap.metadata.index}`);
    }
    this.snap = snap;
    this.ents = [{ term: snap.metadata.term, index: snap.metadata.index, type: 0, data: new Uint8Array(0) }];
    this.offset = 0;
  }

  /** Records a snapshot of the applied state at `index` (which must be in the log). */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) {
      throw new RaftError('snapshot_out_of_date', `snapshot ${index} is not newer than ${this.snap.metadata.index}`);
    }
    invariant(index <= this.lastIndex(), `snapshot index ${index} beyond last index ${this.lastIndex()}`);
    this.snap = { metadata: { index, term: this.term(index), confState: cloneConfState(confState) }, data };
    return this.snap;
  }

  /** Drops entries up to and including `index`; the caller ensures index <= applied. */
  compact(index: number): void {
    const first = this.dummy.index;
    if (index <= first) return;
    invariant(index <= this.lastIndex(), `compact ${index} beyond last index ${this.lastIndex()}`);
    const e = this.ents[this.offset + index - first]!;
    this.offset += index - first;
    this.ents[this.offset] = { term: e.term, index: e.index, type: 0, data: new Uint8Array(0) };
    // Reclaim the dead head once it dominates, so memory stays flat under steady compaction.
    if (this.offset > 1024 && this.offset * 2 > this.ents.length) {
      this.ents = this.ents.slice(this.offset);
      this.offset = 0;
    }
  }

  /** Appends entries, truncating any conflicting tail; entries already compacted are skipped. */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return;
    if (first > entries[0]!.index) entries = entries.slice(first - entries[0]!.index);
    const at = entries[0]!.index - this.dummy.index;
    const live = this.ents.length - this.offset;
    invariant(at <= live, `missing log entry: last ${this.lastIndex()}, appending at ${entries[0]!.index}`);
    if (at < live) this.ents.length = this.offset + at;
    for (const e of entries) this.ents.push(e);
  }
}

/** The snapshot metadata a founding member starts from (see MemoryStorage.bootstrap). */
export function bootstrapBase(confState: ConfState): SnapshotMetadata {
  if (confState.votersOutgoing.length > 0) throw new RaftError('config_invalid', 'a group cannot be founded in a joint configuration');
  if (confState.voters.length === 0) throw new RaftError('config_invalid', 'a group needs at least one founding voter');
  return { index: 1, term: 1, confState: cloneConfState(confState) };
}

export function bootstrapHardState(): HardState {
  return { term: 1, vote: 0, commit: 1 };
}
