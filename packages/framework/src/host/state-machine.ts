import type { Entry } from '../core/types.js';
import type { SnapshotReader } from './snapshot-files.js';

/**
 * What the host needs from an application state machine of one group. `apply` must be
 * deterministic: every replica applies the same entries in the same order and must reach the
 * same state, so it may not read clocks, randomness or the network.
 */
export interface GroupStateMachine {
  /** Applies committed user entries in index order; returns one result per entry. */
  apply(entries: readonly Entry[]): unknown[] | Promise<unknown[]>;
  /** The state as of the last applied entry, serialised. */
  snapshot(): Uint8Array | Promise<Uint8Array>;
  /**
   * Optional: captures the state at the last applied entry cheaply and synchronously, to be
   * serialised later. With it, a snapshot of a large state does not stall applying entries or
   * heartbeats; without it, the host awaits snapshot() between rounds.
   */
  captureSnapshot?(o?: { full?: boolean }): { serialize(): Promise<Uint8Array>; chunks?(): AsyncIterable<Uint8Array>; abandon?(): void };
  /**
   * Optional: true when the snapshots captured without `{ full: true }` hold no state (an on-disk
   * machine whose own files, made durable first, hold it). They only serve as this node's log
   * base; a follower that needs a snapshot is sent one captured with `{ full: true }` for it.
   */
  readonly metadataSnapshots?: boolean;
  /** Replaces the state with a snapshot's. */
  restore(data: Uint8Array): void | Promise<void>;
  /**
   * Optional: restores from a stored snapshot read in pieces, so a snapshot larger than memory
   * is never loaded whole; `atStart` when the node restarts from its own latest snapshot.
   * Without it the host reads the data whole and calls restore().
   */
  restoreFrom?(reader: SnapshotReader, o: { atStart?: boolean }): Promise<void>;
  /** True for a state machine that keeps its own files: it is opened in a folder of the group's own. */
  readonly keepsFiles?: boolean;
  /**
   * Optional, for state machines that keep their own files: called once before anything else
   * (when the group is created or recovered) with a folder of the group's own.
   */
  open?(dir: string): Promise<void>;
  /** Optional: releases the state's files (the node stops or the group is removed). */
  close?(): Promise<void>;
}

/** Makes the state machine of a group (on creation and when a group is recovered at start). */
export type StateMachineFactory = (group: string, type: string) => GroupStateMachine;
