/**
 * What a state machine declared with `@StateMachine('type', { storage: 'disk' })` implements:
 * it keeps its own durable state (a database in its own folder of the node's data dir) instead
 * of living in memory and being snapshotted as JSON. Dragonboat calls this an on-disk state
 * machine (Raft thesis 5.2).
 *
 * The contract that makes it safe:
 * - Every `@Command` that returns records `ctx.index` atomically with its effects (same
 *   transaction; also when it changed nothing), one that throws leaves nothing behind, and
 *   `open` reports the last index recorded. On restart the host then applies only the entries
 *   after it: a restart with a million applied rows re-applies none of them. Effects may reach
 *   the disk lazily (no fsync per entry): after a crash `open` reports an older index and the
 *   log, which keeps every entry after the last snapshot, supplies the rest.
 * - A full snapshot is a file: `prepareSnapshot` pins the state synchronously at the last
 *   applied entry (for SQLite, a read transaction on a second connection), `saveSnapshot` writes
 *   that pinned state to a file while later commands go on applying, and `recoverFromSnapshot`
 *   replaces the state with such a file. The host streams the file to followers in chunks and
 *   never holds it in memory.
 * - With `sync`, the snapshots the host takes to compact the log hold no state (the sessions and
 *   the entry clock only): the state is in the machine's own files, made durable by `sync` before
 *   the log behind it is deleted. A full snapshot is then made only when a follower needs one.
 *   Without `sync`, every snapshot is a full copy.
 */
export interface OnDiskStateMachine {
  /**
   * Opens (creating it if new) the durable state in `dir`, a folder of its own in the node's
   * data dir; returns the index of the last entry applied to it (0 when new).
   */
  open(dir: string): number | Promise<number>;
  /**
   * Pins the state as of the last applied entry, synchronously; what it returns is handed to
   * `saveSnapshot` (or, if the snapshot is abandoned first, to `releaseSnapshot`). Later commands
   * must not change what it pinned.
   */
  prepareSnapshot(): unknown;
  /** Writes the pinned state to `file` (a new file) and releases the pin, also on failure. */
  saveSnapshot(pinned: unknown, file: string): Promise<void>;
  /** Optional: releases a pin when the snapshot was abandoned before `saveSnapshot` was called. */
  releaseSnapshot?(pinned: unknown): void;
  /**
   * Replaces the state with the one in `file` (written by `saveSnapshot` on some replica and
   * checksum-verified); the file is the machine's to move into place or to delete. The state
   * afterwards must report the snapshot's own applied index.
   */
  recoverFromSnapshot(file: string): Promise<void>;
  /**
   * Optional: makes everything applied so far durable. After it resolves, `open` (also after a
   * crash of the process or of the machine) must report at least the index the state had when
   * `sync` was called: that of the last command whose handler had returned, or of a snapshot
   * installed since by `recoverFromSnapshot`. For SQLite in WAL mode with synchronous=NORMAL, a
   * commit with synchronous=FULL that writes a page (it fsyncs the WAL, and with it every commit
   * before it; a checkpoint does not while a snapshot's reader pins an older state). The host
   * calls it before a snapshot without the state becomes the log's base; with it, the snapshots
   * taken every `--snapshot-entries` entries hold no state and cost no copy of it, and a full
   * one is made only when a follower needs it. Without it, every snapshot is a full one.
   */
  sync?(): void | Promise<void>;
  /** Closes the state (the node stops or the group is removed). */
  close(): void | Promise<void>;
}
