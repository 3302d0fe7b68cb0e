import type { ConfState, Entry, HardState, SnapshotMetadata } from '../core/types.js';

/**
 * One group's share of a round's write. Applied in this order: snapshot (replaces the log),
 * entries (an append that truncates any conflicting tail at entries[0].index), hard state,
 * membership, compaction.
 */
export interface GroupWrite {
  group: string;
  /** Set when the group is created: the state machine type to recreate it with at start-up. */
  type?: string;
  /** A snapshot was installed: drop every entry and record this as the log's base. */
  snapshot?: SnapshotMetadata;
  entries: Entry[];
  hardState?: HardState;
  /** The membership as of `appliedIndex` (recorded when a conf change is applied). */
  membership?: { confState: ConfState; appliedIndex: number };
  /** A local snapshot was taken at this index: record it as the base, delete entries <= compactTo. */
  compact?: { snapshot: SnapshotMetadata; compactTo: number };
  /** The group was deleted from this host: remove all of its rows. */
  remove?: boolean;
}

/** What a group looks like on disk at start-up. */
export interface RecoveredGroup {
  group: string;
  /** The state machine type recorded at creation ('' if none was). */
  type: string;
  hardState: HardState;
  /** The latest snapshot's metadata (index 0 if none). */
  snapshot: SnapshotMetadata;
  /** Membership as of `membershipIndex` (>= snapshot.index), or the snapshot's when never changed since. */
  confState: ConfState;
  membershipIndex: number;
  /** Every entry after the snapshot, in index order, checksums verified. */
  entries: Entry[];
}

/** Something open() fixed or skipped that an operator should know about. */
export interface StorageWarning {
  code: 'torn_tail_repaired' | 'integrity_check_skipped' | 'not_incremental_vacuum' | 'slow_write';
  message: string;
  group?: string;
  /** torn_tail_repaired: the first index that was deleted. */
  index?: number;
}

export interface LogStoreOptions {
  /** Truncate a torn tail of the last transaction instead of refusing to start. */
  repairTornTail?: boolean;
  /** Called (on the caller's thread) for each warning during open(); default: console.warn. */
  onWarning?: (warning: StorageWarning) => void;
}

/**
 * The durable log of every group on this host. A write() is one transaction with one fsync for
 * all groups (group commit); it resolves only once durable. Implementations never block the
 * event loop on the disk.
 */
export interface LogStore {
  /** Opens the store and returns every group it holds. Throws a CorruptLogError on bad data. */
  open(): Promise<RecoveredGroup[]>;
  write(batch: GroupWrite[]): Promise<void>;
  /** Durable size on disk in bytes (database and its journal). */
  sizeOnDisk(): Promise<number>;
  close(): Promise<void>;
}
